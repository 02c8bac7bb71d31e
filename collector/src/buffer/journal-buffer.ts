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
  /** Hits of this segment whose verdict is still pending; the batch is complete when none is. */
  unsettled: number;
  onSettled: Array<() => void>;
};

/** Called once the records are durable (err null), or could not be made so. */
export type Durable = (err: Error | null) => void;

/**
 * One hit's records on their way in. `keep` is the verdict that decides whether
 * they join the batch: undefined while the visit throttle and rate limit have
 * not answered (JournalBuffer.settle).
 */
export type Entry = { records: TableRecord[]; keep: boolean | undefined; seg: Segment | null; done: Durable };

export class ClosedError extends Error {}

function addTo(seg: Segment, records: TableRecord[]): void {
  for (const r of records) (seg.tables[r.table] ??= []).push(r.json);
}

/** Resolves when every verdict of the segment's hits is in. */
function settled(seg: Segment): Promise<void> {
  if (seg.unsettled === 0) return Promise.resolve();
  return new Promise((resolve) => seg.onSettled.push(resolve));
}

export class JournalBuffer {
  /** Rows inserted into ClickHouse by this buffer (replays not counted). */
  written = 0;
  private seq = 0;
  private segment: Segment;
  private readonly sealed: Segment[] = [];
  /** Journal text of the entries waiting for the next group commit. */
  private text = '';
  private entries: Entry[] = [];
  private scheduled = false;
  private readonly drainSoon = () => void this.drain();
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
   * Appends a hit's records to the next group commit and calls `done` once they
   * are in the journal (durable), or with the error when closing or the disk
   * fails (synchronously when closed). One callback per hit and none of the
   * promises a hot path would pay for. `gated`: whether the batch must wait for
   * the hit's verdict (`settle`): the visit throttle and rate limit answer after
   * the hit is acknowledged, and the batch is not inserted before every verdict
   * of it is in.
   */
  accept(records: TableRecord[], gated: boolean, done: Durable): Entry {
    const entry: Entry = { records, keep: gated ? undefined : true, seg: null, done };
    if (this.closed) {
      entry.keep = false;
      done(new ClosedError('shutting down'));
      return entry;
    }
    for (const r of records) this.text += journalLine(r);
    this.entries.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drainSoon);
    }
    return entry;
  }

  /** The verdict on an accepted hit: keep its records in the batch, or leave them out. Once per entry. */
  settle(entry: Entry, keep: boolean): void {
    if (entry.keep !== undefined) return;
    entry.keep = keep;
    const seg = entry.seg;
    if (!seg) return; // not committed yet: the commit looks at `keep`
    if (keep) addTo(seg, entry.records);
    if (--seg.unsettled === 0) for (const f of seg.onSettled.splice(0)) f();
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
    while (this.entries.length > 0) {
      const buf = Buffer.from(this.text, 'utf8');
      const entries = this.entries;
      this.text = '';
      this.entries = [];
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
        for (const e of entries) {
          e.keep = false;
          this.answer(e, err as Error);
        }
        continue;
      }
      let rows = 0;
      for (const e of entries) {
        rows += e.records.length;
        if (e.keep === undefined) {
          e.seg = seg;
          seg.unsettled++;
        } else if (e.keep) addTo(seg, e.records);
      }
      seg.rows += rows;
      seg.bytes += buf.length;
      this.queuedRows += rows;
      this.o.metrics.buffered.set(this.queuedRows);
      for (const e of entries) this.answer(e, null);
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

  /** One hit's callback; a throwing callback must not cost the others their answer. */
  private answer(e: Entry, err: Error | null): void {
    try {
      e.done(err);
    } catch (thrown) {
      this.o.log.error({ err: String(thrown) }, 'acknowledging a hit failed');
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
    return { path, fd: openSync(path, 'a'), tables: {}, rows: 0, bytes: 0, unsettled: 0, onSettled: [] };
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
    return settled(seg)
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
          await settled(seg);
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
