// A batch as it moves between the buffer, the spill and ClickHouse. On the way
// in, each row is serialised once, as a journal line `<stream>\t<row>\n`, where
// the stream names the table and the row's format: `<table>` for a JSONEachRow
// row, `<table>.tsv` for a TabSeparated row in the table's TSV_COLUMNS order
// (hits, the bulk of the traffic; JSON hit rows from earlier versions replay as they are);
// the journal, the in-memory batch (Buffers, outside the JavaScript heap) and
// the spill all hold those same bytes. Only when a batch is inserted are its
// lines split by table into insert bodies, with one pass over the bytes.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { HIT_COLUMNS } from '../hits/row.js';

/** Each stream's rows as the body of its insert: lines, each ending in `\n`. */
export type Tables = Record<string, Buffer>;

/** The columns of the tables written as TabSeparated, in the order of their fields. */
const TSV_COLUMNS: Record<string, readonly string[]> = { hits: HIT_COLUMNS };

/** The stream of a table's TabSeparated rows. */
export const tsvStream = (table: string) => `${table}.tsv`;

export function journalLine(stream: string, row: string): string {
  return `${stream}\t${row}\n`;
}

/** The INSERT that takes a stream's body. */
function insertStatement(stream: string): string {
  if (!STREAM.test(stream)) throw new Error(`not a stream name: ${JSON.stringify(stream)}`);
  if (!stream.endsWith('.tsv')) return `INSERT INTO ${stream} FORMAT JSONEachRow`;
  const table = stream.slice(0, -'.tsv'.length);
  const columns = TSV_COLUMNS[table];
  if (!columns) throw new Error(`no TabSeparated columns for ${table}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) FORMAT TabSeparated`;
}

const NL = 0x0a;
const TAB = 0x09;
/** A stream name as it may appear in a journal line (its table is written into the INSERT). */
const STREAM = /^[A-Za-z_][A-Za-z0-9_]*(\.tsv)?$/;

/**
 * Journal text, as written by one group commit. `excluded` holds the line
 * numbers (within this chunk) of rows left out of the batch: hits the visit
 * throttle or the rate limit refused after they were journaled.
 */
export type JournalChunk = { buf: Buffer; excluded: number[] | null };

/** The journal lines of the chunks without the excluded ones, as one buffer. */
export function keptLines(chunks: readonly JournalChunk[]): Buffer {
  const parts: Buffer[] = [];
  for (const { buf, excluded } of chunks) {
    if (excluded === null) {
      parts.push(buf);
      continue;
    }
    const skip = new Set(excluded);
    let start = 0;
    for (let line = 0; start < buf.length; line++) {
      let end = buf.indexOf(NL, start);
      if (end === -1) end = buf.length - 1;
      if (!skip.has(line)) parts.push(buf.subarray(start, end + 1));
      start = end + 1;
    }
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Splits journal text into insert bodies per stream, leaving out excluded lines.
 * `validate` (text read back from a file or the spill) also skips lines that are
 * not `<stream>\t<row>`; a torn last line (the process died mid-write, so
 * it was never acknowledged) is always skipped. Once a second for a whole batch:
 * it copies line ranges into one buffer per table, with no object per line.
 */
export function tablesOf(chunks: readonly JournalChunk[], validate: boolean): { tables: Tables; rows: number } {
  /** Per table: the lines to copy, as triples (chunk, start, end), and their bytes. */
  const ranges: Record<string, number[]> = {};
  const sizes: Record<string, number> = {};
  let rows = 0;
  let table = '';
  for (let c = 0; c < chunks.length; c++) {
    const { buf, excluded } = chunks[c]!;
    const skip = excluded === null ? null : [...excluded].sort((x, y) => x - y);
    let next = 0; // the first entry of `skip` not behind the current line
    let start = 0;
    for (let line = 0; start < buf.length; line++) {
      const end = buf.indexOf(NL, start);
      if (end === -1) break; // torn
      if (skip !== null) while (next < skip.length && skip[next]! < line) next++;
      const tab = skip !== null && skip[next] === line ? -1 : buf.indexOf(TAB, start);
      if (tab > start && tab < end) {
        if (!spells(buf, start, tab, table)) table = buf.toString('latin1', start, tab);
        if (!validate || (STREAM.test(table) && isRow(table, buf.toString('utf8', tab + 1, end)))) {
          (ranges[table] ??= []).push(c, tab + 1, end + 1);
          sizes[table] = (sizes[table] ?? 0) + end + 1 - (tab + 1);
          rows++;
        }
      }
      start = end + 1;
    }
  }
  const tables: Tables = {};
  for (const [name, r] of Object.entries(ranges)) {
    const body = Buffer.allocUnsafe(sizes[name]!);
    let off = 0;
    for (let i = 0; i < r.length; i += 3) off += chunks[r[i]!]!.buf.copy(body, off, r[i + 1], r[i + 2]);
    tables[name] = body;
  }
  return { tables, rows };
}

/** Whether buf[start, end) holds the characters of `name` (table names are ASCII). */
function spells(buf: Buffer, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name.charCodeAt(i)) return false;
  return true;
}

/** A row as a stream holds it: a JSON object, or a TabSeparated line with the table's number of fields. */
function isRow(stream: string, text: string): boolean {
  if (stream.endsWith('.tsv')) return text.split('\t').length === (TSV_COLUMNS[stream.slice(0, -4)]?.length ?? -1);
  try {
    const row: unknown = JSON.parse(text);
    return typeof row === 'object' && row !== null;
  } catch {
    return false;
  }
}

/** Reads journal text back (a journal or spool file, or a batch from the spill). */
export function parseJournal(text: string | Buffer): { tables: Tables; rows: number } {
  return tablesOf([{ buf: typeof text === 'string' ? Buffer.from(text, 'utf8') : text, excluded: null }], true);
}

/** The batch as journal text again (a spooled or set-aside batch is kept in the journal's format). */
export function journalText(tables: Tables): Buffer {
  const parts: Buffer[] = [];
  for (const [table, body] of Object.entries(tables)) {
    const prefix = Buffer.from(`${table}\t`, 'latin1');
    let start = 0;
    while (start < body.length) {
      let end = body.indexOf(NL, start);
      if (end === -1) end = body.length - 1;
      parts.push(prefix, body.subarray(start, end + 1));
      start = end + 1;
    }
  }
  return Buffer.concat(parts);
}

/** Rows as one table's insert body. */
export function bodyOf(rows: readonly string[]): Buffer {
  return Buffer.from(rows.map((r) => `${r}\n`).join(''), 'utf8');
}

const hitsFirst = (s: string) => (s === 'hits' || s === 'hits.tsv' ? 0 : 1);

/**
 * Inserts every stream's rows; hits first, so links never point at a visit not
 * yet stored. The body goes to ClickHouse as it is: no row is parsed or
 * serialised again here.
 */
export async function insertTables(client: ClickHouseClient, tables: Tables, timeoutMs: number): Promise<void> {
  const names = Object.keys(tables).sort((a, b) => hitsFirst(a) - hitsFirst(b) || a.localeCompare(b));
  for (const stream of names) {
    const body = tables[stream]!;
    if (body.length === 0) continue;
    const result = await client.exec({
      query: insertStatement(stream),
      values: Readable.from([body], { objectMode: false }),
      abort_signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer to an insert is empty; read it to the end so the socket goes back to the pool.
    for await (const _ of result.stream);
  }
}
