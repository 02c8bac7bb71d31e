// A batch as it moves between the buffer, the spill and ClickHouse. Each row is
// serialised once, on arrival, in the format its stream names: `<table>` for a
// JSONEachRow row, `<table>.tsv` for a TabSeparated row in the table's
// TSV_COLUMNS order (hits, the bulk of the traffic). Journal text is a sequence of
// blocks, each the rows of one stream written by one group commit:
//   =<stream>\t<bytes>\n<rows, each ending in \n>
// so a batch is its blocks' row bytes put end to end, per stream, and goes to
// ClickHouse without a pass over its lines (one is made only to leave out rows
// the limits refused). Journal and spill files of earlier versions hold lines
// `<stream>\t<row>\n` instead; they are read as well.
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { HIT_COLUMNS } from '../hits/row.js';

/** Each stream's rows as the body of its insert: lines, each ending in `\n`. */
export type Tables = Record<string, Buffer>;

/**
 * The rows of one stream from one group commit: bytes [start, end) of `buf`
 * (a segment keeps each stream's rows in one buffer, block after block);
 * `excluded`: the numbers of its rows left out of the batch.
 */
export type JournalBlock = { stream: string; buf: Buffer; start: number; end: number; excluded: number[] | null };

/** The columns of the tables written as TabSeparated, in the order of their fields. */
const TSV_COLUMNS: Record<string, readonly string[]> = { hits: HIT_COLUMNS };

/** The stream of a table's TabSeparated rows. */
export const tsvStream = (table: string) => `${table}.tsv`;

/** A stream's table, and whether its rows are TabSeparated (else JSONEachRow). */
function tableOf(stream: string): { table: string; tsv: boolean } {
  const tsv = stream.endsWith('.tsv');
  return { table: tsv ? stream.slice(0, -'.tsv'.length) : stream, tsv };
}

/** A line in the format of earlier versions' journals (still read; tests write them). */
export function journalLine(stream: string, row: string): string {
  return `${stream}\t${row}\n`;
}

/** The header line of a block of `bytes` bytes of rows of `stream`. */
export function blockHeader(stream: string, bytes: number): Buffer {
  return Buffer.from(`=${stream}\t${bytes}\n`, 'latin1');
}

/** Journal text of blocks: a header, then the rows, for each. */
export function journalOf(blocks: ReadonlyArray<{ stream: string; buf: Buffer }>): Buffer {
  return Buffer.concat(blocks.flatMap(({ stream, buf }) => [blockHeader(stream, buf.length), buf]));
}

/** The batch as journal text (a spilled or set-aside batch is kept in the journal's format). */
export function journalText(tables: Tables): Buffer {
  return journalOf(Object.entries(tables).map(([stream, buf]) => ({ stream, buf })));
}

/** The INSERT that takes a stream's body. */
function insertStatement(stream: string): string {
  if (!STREAM.test(stream)) throw new Error(`not a stream name: ${JSON.stringify(stream)}`);
  const { table, tsv } = tableOf(stream);
  if (!tsv) return `INSERT INTO ${table} FORMAT JSONEachRow`;
  const columns = TSV_COLUMNS[table];
  if (!columns) throw new Error(`no TabSeparated columns for ${table}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) FORMAT TabSeparated`;
}

const NL = 0x0a;
const TAB = 0x09;
/** `=`: the first byte of a block header (a stream name starts with a letter). */
const BLOCK = 0x3d;
/** A stream name as it may appear in a journal line (its table is written into the INSERT). */
const STREAM = /^[A-Za-z_][A-Za-z0-9_]*(\.tsv)?$/;

/**
 * The batch of a segment's blocks: per stream, the rows of its blocks end to
 * end, without the excluded ones. A block without exclusions is taken whole.
 */
export function batchOf(blocks: readonly JournalBlock[]): Tables {
  const parts: Record<string, Buffer[]> = {};
  /** Per stream, the run of whole blocks not yet taken: they follow each other in one buffer. */
  const runs: Record<string, { buf: Buffer; start: number; end: number }> = {};
  const flush = (stream: string) => {
    const run = runs[stream];
    if (run) (parts[stream] ??= []).push(run.buf.subarray(run.start, run.end));
    delete runs[stream];
  };
  for (const { stream, buf, start, end, excluded } of blocks) {
    const run = runs[stream];
    if (excluded === null) {
      if (run && run.buf === buf && run.end === start) run.end = end;
      else {
        flush(stream);
        runs[stream] = { buf, start, end };
      }
      continue;
    }
    flush(stream);
    const into = (parts[stream] ??= []);
    const skip = new Set(excluded);
    for (let from = start, line = 0; from < end; line++) {
      const nl = buf.indexOf(NL, from);
      if (nl === -1 || nl >= end) break;
      if (!skip.has(line)) into.push(buf.subarray(from, nl + 1));
      from = nl + 1;
    }
  }
  for (const stream of Object.keys(runs)) flush(stream);
  const tables: Tables = {};
  for (const [stream, bufs] of Object.entries(parts)) tables[stream] = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
  return tables;
}

/**
 * Reads journal text back (a journal or spool file, or a batch from the spill):
 * blocks, and lines of earlier versions. Only complete rows of the form their
 * stream names are kept: the end of a file whose writer died mid-write (never
 * acknowledged) is left out, and so is anything that is not a row.
 */
export function parseJournal(text: string | Buffer): { tables: Tables; rows: number } {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const parts: Record<string, Buffer[]> = {};
  let rows = 0;
  const keep = (stream: string, start: number, end: number) => {
    if (STREAM.test(stream) && isRow(stream, buf.toString('utf8', start, end))) {
      (parts[stream] ??= []).push(buf.subarray(start, end + 1));
      rows++;
    }
  };
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(NL, pos);
    if (nl === -1) break; // torn
    const tab = buf.indexOf(TAB, pos);
    if (tab === -1 || tab > nl) {
      pos = nl + 1; // not a journal line
      continue;
    }
    if (buf[pos] !== BLOCK) {
      keep(buf.toString('latin1', pos, tab), tab + 1, nl);
      pos = nl + 1;
      continue;
    }
    const stream = buf.toString('latin1', pos + 1, tab);
    const bytes = Number(buf.toString('latin1', tab + 1, nl));
    const end = Number.isSafeInteger(bytes) && bytes >= 0 ? Math.min(nl + 1 + bytes, buf.length) : nl + 1;
    let start = nl + 1;
    while (start < end) {
      // A header where a row should be: this block was cut short (a write that
      // failed half-way); the next block begins here. No row begins with `=`.
      if (buf[start] === BLOCK) break;
      const e = buf.indexOf(NL, start);
      if (e === -1 || e >= end) break; // cut short
      keep(stream, start, e);
      start = e + 1;
    }
    pos = start;
  }
  const tables: Tables = {};
  for (const [stream, bufs] of Object.entries(parts)) tables[stream] = Buffer.concat(bufs);
  return { tables, rows };
}

