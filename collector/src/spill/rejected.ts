// Telling a batch ClickHouse will never take (its data cannot be parsed) from a
// ClickHouse that is down or busy. Retrying the first kind forever would stall
// every batch behind it, so the replay sets it aside in a `bad-…` file instead.

/** Error codes that mean "this data cannot be inserted", on 18.16 and current servers. */
const DATA_ERRORS = new Set([
  6, // CANNOT_PARSE_TEXT
  16, // NO_SUCH_COLUMN_IN_TABLE
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (a lone surrogate)
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
]);

/** The ClickHouse error code of an insert failure, or null (network, timeout, …). */
export function clickhouseCode(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  const m = /^Code: (\d+)/.exec(String((err as { message?: unknown }).message ?? ''));
  return m ? Number(m[1]) : null;
}

export function isRejectedData(err: unknown): boolean {
  const code = clickhouseCode(err);
  return code !== null && DATA_ERRORS.has(code);
}
