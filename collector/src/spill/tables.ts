// A batch as it moves between the buffer, the spill and ClickHouse: rows grouped
// by table. Journal and spool files hold one record per line.
import type { ClickHouseClient } from '../clickhouse/client.js';

export type Tables = Record<string, object[]>;
export type TableRecord = { table: string; row: object };

export function journalLine(rec: TableRecord): string {
  return `${JSON.stringify({ t: rec.table, r: rec.row })}\n`;
}

/** Reads journal lines back; a torn last line (the process died mid-write, never acknowledged) is skipped. */
export function parseJournal(text: string): { tables: Tables; rows: number } {
  const tables: Tables = {};
  let rows = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    let rec: { t?: unknown; r?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue;
    }
    if (typeof rec.t !== 'string' || typeof rec.r !== 'object' || rec.r === null) continue;
    (tables[rec.t] ??= []).push(rec.r);
    rows++;
  }
  return { tables, rows };
}

export function countRows(tables: Tables): number {
  let n = 0;
  for (const rows of Object.values(tables)) n += rows.length;
  return n;
}

/** Inserts every table's rows; hits first, so links never point at a visit not yet stored. */
export async function insertTables(client: ClickHouseClient, tables: Tables, timeoutMs: number): Promise<void> {
  for (const [table, values] of Object.entries(tables)) {
    if (values.length === 0) continue;
    await client.insert({ table, values, format: 'JSONEachRow', abort_signal: AbortSignal.timeout(timeoutMs) });
  }
}
