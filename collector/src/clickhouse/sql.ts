// The one escaper for values spliced into ClickHouse SQL. ClickHouse 18.16 has no
// query parameters, so literals are built here and nowhere else. Inserted values
// never come through here: they are sent as rows (JSONEachRow, or TabSeparated for hits), never as SQL.

/** A string literal. Backslash first, then quote: doubling quotes alone is not safe. */
export function str(value: string): string {
  return `'${value.toWellFormed().replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A numeric literal; anything not a finite number is refused. */
export function num(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`not a finite number: ${value}`);
  return String(value);
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$/;

/** A `YYYY-MM-DD` or `YYYY-MM-DD hh:mm:ss` literal (UTC), checked by pattern. */
export function dateTime(value: string): string {
  if (!DATE_TIME.test(value)) throw new TypeError(`not a date: ${value}`);
  return `'${value}'`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An identifier (database, table, column); only plain names pass. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new TypeError(`not a plain identifier: ${name}`);
  return name;
}

/** Any name as a quoted identifier (`…`, backslash first, then the backquote), for names that need not be plain. */
export function quotedIdent(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** Formats a Date (or epoch ms) as ClickHouse's `YYYY-MM-DD hh:mm:ss` in UTC. */
export function toDateTimeString(at: Date | number): string {
  const d = typeof at === 'number' ? new Date(at) : at;
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** String literals for `IN (…)`. */
export function strList(values: string[]): string {
  return values.map(str).join(', ');
}

/** `list` in slices of `size`, so an `IN (…)` list stays well under the server's max_query_size (256 KiB). */
export function slices<T>(list: T[], size = 1000): T[][] {
  return Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
}
