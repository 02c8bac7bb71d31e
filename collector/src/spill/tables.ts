// A batch as it moves between the buffer, the spill and ClickHouse: rows grouped
// by table, each row already serialised as its JSONEachRow line. A row is turned
// into JSON once, on arrival; the journal, the spill and the insert all reuse
// that text. Journal and spool files hold one `<table>\t<row json>` per line.
import type { ClickHouseClient } from '../clickhouse/client.js';

export type Tables = Record<string, string[]>;
export type TableRecord = { table: string; json: string };

export function journalLine(rec: TableRecord): string {
  return `${rec.table}\t${rec.json}\n`;
}

/** Reads journal lines back; a torn last line (the process died mid-write, never acknowledged) is skipped. */
export function parseJournal(text: string): { tables: Tables; rows: number } {
  const tables: Tables = {};
  let rows = 0;
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const json = line.slice(tab + 1);
    try {
      const row: unknown = JSON.parse(json);
      if (typeof row !== 'object' || row === null) continue;
    } catch {
      continue;
    }
    (tables[line.slice(0, tab)] ??= []).push(json);
    rows++;
  }
  return { tables, rows };
}

/** The JSON handling of the client that inserts batches: rows arrive as ready JSON text. */
export const PRESERIALISED = {
  stringify: (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value)),
};

/**
 * Inserts every table's rows; hits first, so links never point at a visit not
 * yet stored. `client` must be created with PRESERIALISED JSON handling.
 */
export async function insertTables(client: ClickHouseClient, tables: Tables, timeoutMs: number): Promise<void> {
  for (const [table, values] of Object.entries(tables)) {
    if (values.length === 0) continue;
    await client.insert({ table, values, format: 'JSONEachRow', abort_signal: AbortSignal.timeout(timeoutMs) });
  }
}