/** A row as a stream holds it: a JSON object, or a TabSeparated line with the table's number of fields. */
function isRow(stream: string, text: string): boolean {
  const { table, tsv } = tableOf(stream);
  if (tsv) return text.split('\t').length === (TSV_COLUMNS[table]?.length ?? -1);
  try {
    const row: unknown = JSON.parse(text);
    return typeof row === 'object' && row !== null;
  } catch {
    return false;
  }
}

/** Rows as one table's insert body. */
export function bodyOf(rows: readonly string[]): Buffer {
  return Buffer.from(rows.map((r) => `${r}\n`).join(''), 'utf8');
}

const hitsFirst = (stream: string) => (tableOf(stream).table === 'hits' ? 0 : 1);

/** A stream's table: `hits` for `hits.tsv`. */
export const tableOfStream = (stream: string): string => tableOf(stream).table;

/** The order streams are inserted in: hits first, so links never point at a visit not yet stored. */
export function insertOrder(tables: Tables): string[] {
  return Object.keys(tables).sort((a, b) => hitsFirst(a) - hitsFirst(b) || a.localeCompare(b));
}

/** Where each row of a body begins, then the body's length: rows [i, j) are bytes [starts[i], starts[j]). */
export function rowStarts(body: Buffer): number[] {
  const starts = [0];
  for (let nl = body.indexOf(NL); nl !== -1 && nl + 1 < body.length; nl = body.indexOf(NL, nl + 1)) starts.push(nl + 1);
  if (body.length > 0) starts.push(body.length);
  return starts;
}

/** The number of rows of a body (each ends in a newline). */
export function rowCount(body: Buffer): number {
  let n = 0;
  for (let nl = body.indexOf(NL); nl !== -1; nl = body.indexOf(NL, nl + 1)) n++;
  return n;
}

/** Inserts one stream's rows. The body goes to ClickHouse as it is: no row is parsed or serialised again here. */
export async function insertStream(client: ClickHouseClient, stream: string, body: Buffer, timeoutMs: number): Promise<void> {
  const result = await client.exec({
    query: insertStatement(stream),
    values: Readable.from([body], { objectMode: false }),
    abort_signal: AbortSignal.timeout(timeoutMs),
  });
  // The answer to an insert is empty; read it to the end so the socket goes back to the pool.
  for await (const _ of result.stream);
}

/**
 * Inserts every stream's rows, in insertOrder, each whole: the first refusal
 * stops it (the collector inserts through buffer/inserter.ts instead, which
 * sets refused rows aside one by one).
 */
export async function insertTables(client: ClickHouseClient, tables: Tables, timeoutMs: number): Promise<void> {
  for (const stream of insertOrder(tables)) {
    const body = tables[stream]!;
    if (body.length > 0) await insertStream(client, stream, body, timeoutMs);
  }
}
