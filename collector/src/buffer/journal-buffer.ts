// The durable buffer between the hit pipeline and ClickHouse.
//
// A hit is acknowledged only once it is in the local journal: records that arrive
// during one event-loop turn are appended with one write (group commit), then all
// of them are acknowledged. The journal is cut into segments; each segment's rows
// are also kept in memory as one batch. A segment is sealed when it reaches
// BATCH_MAX_ROWS rows, BATCH_MAX_BYTES bytes, or BATCH_MAX_MS of age, and its
// batch is inserted into ClickHouse (one insert at a time, so parts stay few);
// the segment file is deleted once the insert succeeded. A failed insert moves
// the batch to the spill (Redis, else the spool directory) for replay with back-off.
// SIGKILL leaves the journal behind; the next start replays it. Written data
// survives the death of the process; JOURNAL_FSYNC=1 also makes each group commit
// wait for the disk (fdatasync), to survive a power loss at the cost of latency.
import { closeSync, fdatasync, mkdirSync, openSync, rmdirSync, unlinkSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/registry.js';
import { fileName } from '../spill/files.js';
import type { Spill } from '../spill/spill.js';
import { journalLine, type TableRecord, type Tables } from '../spill/tables.js';

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);

/** Sealed batches waiting for their insert beyond this many go to the spill at once. */
const MAX_QUEUED = 4;

export type JournalBufferOptions = {
  dir: string;
  pid: number;
  start: number;
  maxRows: number;
  maxBytes: number;
  maxMs: number;
  fsync: boolean;
  insert: (tables: Tables) => Promise<void>;
  spill: Spill;
  log: Logger;
  metrics: Metrics;
};

type Segment = {
  path: string;
  fd: number;
  tables: Tables;
  rows: number;
  bytes: number;
  /** Verdicts still pending for rows of this segment; the batch is complete when all have settled. */
  gates: Promise<void>[];
};
/** Records of one hit, with the verdict (keep or not) that decides whether they join the batch. */
type Entry = { records: TableRecord[]; gate: Promise<boolean> | undefined };
type Waiter = { resolve: () => void; reject: (err: Error) => void };

export class ClosedError extends Error {}

function addTo(seg: Segment, records: TableRecord[]): void {
  for (const r of records) (seg.tables[r.table] ??= []).push(r.json);
}

export class JournalBuffer {
  /** Rows inserted into ClickHouse by this buffer (replays not counted). */
  written = 0;
  private seq = 0;
  private segment: Segment;
  private readonly sealed: Segment[] = [];
  private lines: string[] = [];
  private entries: Entry[] = [];
  private waiters: Waiter[] = [];
  private scheduled = false;
  private writing: Promise<void> | null = null;
  /** The oldest row of the segment has waited BATCH_MAX_MS. */
  private due = false;
  private timer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private closed = false;
  private queuedRows = 0;

  constructor(private readonly o: JournalBufferOptions) {
    mkdirSync(o.dir, { recursive: true });
    this.segment = this.open();
  }

  /** Rows acknowledged and not yet in ClickHouse or the spill. */
  get pending(): number {
    return this.queuedRows;
  }

