// The URL of a request to the SQL endpoint, read the way ClickHouse's HTTP
// interface reads it: the query, its database and default format, its id,
// `param_*` query parameters, and settings. Which settings an analyst may give
// is decided here and nowhere else: those that shape the output, the limits the
// analyst may lower (never raise), and the HTTP ones clients send. Every other
// name is refused with its reason, as are credentials and sessions in the URL.
import type { IncomingHttpHeaders } from 'node:http';
import { CODE } from './errors.js';
import type { Refusal } from './guard.js';
import { PARAM_NAME } from './params.js';

export type SqlLimits = {
  /** max_execution_time, seconds (SQL_MAX_SECONDS). */
  maxSeconds: number;
  /** max_result_bytes (SQL_MAX_RESULT_MB). */
  maxResultBytes: number;
};

export type RequestPlan = {
  /** The `query` parameter (the body, if any, follows it after a newline). */
  query: string | undefined;
  database: string | undefined;
  /** default_format (or the X-ClickHouse-Format header). */
  defaultFormat: string | undefined;
  queryId: string | undefined;
  params: Map<string, string>;
  /** The analyst's settings for the engine, checked, without the limits and readonly. */
  settings: Record<string, string>;
  /** readonly as asked (1 or 2; 2 when not asked). */
  readonly: '1' | '2';
  maxExecutionTime: number;
  maxResultBytes: number;
  /** enable_http_compression=1: the answer is compressed when the client accepts it. */
  compress: boolean;
  /** http_zlib_compression_level (1–9). */
  compressionLevel: number;
};

/** URL parameters whose value is a credential or a session: refused, since URLs end up in logs and sessions are not kept. */
const CREDENTIALS = new Set(['user', 'password', 'quota_key']);
const SESSION = new Set(['session_id', 'session_timeout', 'session_check']);
/** Parameters of ClickHouse's HTTP interface that are not settings and change nothing here. */
const IGNORED = new Set(['buffer_size', 'stacktrace', 'client_protocol_version']);

