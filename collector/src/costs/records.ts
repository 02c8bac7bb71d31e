// The upload formats of costs and exchange rates: CSV with a header row naming
// the columns (comma, semicolon or tab), or JSON (an array of objects, or
// {rows:[…]}). Each file is checked whole: any bad row refuses the upload with
// every row's reason, so a file is stored entirely or not at all.
import { parse as parseCsv } from 'csv-parse/sync';
import type { z } from 'zod';

export type RowProblem = { row: number; reason: string };
export type Checked<T> = { rows: T[]; problems: RowProblem[] };

export const MAX_UPLOAD_ROWS = 100_000;

/** The records of a CSV body, or the reason it is not one. */
export function csvRecords(body: string): unknown[] | RowProblem {
  try {
    return parseCsv(body, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
      delimiter: [',', ';', '\t'],
    });
  } catch (err) {
    return { row: 0, reason: `CSV: ${(err as Error).message}` };
  }
}

/** The records of a JSON body, or the reason it is not one. */
export function jsonRecords(body: string): unknown[] | RowProblem {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { row: 0, reason: 'body is not JSON' };
  }
  const list = Array.isArray(data) ? data : (data as { rows?: unknown } | null)?.rows;
  return Array.isArray(list) ? list : { row: 0, reason: 'expected an array of rows or {"rows": [...]}' };
}

/** Every record through `schema` and then `make` (which may refuse a valid-looking row with its reason); rows numbered from 1. */
export function checkRecords<S extends z.ZodType, T>(records: unknown[] | RowProblem, schema: S, make: (r: z.infer<S>) => T | string): Checked<T> {
  if (!Array.isArray(records)) return { rows: [], problems: [records] };
  if (records.length > MAX_UPLOAD_ROWS) return { rows: [], problems: [{ row: 0, reason: `more than ${MAX_UPLOAD_ROWS} rows` }] };
  const rows: T[] = [];
  const problems: RowProblem[] = records.length === 0 ? [{ row: 0, reason: 'no rows' }] : [];
  records.forEach((rec, i) => {
    const r = schema.safeParse(rec);
    const made = r.success ? make(r.data) : r.error.issues.map((x) => `${x.path.join('.') || 'row'}: ${x.message}`).join('; ');
    if (typeof made === 'string') problems.push({ row: i + 1, reason: made });
    else rows.push(made);
  });
  return { rows, problems };
}
