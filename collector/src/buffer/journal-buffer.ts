// The durable buffer between the hit pipeline and ClickHouse, putting together:
//   entry.ts        a hit's rows and its answer
//   group-commit.ts rows of one event-loop turn written with one write, then acknowledged
//   segment.ts      a journal file and, in memory, the same rows as its batch
//   seal-rule.ts    when a segment is sealed: BATCH_MAX_ROWS rows, BATCH_MAX_BYTES bytes, BATCH_MAX_MS of age
//   inserter.ts     the batch into ClickHouse, one insert at a time (so parts
//                   stay few), refused rows set aside one by one
//   spill/          what an outage left unstored: Redis, else the spool
//                   directory, replayed with back-off
// A sealed segment's file is deleted once its batch is stored.
// SIGKILL leaves the journal behind; the next start replays it. Written data
// survives the death of the process; JOURNAL_FSYNC=1 also makes each group commit
// wait for the disk (fdatasync), to survive a power loss at the cost of latency.
import { closeSync, ftruncateSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/registry.js';
import { fileName } from '../spill/files.js';
import type { Spill, SpillBacklog } from '../spill/spill.js';
import { batchOf, blockHeader, journalText, type JournalBlock, type Tables } from '../spill/tables.js';
import { exclude, type JournalEntry } from './entry.js';
import { fdatasyncAsync, Gathering, writeAll, writeAllSync } from './group-commit.js';
import { InsertInterrupted, type Inserted } from './inserter.js';
import { sealNow } from './seal-rule.js';
import { appendRows, dropBlock, openSegment, settled, Spares, type Segment } from './segment.js';

export { JournalEntry, type MoreRows } from './entry.js';

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
  /** Inserts a batch (inserter.ts): refused rows set aside, InsertInterrupted with the rows not stored on an outage. */
  insert: (tables: Tables) => Promise<Inserted>;
  spill: Spill;
  log: Logger;
  metrics: Metrics;
};

export class ClosedError extends Error {}

export class JournalBuffer {
  /** Rows inserted into ClickHouse by this buffer (replays not counted). */
  written = 0;
  private seq = 0;
  private segment: Segment;
  private readonly sealed: Segment[] = [];
  /** Rows of the entries waiting for the next group commit, per stream. */
  private readonly gathering = new Gathering();
  private entries: JournalEntry[] = [];
  private readonly spares = new Spares();
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

  /** The journal's directory (SPOOL_DIR), where the spool files are written too. */
  get dir(): string {
    return this.o.dir;
  }

  /** Closed (shutting down): hits are refused from now on. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** What waits in the spill for a replay (spill/spill.ts). */
  spillBacklog(): Promise<SpillBacklog> {
    return this.o.spill.backlog();
  }

