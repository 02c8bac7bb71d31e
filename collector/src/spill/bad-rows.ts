// Rows ClickHouse refused for their data, kept for a person to look at: one JSON
// line per row in `bad-rows-<pid>-<start>.jsonl` in the spool directory, with
// the stream and table it was meant for, the row as it was sent, and
// ClickHouse's error code and message. The replay never reads these files
// (spill/files.ts): a refused row would be refused again.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { clickhouseCode } from './rejected.js';
import { tableOfStream } from './tables.js';

export type BadRow = { stream: string; table: string; row: string; code: number | null; error: string; at: string };

export function badRowsPath(dir: string, pid: number, start: number): string {
  return join(dir, `bad-rows-${pid}-${start}.jsonl`);
}

export class BadRows {
  constructor(readonly path: string) {}

  /** Adds one refused row (its bytes without the final newline). Throws when the disk does: the row then stays where it was. */
  add(stream: string, row: Buffer, err: unknown): BadRow {
    const bad: BadRow = {
      stream,
      table: tableOfStream(stream),
      row: row.toString('utf8', 0, row.at(-1) === 0x0a ? row.length - 1 : row.length),
      code: clickhouseCode(err),
      error: err instanceof Error ? err.message : String(err),
      at: new Date().toISOString(),
    };
    appendFileSync(this.path, `${JSON.stringify(bad)}\n`);
    return bad;
  }
}