  /**
   * Resolves once the records are in the journal (durable); rejects when closing
   * or the disk fails. `gate`, when given, decides later whether the records go
   * into the batch (the visit throttle and rate limit answer after the hit is
   * acknowledged); the batch is not inserted before every gate of it has settled.
   */
  accept(records: TableRecord[], gate?: Promise<boolean>): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('shutting down'));
    for (const r of records) this.lines.push(journalLine(r));
    this.entries.push({ records, gate });
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private drain(): Promise<void> {
    this.scheduled = false;
    if (!this.writing) {
      this.writing = this.commitLoop().finally(() => {
        this.writing = null;
      });
    }
    return this.writing;
  }

  private async commitLoop(): Promise<void> {
    while (this.lines.length > 0) {
      const buf = Buffer.from(this.lines.join(''), 'utf8');
      const entries = this.entries;
      const waiters = this.waiters;
      this.lines = [];
      this.entries = [];
      this.waiters = [];
      const seg = this.segment;
      try {
        let off = 0;
        if (this.o.fsync) {
          while (off < buf.length) off += (await writeAsync(seg.fd, buf, off, buf.length - off)).bytesWritten;
          await fdatasyncAsync(seg.fd);
        } else {
          // Into the page cache: tens of microseconds, cheaper than a hop to
          // libuv's thread pool and back, which on a busy machine costs milliseconds.
          while (off < buf.length) off += writeSync(seg.fd, buf, off, buf.length - off);
        }
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'journal write failed');
        for (const w of waiters) w.reject(err as Error);
        continue;
      }
      let rows = 0;
      for (const { records, gate } of entries) {
        rows += records.length;
        if (gate === undefined) addTo(seg, records);
        else seg.gates.push(gate.then((keep) => (keep ? addTo(seg, records) : undefined), () => addTo(seg, records)));
      }
      seg.rows += rows;
      seg.bytes += buf.length;
      this.queuedRows += rows;
      this.o.metrics.buffered.set(this.queuedRows);
      for (const w of waiters) w.resolve();
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.due = true;
          this.maybeSeal(false);
        }, this.o.maxMs);
        this.timer.unref();
      }
      this.maybeSeal(true);
    }
  }

  /**
   * Seals the segment when a bound is reached. The row and age bounds wait for
   * the insert in flight to finish (the batch meanwhile grows, so a slow
   * ClickHouse gets fewer, larger inserts); the byte bound does not wait.
   * `betweenWrites`: called from the commit loop, where the file is idle.
   */
  private maybeSeal(betweenWrites: boolean): void {
    const seg = this.segment;
    if (seg.rows === 0) return;
    const hard = seg.bytes >= this.o.maxBytes;
    if (!hard && !this.due && seg.rows < this.o.maxRows) return;
    if (this.writing && !betweenWrites) return; // the commit loop looks again after its write
    if (!hard && this.pumping) return; // the pump looks again when its insert is done
    this.seal();
  }

  private open(): Segment {
    const path = join(this.o.dir, fileName('j', this.o.pid, this.o.start, ++this.seq));
    return { path, fd: openSync(path, 'a'), tables: {}, rows: 0, bytes: 0, gates: [] };
  }

  /** Closes the current segment (when it holds rows) and hands its batch to the inserter. */
  private seal(): void {
    this.due = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const seg = this.segment;
    if (seg.rows === 0) return;
    closeSync(seg.fd);
    this.segment = this.open();
    this.sealed.push(seg);
    // ClickHouse slower than the traffic: don't pile batches up in memory.
    while (this.sealed.length > MAX_QUEUED) this.toSpill(this.sealed.splice(1, 1)[0]!);
    void this.pump();
  }

  private toSpill(seg: Segment): Promise<void> {
    return Promise.all(seg.gates)
      .then(() => this.o.spill.put(seg.tables, seg.path, seg.rows))
      .catch((err: unknown) => this.o.log.error({ err: String(err), file: seg.path }, 'spill failed; the journal segment stays for replay'))
      .finally(() => this.release(seg.rows));
  }

  private release(rows: number): void {
    this.queuedRows -= rows;
    this.o.metrics.buffered.set(this.queuedRows);
  }

  private pump(): Promise<void> {
    if (!this.pumping) {
      this.pumping = (async () => {
        while (this.sealed.length > 0) {
          const seg = this.sealed[0]!;
          await Promise.all(seg.gates);
          if (!this.o.spill.clickhouseDown) {
            try {
              await this.o.insert(seg.tables);
              unlinkSync(seg.path);
              this.sealed.shift();
              this.written += seg.rows;
              this.release(seg.rows);
              continue;
            } catch (err) {
              this.o.spill.clickhouseDown = true;
              this.o.metrics.insertFailures.inc();
              this.o.log.error({ err: (err as Error).message, rows: seg.rows }, 'insert failed; batch goes to the spill');
            }
          }
          this.sealed.shift();
          await this.toSpill(seg);
        }
      })().finally(() => {
        this.pumping = null;
        this.maybeSeal(false);
      });
    }
    return this.pumping;
  }

  /**
   * Stops accepting, commits what is queued, seals, and waits (up to `deadlineMs`)
   * for the batches to reach ClickHouse or the spill. What is still unsent then
   * stays in the journal for the next start.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    this.closed = true;
    await this.drain();
    if (this.writing) await this.writing;
    this.seal();
    const done = (async () => {
      while (this.pumping) await this.pumping;
    })();
    await Promise.race([done, new Promise((r) => setTimeout(r, deadlineMs).unref())]);
    this.o.spill.stop();
    if (this.segment.rows === 0) {
      closeSync(this.segment.fd);
      unlinkSync(this.segment.path);
    }
    // Leave no empty directory behind (one per database by default).
    try {
      rmdirSync(this.o.dir);
    } catch {
      // not empty: something waits for the next start
    }
  }
}
