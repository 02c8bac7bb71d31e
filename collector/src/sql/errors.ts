// Errors as ClickHouse's HTTP interface gives them, so that clients made for it
// (@clickhouse/client, JDBC, BI tools) show them: the body `Code: N.
// DB::Exception: <text> (NAME)`, the header X-ClickHouse-Exception-Code, and the
// status ClickHouse gives that code. The engine's own errors pass through with
// their code and text; the endpoint's refusals take the code that means the same
// (ACCESS_DENIED for the guard, READONLY for a write, …) with a named reason first.
import type { Response } from 'express';

/** The codes the endpoint answers with itself. */
export const CODE = {
  UNSUPPORTED_METHOD: 1,
  BAD_ARGUMENTS: 36,
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  READONLY: 164,
  REQUIRED_PASSWORD: 194,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  SOCKET_TIMEOUT: 209,
  NETWORK_ERROR: 210,
  QUERY_IS_TOO_LARGE: 229,
  SETTING_CONSTRAINT_VIOLATION: 452,
  UNKNOWN_QUERY_PARAMETER: 456,
  BAD_QUERY_PARAMETER: 457,
  ACCESS_DENIED: 497,
  AUTHENTICATION_FAILED: 516,
  UNSUPPORTED_MEDIA_TYPE: 779,
  UNKNOWN_EXCEPTION: 1002,
} as const;

/**
 * Names of the codes an analyst meets most. 26.x puts the name in its message
 * and it is taken from there; 18.16 does not, and is named from here.
 */
const NAMES: Record<number, string> = {
  1: 'UNSUPPORTED_METHOD', 6: 'CANNOT_PARSE_TEXT', 8: 'THERE_IS_NO_COLUMN', 10: 'NOT_FOUND_COLUMN_IN_BLOCK',
  15: 'DUPLICATE_COLUMN', 16: 'NO_SUCH_COLUMN_IN_TABLE', 25: 'CANNOT_PARSE_ESCAPE_SEQUENCE', 26: 'CANNOT_PARSE_QUOTED_STRING',
  27: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED', 35: 'TOO_FEW_ARGUMENTS_FOR_FUNCTION', 36: 'BAD_ARGUMENTS', 37: 'UNKNOWN_ELEMENT_IN_AST',
  38: 'CANNOT_PARSE_DATE', 41: 'CANNOT_PARSE_DATETIME', 42: 'NUMBER_OF_ARGUMENTS_DOESNT_MATCH', 43: 'ILLEGAL_TYPE_OF_ARGUMENT',
  44: 'ILLEGAL_COLUMN', 46: 'UNKNOWN_FUNCTION', 47: 'UNKNOWN_IDENTIFIER', 48: 'NOT_IMPLEMENTED', 49: 'LOGICAL_ERROR',
  50: 'UNKNOWN_TYPE', 53: 'TYPE_MISMATCH', 56: 'UNKNOWN_STORAGE', 60: 'UNKNOWN_TABLE', 62: 'SYNTAX_ERROR',
  63: 'UNKNOWN_AGGREGATE_FUNCTION', 69: 'ARGUMENT_OUT_OF_BOUND', 70: 'CANNOT_CONVERT_TYPE', 72: 'CANNOT_PARSE_NUMBER',
  73: 'UNKNOWN_FORMAT', 78: 'UNKNOWN_TYPE_OF_QUERY', 80: 'INCORRECT_QUERY', 81: 'UNKNOWN_DATABASE', 115: 'UNKNOWN_SETTING',
  117: 'INCORRECT_DATA', 123: 'UNKNOWN_TYPE_OF_AST_NODE', 152: 'UNKNOWN_DIRECTION_OF_SORTING', 153: 'ILLEGAL_DIVISION',
  158: 'TOO_MANY_ROWS', 159: 'TIMEOUT_EXCEEDED', 160: 'TOO_SLOW', 164: 'READONLY', 167: 'TOO_DEEP_AST', 168: 'TOO_BIG_AST',
  179: 'MULTIPLE_EXPRESSIONS_FOR_ALIAS', 184: 'ILLEGAL_AGGREGATION', 190: 'SIZES_OF_ARRAYS_DONT_MATCH', 192: 'UNKNOWN_USER',
  193: 'WRONG_PASSWORD', 194: 'REQUIRED_PASSWORD', 201: 'QUOTA_EXCEEDED', 202: 'TOO_MANY_SIMULTANEOUS_QUERIES',
  209: 'SOCKET_TIMEOUT', 210: 'NETWORK_ERROR', 215: 'NOT_AN_AGGREGATE', 223: 'UNEXPECTED_AST_STRUCTURE',
  229: 'QUERY_IS_TOO_LARGE', 241: 'MEMORY_LIMIT_EXCEEDED', 258: 'UNION_ALL_RESULT_STRUCTURES_MISMATCH',
  290: 'LIMIT_EXCEEDED', 291: 'DATABASE_ACCESS_DENIED', 307: 'TOO_MANY_BYTES', 321: 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
  336: 'UNKNOWN_DATABASE_ENGINE', 352: 'AMBIGUOUS_COLUMN_NAME', 376: 'CANNOT_PARSE_UUID', 386: 'NO_COMMON_TYPE',
  394: 'QUERY_WAS_CANCELLED', 395: 'FUNCTION_THROW_IF_VALUE_IS_NON_ZERO', 396: 'TOO_MANY_ROWS_OR_BYTES',
  403: 'INVALID_JOIN_ON_EXPRESSION', 407: 'DECIMAL_OVERFLOW', 427: 'CANNOT_COMPILE_REGEXP', 439: 'CANNOT_SCHEDULE_TASK',
  440: 'INVALID_LIMIT_EXPRESSION', 441: 'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING', 452: 'SETTING_CONSTRAINT_VIOLATION',
  456: 'UNKNOWN_QUERY_PARAMETER', 457: 'BAD_QUERY_PARAMETER', 472: 'READONLY_SETTING', 497: 'ACCESS_DENIED',
  511: 'UNKNOWN_ROLE', 512: 'SET_NON_GRANTED_ROLE', 516: 'AUTHENTICATION_FAILED', 675: 'CANNOT_PARSE_IPV4',
  676: 'CANNOT_PARSE_IPV6', 779: 'UNSUPPORTED_MEDIA_TYPE', 1000: 'POCO_EXCEPTION', 1001: 'STD_EXCEPTION',
  1002: 'UNKNOWN_EXCEPTION',
};