/** Settings the analyst may give by name, each with the values it takes. */
const BOOL = /^[01]$|^(?:true|false)$/i;
const UINT = /^\d{1,19}$/;
const NAMED: Record<string, RegExp> = {
  extremes: BOOL,
  join_use_nulls: BOOL,
  max_result_rows: UINT,
  max_rows_to_read: UINT,
  max_bytes_to_read: UINT,
  read_overflow_mode: /^(?:throw|break)$/,
  timeout_overflow_mode: /^(?:throw|break)$/,
  date_time_output_format: /^(?:simple|iso|unix_timestamp)$/,
  date_time_input_format: /^(?:basic|best_effort|best_effort_us)$/,
  session_timezone: /^[A-Za-z0-9_+\-/]{0,64}$/,
  wait_end_of_query: BOOL,
  send_progress_in_http_headers: BOOL,
  cancel_http_readonly_queries_on_client_close: BOOL,
  enable_http_compression: BOOL,
};
/** Families of settings that shape the output (or the input of format()/values()), and the HTTP ones. */
const PREFIXES = ['output_format_', 'input_format_', 'format_csv_', 'format_tsv_', 'http_'];
/** …but none that names a file, a path, a directory, an address or a schema file: output_format_schema writes a file. */
const REACHES_OUTSIDE = /(?:^|_)(?:file|path|dir|directory|url|schema)(?:_|$)/;
/** A value given as a setting: plain text. No backslash or quote, which would change meaning between engines; no control character but the tab. */
const PLAIN_VALUE = /^[^\\'\x00-\x08\x0a-\x1f\x7f]{0,1024}$/;
/** Settings the endpoint applies to the answer itself, not passed to the engine. */
const ANSWER_SETTINGS = new Set(['enable_http_compression', 'http_zlib_compression_level', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms']);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const FORMAT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** A query id travels back in a header: printable ASCII only. */
const QUERY_ID = /^[\x20-\x7e]{1,256}$/;

const refusal = (reason: string, code: number, subject?: string): { refusal: Refusal } => ({ refusal: subject === undefined ? { reason, code } : { reason, code, subject } });

export const settingAllowed = (name: string): boolean =>
  name in NAMED || (PREFIXES.some((p) => name.startsWith(p)) && !REACHES_OUTSIDE.test(name));

/** A refusal for credentials or a session in the URL: checked before the token, so the reason is given even without one. */
export function urlCredentials(search: URLSearchParams): { refusal: Refusal } | null {
  for (const name of search.keys()) {
    if (CREDENTIALS.has(name)) return refusal('credentials_in_url', CODE.BAD_ARGUMENTS, name);
    if (SESSION.has(name)) return refusal('sessions_not_supported', CODE.BAD_ARGUMENTS, name);
  }
  return null;
}

/** A limit given by the analyst: at most the endpoint's; 0 (no limit) becomes the endpoint's. */
function lowered(name: string, given: string | undefined, cap: number, integer: boolean): number | { refusal: Refusal } {
  if (given === undefined) return cap;
  if (!(integer ? UINT : /^\d{1,9}(?:\.\d{1,6})?$/).test(given)) return refusal('bad_setting_value', CODE.BAD_ARGUMENTS, name);
  const n = Number(given);
  if (n === 0) return cap;
  if (n > cap) return refusal('setting_above_limit', CODE.SETTING_CONSTRAINT_VIOLATION, `${name} (at most ${cap})`);
  return n;
}

/** Reads a request's URL (and the X-ClickHouse-Database/-Format headers) into what to run, or the first refusal. */
export function planRequest(search: URLSearchParams, headers: IncomingHttpHeaders, limits: SqlLimits): RequestPlan | { refusal: Refusal } {
  const inUrl = urlCredentials(search);
  if (inUrl) return inUrl;
  const seen = new Set<string>();
  const params = new Map<string, string>();
  const settings: Record<string, string> = {};
  const one: Record<string, string> = {};
  for (const [name, value] of search) {
    if (seen.has(name)) return refusal('repeated_parameter', CODE.BAD_ARGUMENTS, name);
    seen.add(name);
    if (name.startsWith('param_')) {
      const p = name.slice('param_'.length);
      if (!PARAM_NAME.test(p)) return refusal('bad_query_parameter', CODE.BAD_QUERY_PARAMETER, name);
      params.set(p, value);
      continue;
    }
    switch (name) {
      case 'query':
      case 'database':
      case 'default_format':
      case 'query_id':
      case 'readonly':
      case 'max_execution_time':
      case 'max_result_bytes':
      case 'result_overflow_mode':
      case 'compress':
      case 'decompress':
        one[name] = value;
        continue;
    }
    if (IGNORED.has(name)) continue;
    if (!settingAllowed(name)) return refusal('setting_not_allowed', CODE.READONLY, name);
    const rule = NAMED[name];
    if (!(rule ?? PLAIN_VALUE).test(value)) return refusal('bad_setting_value', CODE.BAD_ARGUMENTS, name);
    settings[name] = value;
  }

  if (one.readonly !== undefined && one.readonly !== '1' && one.readonly !== '2') return refusal('readonly_required', CODE.READONLY, `readonly=${one.readonly} (1 or 2)`);
  if (one.result_overflow_mode !== undefined && one.result_overflow_mode !== 'throw') return refusal('setting_above_limit', CODE.SETTING_CONSTRAINT_VIOLATION, 'result_overflow_mode (throw only)');
  // ClickHouse's own compression of the answer (compress=1) is a block format of its own; HTTP compression is offered instead.
  if (one.compress !== undefined && one.compress !== '0') return refusal('compress_not_supported', CODE.NOT_IMPLEMENTED, 'compress=1 (use enable_http_compression=1)');
  if (one.decompress !== undefined && one.decompress !== '0') return refusal('compress_not_supported', CODE.NOT_IMPLEMENTED, 'decompress=1');
  const maxExecutionTime = lowered('max_execution_time', one.max_execution_time, limits.maxSeconds, false);
  if (typeof maxExecutionTime !== 'number') return maxExecutionTime;
  const maxResultBytes = lowered('max_result_bytes', one.max_result_bytes, limits.maxResultBytes, true);
  if (typeof maxResultBytes !== 'number') return maxResultBytes;

  const header = (h: string) => {
    const v = headers[h];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const database = one.database ?? header('x-clickhouse-database');
  if (database !== undefined) {
    if (!IDENTIFIER.test(database)) return refusal('bad_database', CODE.BAD_ARGUMENTS, database.slice(0, 64));
    // Unqualified names would then be system tables, past the guard's list.
    if (database.toLowerCase() === 'system') return refusal('database_not_allowed', CODE.ACCESS_DENIED, database);
  }
  const defaultFormat = one.default_format ?? header('x-clickhouse-format');
  if (defaultFormat !== undefined && !FORMAT_NAME.test(defaultFormat)) return refusal('bad_format', CODE.BAD_ARGUMENTS, defaultFormat.slice(0, 64));
  if (one.query_id !== undefined && !QUERY_ID.test(one.query_id)) return refusal('bad_query_id', CODE.BAD_ARGUMENTS);

  const compress = /^(?:1|true)$/i.test(settings.enable_http_compression ?? '');
  const level = Number(settings.http_zlib_compression_level ?? 3);
  if (!Number.isInteger(level) || level < 1 || level > 9) return refusal('bad_setting_value', CODE.BAD_ARGUMENTS, 'http_zlib_compression_level');
  for (const name of ANSWER_SETTINGS) delete settings[name];

  return {
    query: one.query,
    database,
    defaultFormat,
    queryId: one.query_id,
    params,
    settings,
    readonly: one.readonly === '1' ? '1' : '2',
    maxExecutionTime,
    maxResultBytes,
    compress,
    compressionLevel: level,
  };
}

/**
 * The settings the engine gets: the analyst's, then the limits, the format, and
 * readonly last (set first, readonly = 1 would forbid the settings after it on
 * an engine that applies them one by one). An error after rows were sent would
 * only end the body, so the engine is asked to finish the query before
 * answering, unless the analyst streams on purpose (wait_end_of_query=0).
 */
export function engineSettings(plan: RequestPlan, format: string): Record<string, string | number> {
  return {
    wait_end_of_query: 1,
    ...plan.settings,
    max_execution_time: plan.maxExecutionTime,
    max_result_bytes: plan.maxResultBytes,
    result_overflow_mode: 'throw',
    default_format: format,
    readonly: Number(plan.readonly),
  };
}
