// A stand-in for ClickHouse behind the inserter's InsertStream (buffer/inserter.ts),
// for tests of the inserter, the journal buffer and the spill without a server.
// Like ClickHouse it stores an insert's rows all or none: a body holding a poison
// row is refused whole with a data error whose message starts as ClickHouse's do
// (spill/rejected.ts tells those from an outage), and it can be told to fail like
// an outage at a given call or at every call. It keeps the rows it stored, so a
// test can check that each good row is stored exactly once.
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { Inserter, type InsertStream } from '../../collector/src/buffer/inserter.js';
import { createMetrics } from '../../collector/src/metrics/registry.js';
import { BadRows, type BadRow } from '../../collector/src/spill/bad-rows.js';
import type { Tables } from '../../collector/src/spill/tables.js';

/** What makes a row one ClickHouse cannot parse. */
const POISON = 'POISON';

/** `n` rows ClickHouse takes (JSONEachRow), ids `<prefix>000000`… */
export function goodRows(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${prefix}${String(i).padStart(6, '0')}` }));
}

/** A row ClickHouse refuses for its data. */
export const poisonRow = (id: string) => JSON.stringify({ id, ts: POISON });

/** The rows of a body, each without its newline. */
export const linesOf = (body: Buffer | undefined): string[] => (body ? body.toString('utf8').split('\n').slice(0, -1) : []);

/** A batch's rows per stream, for comparing batches by their rows. */
export const rowsOf = (tables: Tables): Record<string, string[]> => Object.fromEntries(Object.entries(tables).map(([s, b]) => [s, linesOf(b)]));

/** How ClickHouse refuses a body whose row number `at` (from 1) it cannot parse. */
export function dataError(row: string, at: number): Error {
  return new Error(`Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected '"' before: '${row}': (at row ${at}) (version 24.8.4.13 (official build))`);
}

/** The server does not listen. */
export const connectionRefused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED', syscall: 'connect' });
/** The insert took longer than its timeout. */
export const timedOut = () => Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
/** A server error that is not about the data: the insert may succeed later. */
export const tooManyParts = () => new Error('Code: 252, e.displayText() = DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts (version 24.8.4.13 (official build))');

export type Call = { stream: string; rows: number; at: number; outcome: 'stored' | 'refused' | 'outage' };

export class FakeClickHouse {
  /** The rows stored, per stream, in the order they were stored. */
  readonly stored: Record<string, string[]> = {};
  /** Every insert, in order; `at` is the (maybe fake) clock's time of the call. */
  readonly calls: Call[] = [];
  private readonly outages = new Map<number, Error>();
  private downWith: Error | null = null;

  /** The `call`-th insert (from 1, over all calls) fails like an outage. */
  failAt(call: number, err: Error = connectionRefused()): this {
    this.outages.set(call, err);
    return this;
  }

  /** Every insert fails like an outage until up(). */
  down(err: Error = connectionRefused()): void {
    this.downWith = err;
  }

  up(): void {
    this.downWith = null;
  }

  readonly insertStream: InsertStream = async (stream, body) => {
    await Promise.resolve(); // the answer comes later, as a server's does
    const rows = linesOf(body);
    const call: Call = { stream, rows: rows.length, at: Date.now(), outcome: 'outage' };
    this.calls.push(call);
    const outage = this.downWith ?? this.outages.get(this.calls.length);
    if (outage) throw outage;
    const bad = rows.findIndex((r) => r.includes(POISON));
    if (bad !== -1) {
      call.outcome = 'refused';
      throw dataError(rows[bad]!, bad + 1);
    }
    (this.stored[stream] ??= []).push(...rows);
    call.outcome = 'stored';
  };
}

/** The lines of a bad-rows file (spill/bad-rows.ts); none when it was never written. */
export function readBadRows(path: string): BadRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as BadRow);
}

export const silentLog = () => pino({ level: 'silent' });

/** A real Inserter over a FakeClickHouse, setting refused rows aside in `badRowsPath`, with metrics of its own. */
export function fakeInserter(badRowsPath: string, clickhouse = new FakeClickHouse()) {
  const metrics = createMetrics();
  const badRows = new BadRows(badRowsPath);
  const inserter = new Inserter({ insertStream: clickhouse.insertStream, badRows, metrics, log: silentLog() });
  return { clickhouse, metrics, badRows, inserter, insert: (tables: Tables) => inserter.insert(tables) };
}