  /**
   * Appends an entry's lines (`text`: its main row, ending in a newline; then
   * its `more`) to the next group commit; its `durable` is called
   * once they are in the journal, or with the error when closing (synchronously)
   * or when the disk fails. A gated entry's lines join the batch only once its
   * verdict is in (`settle`): the visit throttle and rate limit answer after the
   * hit is acknowledged, and the batch is not inserted before every verdict of it is in.
   */
  accept(entry: JournalEntry, text: string): void {
    if (this.closed) {
      entry.keep = false;
      entry.durable(new ClosedError('shutting down'));
      return;
    }
    entry.line = this.gathering.add(entry.stream, text, 1);
    if (entry.more) for (const m of entry.more) m.line = this.gathering.add(m.stream, m.text, m.rows);
    this.entries.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drainSoon);
    }
  }

  /** The verdict on an accepted entry: keep its lines in the batch, or leave them out. Once per entry. */
  settle(entry: JournalEntry, keep: boolean): void {
    if (entry.keep !== undefined) return;
    entry.keep = keep;
    const seg = entry.seg;
    if (!seg) return; // not committed yet: the commit looks at `keep`
    if (!keep) exclude(entry);
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
      const seg = this.segment;
      const blocks: JournalBlock[] = [];
      const parts: Buffer[] = [];
      for (const [stream, g] of this.gathering.take()) {
        const block = appendRows(seg, stream, g.text, this.spares);
        blocks.push(block);
        parts.push(blockHeader(stream, block.end - block.start), block.buf.subarray(block.start, block.end));
      }
      // After a write that failed half-way, start on a line of our own.
      if (seg.torn) parts.unshift(Buffer.from('\n'));
      const entries = this.entries;
      this.entries = [];
      const bytes = parts.reduce((n, b) => n + b.length, 0);
      try {
        if (this.o.fsync) {
          await writeAll(seg.fd, parts, bytes);
          await fdatasyncAsync(seg.fd);
        } else {
          // Into the page cache: tens of microseconds, cheaper than a hop to
          // libuv's thread pool and back, which on a busy machine costs milliseconds.
          writeAllSync(seg.fd, parts, bytes);
        }
      } catch (err) {
        this.o.log.error({ err: (err as Error).message }, 'journal write failed');
        for (const b of blocks) dropBlock(seg, b);
        // Take back what part of the write reached the file, so the next block
        // follows a whole one; failing that, the next write begins a new line.
        try {
          ftruncateSync(seg.fd, seg.bytes);
        } catch {
          seg.torn = true;
        }
        for (const e of entries) {
          e.keep = false;
          this.answer(e, err as Error);
        }
        continue;
      }
      seg.blocks.push(...blocks);
      seg.bytes += bytes;
      seg.torn = false;
      let rows = 0;
      for (const e of entries) {
        e.blocks = blocks;
        rows += e.rows;
        if (e.keep === undefined) {
          e.seg = seg;
          seg.unsettled++;
        } else if (!e.keep) exclude(e);
      }
      seg.rows += rows;
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
  private answer(e: JournalEntry, err: Error | null): void {
    try {
      e.durable(err);
    } catch (thrown) {
      this.o.log.error({ err: String(thrown) }, 'acknowledging a hit failed');
    }
  }

  /** Seals the segment when seal-rule.ts says so. `betweenWrites`: called from the commit loop, where the file is idle. */
  private maybeSeal(betweenWrites: boolean): void {
    const seg = this.segment;
    const state = { rows: seg.rows, bytes: seg.bytes, due: this.due, writing: this.writing !== null, betweenWrites, inserting: this.pumping !== null };
    if (sealNow(state, this.o)) this.seal();
  }

  private open(): Segment {
    return openSegment(join(this.o.dir, fileName('j', this.o.pid, this.o.start, ++this.seq)));
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

  /** Moves a segment's batch to the spill; `rest`: only these rows of it, `rows` of them (the others are stored). */
  private toSpill(seg: Segment, rest?: Tables, rows = seg.rows): Promise<void> {
    return settled(seg)
      .then(() => this.o.spill.put(journalText(rest ?? batchOf(seg.blocks)), seg.path, rows))
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
          let cut: InsertInterrupted | undefined;
          if (!this.o.spill.clickhouseDown) {
            try {
              const { inserted } = await this.o.insert(batchOf(seg.blocks));
              // The insert has sent every byte (ClickHouse answers after the whole body).
              this.spares.keep(seg);
              unlinkSync(seg.path);
              this.sealed.shift();
              this.written += inserted;
              this.release(seg.rows);
              continue;
            } catch (err) {
              this.o.spill.clickhouseDown = true;
              this.o.metrics.insertFailures.inc();
              if (err instanceof InsertInterrupted) cut = err;
              this.o.log.error({ err: (err as Error).message, rows: cut ? cut.rows : seg.rows }, 'insert failed; the rows not stored go to the spill');
            }
          }
          this.sealed.shift();
          await this.toSpill(seg, cut?.rest, cut?.rows);
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
