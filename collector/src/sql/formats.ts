// The Content-Type of an answer in a ClickHouse output format, as ClickHouse's
// HTTP interface gives it (its formats' getContentType): clients and browsers
// decide by it how to show or save the answer.

/** ClickHouse's default output format over HTTP. */
export const DEFAULT_FORMAT = 'TabSeparated';

export function contentType(format: string): string {
  const f = format.toLowerCase();
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('json') || f === 'ndjson') return 'application/json; charset=UTF-8';
  if (f.startsWith('csv')) return `text/csv; charset=UTF-8; header=${f.includes('withnames') ? 'present' : 'absent'}`;
  return 'text/plain; charset=UTF-8';
}
