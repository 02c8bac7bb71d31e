// Putting a batch into ClickHouse so that a bad row is a row, not a batch.
//
// The streams of a batch go in one after another (insertOrder: hits first), each
// in one insert. When ClickHouse refuses a stream for its data (spill/rejected.ts:
// a parse error, not an outage), the stream's rows are split in halves and each
// half tried again, down to single rows: the refused rows alone are set aside
// (spill/bad-rows.ts), with ClickHouse's reason, and every other row is stored
// once. A clean batch costs one insert per stream; k bad rows among n cost about
// 2·k·log2(n) more. An insert of fewer rows than max_insert_block_size (about a
// million; BATCH_MAX_ROWS stays below it) stores all of its rows or none.
//
// An outage (network, timeout, a server error that is not about the data) stops
// the insert with InsertInterrupted, which carries the rows not stored yet: the
// caller spills or keeps only those, so streams and halves already stored are
// never inserted again. The live path (journal-buffer.ts) and the replay
// (spill/spill.ts) both insert through here.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/registry.js';
import type { BadRows } from '../spill/bad-rows.js';
import { clickhouseCode, isRejectedData } from '../spill/rejected.js';
import { insertOrder, rowCount, rowStarts, tableOfStream, type Tables } from '../spill/tables.js';

/** Inserts one stream's rows whole, or throws. */
export type InsertStream = (stream: string, body: Buffer) => Promise<void>;

export type Inserted = { inserted: number; rejected: number };

/** ClickHouse could not be reached or failed: `rest` holds every row not stored yet, `rows` of them. */
export class InsertInterrupted extends Error {
  constructor(
    readonly reason: unknown,
    readonly rest: Tables,
    readonly rows: number,
  ) {
    super(reason instanceof Error ? reason.message : String(reason));
  }
}

export type InserterOptions = { insertStream: InsertStream; badRows: BadRows; metrics: Metrics; log: Logger };

/** A run of rows of one stream, [from, to) in its row numbering. */
type Span = { from: number; to: number };

export class Inserter {
  constructor(private readonly o: InserterOptions) {}

  /** Inserts a batch; refused rows are set aside. Throws InsertInterrupted on an outage. */
  async insert(tables: Tables): Promise<Inserted> {
    const done: Inserted = { inserted: 0, rejected: 0 };
    const streams = insertOrder(tables).filter((s) => tables[s]!.length > 0);
    for (let i = 0; i < streams.length; i++) {
      const stream = streams[i]!;
      const left = await this.insertStream(stream, tables[stream]!, done);
      if (left === null) continue;
      const rest: Tables = { [stream]: left.body };
      let rows = left.rows;
      for (const later of streams.slice(i + 1)) {
        rest[later] = tables[later]!;
        rows += rowCount(tables[later]!);
      }
      throw new InsertInterrupted(left.reason, rest, rows);
    }
    return done;
  }

  /**
   * One stream: whole first; when refused, by halves. Returns null once every
   * row is stored or set aside, else (an outage) the rows not yet stored.
   */
  private async insertStream(stream: string, body: Buffer, done: Inserted): Promise<{ body: Buffer; rows: number; reason: unknown } | null> {
    const table = tableOfStream(stream);
    try {
      await this.o.insertStream(stream, body);
      this.stored(table, rowCount(body), done);
      return null;
    } catch (err) {
      if (!isRejectedData(err)) return { body, rows: rowCount(body), reason: err };
    }
    const starts = rowStarts(body);
    const bytes = (s: Span) => body.subarray(starts[s.from], starts[s.to]);
    const refused: unknown[] = [];
    // Spans still to try, the next on top; the whole body was refused, so it starts split.
    const pending: Span[] = [];
    const split = (s: Span) => {
      const mid = (s.from + s.to) >>> 1;
      pending.push({ from: mid, to: s.to }, { from: s.from, to: mid });
    };
    split({ from: 0, to: starts.length - 1 });
    /** Stops at an outage: the spans not yet stored, in order. */
    const interrupted = (reason: unknown) => {
      this.told(stream, refused);
      const spans = pending.toReversed();
      return { body: Buffer.concat(spans.map(bytes)), rows: spans.reduce((n, s) => n + s.to - s.from, 0), reason };
    };
    while (pending.length > 0) {
      const span = pending.at(-1)!;
      try {
        await this.o.insertStream(stream, bytes(span));
        this.stored(table, span.to - span.from, done);
      } catch (err) {
        if (!isRejectedData(err)) return interrupted(err);
        if (span.to - span.from > 1) {
          pending.pop();
          split(span);
          continue;
        }
        try {
          this.o.badRows.add(stream, bytes(span), err);
        } catch (disk) {
          return interrupted(disk); // not written down: the row stays with the rows not stored
        }
        refused.push(err);
        this.o.metrics.rejected.inc({ table });
        done.rejected++;
      }
      pending.pop();
    }
    this.told(stream, refused);
    return null;
  }

  private stored(table: string, rows: number, done: Inserted): void {
    this.o.metrics.inserted.inc({ table }, rows);
    done.inserted += rows;
  }

  /** One log line per stream that had rows refused, with the first reason. */
  private told(stream: string, refused: unknown[]): void {
    if (refused.length === 0) return;
    const first = refused[0];
    this.o.log.error(
      { stream, rows: refused.length, code: clickhouseCode(first), err: first instanceof Error ? first.message : String(first), file: this.o.badRows.path },
      'ClickHouse refused rows for their data; set aside, the rest of the batch stored',
    );
  }
}