/**
 * The status of a code: ClickHouse's own table (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp),
 * and for the codes it leaves at 500 but the endpoint gives for a refusal, a 4xx
 * that says so (a 500 invites a retry). READONLY is 403, as ClickHouse gave it before.
 */
const STATUS: Record<number, number> = {
  194: 401,
  192: 403, 193: 403, 516: 403, 512: 403, 497: 403, 164: 403, 452: 403,
  36: 400, 427: 400, 6: 400, 25: 400, 26: 400, 38: 400, 41: 400, 72: 400, 441: 400, 675: 400, 676: 400, 27: 400,
  376: 400, 15: 400, 44: 400, 37: 400, 123: 400, 8: 400, 167: 400, 168: 400, 223: 400, 62: 400, 117: 400, 53: 400,
  321: 400, 456: 400, 457: 400,
  60: 404, 46: 404, 47: 404, 50: 404, 56: 404, 81: 404, 115: 404, 152: 404, 63: 404, 73: 404, 336: 404, 78: 404, 511: 404,
  229: 413,
  48: 501,
  209: 503, 76: 503, 439: 503, 202: 503, 210: 503,
  381: 411,
  159: 408,
  779: 415,
  1: 405,
};

export const statusOf = (code: number): number => STATUS[code] ?? 500;

export type SqlError = { code: number; text: string; name?: string };

/** An error answer: `Code: N. DB::Exception: <text> (NAME)`, with its code in X-ClickHouse-Exception-Code. */
export function answerError(res: Response, e: SqlError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const name = e.name ?? NAMES[e.code];
  const body = `Code: ${e.code}. DB::Exception: ${e.text}${name ? ` (${name})` : ''}\n`;
  res.removeHeader('Content-Encoding');
  res.statusCode = statusOf(e.code);
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=UTF-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-ClickHouse-Exception-Code': String(e.code),
    ...extraHeaders,
  };
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end(body);
}

const ENGINE_TEXT = /^Code: (\d+)[.,]\s*(?:e\.displayText\(\) = )?(?:DB::Exception: )?([\s\S]*?)(?:,? e\.what\(\) = [\w:]+)?\s*$/;
/** The name 26.x puts at the end of its message, `… (UNKNOWN_TABLE)`, and the `(version …)` after it. */
const TRAILING_NAME = /\s*\(([A-Z][A-Z0-9_]{2,})\)(?:\s*\(version [^)]*\))?\s*$/;

/**
 * The engine's error as code and text, or null when the error is not the
 * engine's (a connection refused, a timeout). @clickhouse/client gives 26.x's
 * errors parsed (a numeric `code`, its `type`) and 18.16's as their raw text
 * (`Code: 60, e.displayText() = DB::Exception: …, e.what() = DB::Exception`).
 */
export function engineError(err: unknown): SqlError | null {
  if (!(err instanceof Error)) return null;
  const { code, type } = err as Error & { code?: unknown; type?: unknown };
  if (typeof code === 'string' && /^\d+$/.test(code)) {
    const e: SqlError = { code: Number(code), text: err.message.trim() };
    if (typeof type === 'string' && type) e.name = type;
    return e;
  }
  const m = ENGINE_TEXT.exec(err.message.trim());
  if (!m) return null;
  let text = m[2]!.trim();
  let name: string | undefined;
  const named = TRAILING_NAME.exec(text);
  if (named) {
    name = named[1];
    text = text.slice(0, named.index).trim();
  }
  return name ? { code: Number(m[1]), text, name } : { code: Number(m[1]), text };
}

/** An error that is not the engine's answer: the engine could not be reached, or the endpoint failed. */
export function transportError(err: unknown): SqlError {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+/.test(code)) return { code: CODE.NETWORK_ERROR, text: 'engine_unavailable: the ClickHouse engine did not answer' };
  if (err instanceof Error && /timeout/i.test(err.message)) return { code: CODE.SOCKET_TIMEOUT, text: 'engine_timeout: the ClickHouse engine did not answer in time' };
  return { code: CODE.UNKNOWN_EXCEPTION, text: 'internal_error' };
}
