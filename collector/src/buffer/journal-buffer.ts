// The durable buffer between the hit pipeline and ClickHouse.
//
// A hit is acknowledged only once it is in the local journal: rows that arrive
// during one event-loop turn are appended with one write (group commit), a block
// per stream (spill/tables.ts), then all of them are acknowledged. The journal is
// cut into segments; the rows of each block are also kept in memory (Buffers,
// outside the JavaScript heap, so a second's worth of rows costs the garbage
// collector nothing) as the segment's batch. A segment is sealed when it reaches
// BATCH_MAX_ROWS rows, BATCH_MAX_BYTES bytes, or BATCH_MAX_MS of age; its blocks,
// put end to end per stream, are sent to ClickHouse as they are (one insert at a
// time, so parts stay few); the segment file is deleted once the insert
// succeeded. A failed insert moves the batch to the spill (Redis, else the spool
// directory) for replay with back-off.
// SIGKILL leaves the journal behind; the next start replays it. Written data
// survives the death of the process; JOURNAL_FSYNC=1 also makes each group commit
// wait for the disk (fdatasync), to survive a power loss at the cost of latency.
import { closeSync, fdatasync, ftruncateSync, mkdirSync, openSync, rmdirSync, unlinkSync, writev, writevSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/registry.js';
import { fileName } from '../spill/files.js';
import type { Spill } from '../spill/spill.js';
import { batchOf, blockHeader, journalText, type JournalBlock, type Tables } from '../spill/tables.js';

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);

/** Sealed batches waiting for their insert beyond this many go to the spill at once. */
const MAX_QUEUED = 4;
/** A segment's first buffer for a stream's rows; it doubles when full. */
const FIRST_BYTES = 256 * 1024;
/** Buffers of inserted batches kept for the next segments, per stream (fresh memory costs page faults). */
const SPARES = 2;

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

/** A segment's rows of one stream, block after block, in one buffer. */
type StreamRows = { buf: Buffer; len: number };

type Segment = {
  path: string;
  fd: number;
  blocks: JournalBlock[];
  streams: Map<string, StreamRows>;
  /** A write failed and could not be undone: the file may end in part of a line. */
  torn: boolean;
  rows: number;
  bytes: number;
  /** Entries of this segment whose verdict is still pending; the batch is complete when none is. */
  unsettled: number;
  onSettled: Array<() => void>;
};

export class ClosedError extends Error {}

/** Rows of one stream that an entry brings besides its main row. */
export type MoreRows = { stream: string; text: string; rows: number; line: number };

/**
 * One hit on its way in: one row of its main stream, and maybe rows of others.
 * The caller extends it with what its answer needs and implements `durable`,
 * called once the rows are in the journal (err null) or could not be put there:
 * one object per hit, no closures.
 */
export abstract class JournalEntry {
  /** Whether the rows join the batch: undefined while the visit throttle and rate limit have not answered. */
  keep: boolean | undefined;
  seg: Segment | null = null;
  /** The blocks of the group commit that wrote the entry. */
  blocks: JournalBlock[] | null = null;
  /** The number of the entry's main row within its block. */
  line = 0;

  /**
   * `stream`: the stream of the main row (given to JournalBuffer.accept, not kept:
   * a hit waiting for its verdict holds no more than it needs); `more`: rows of
   * other streams, or null. `gated`: the batch must wait for the verdict (JournalBuffer.settle).
   */
  constructor(
    readonly stream: string,
    gated: boolean,
    readonly more: MoreRows[] | null = null,
  ) {
    this.keep = gated ? undefined : true;
  }

  get rows(): number {
    let n = 1;
    if (this.more) for (const m of this.more) n += m.rows;
    return n;
  }

  abstract durable(err: Error | null): void;
}

function excludeRows(blocks: JournalBlock[], stream: string, first: number, rows: number): void {
  const block = blocks.find((b) => b.stream === stream)!;
  const lines = (block.excluded ??= []);
  for (let i = 0; i < rows; i++) lines.push(first + i);
}

function exclude(e: JournalEntry): void {
  excludeRows(e.blocks!, e.stream, e.line, 1);
  if (e.more) for (const m of e.more) excludeRows(e.blocks!, m.stream, m.line, m.rows);
}

/** Resolves when every verdict of the segment's hits is in. */
function settled(seg: Segment): Promise<void> {
  if (seg.unsettled === 0) return Promise.resolve();
  return new Promise((resolve) => seg.onSettled.push(resolve));
}

/** The rows of one stream gathered for the next group commit. */
type Gathering = { text: string; rows: number };

/**
 * Writes `parts` (`bytes` in all) to the journal with one gathered write, and
 * more only when the system wrote less than all.
 */
function writeAllSync(fd: number, parts: Buffer[], bytes: number): void {
  let done = writevSync(fd, parts);
  if (done === bytes) return;
  const rest = Buffer.concat(parts, bytes);
  while (done < bytes) done += writevSync(fd, [rest.subarray(done)]);
}

/** writeAllSync through the thread pool, for JOURNAL_FSYNC=1 (the commit waits for the disk anyway). */
async function writeAll(fd: number, parts: Buffer[], bytes: number): Promise<void> {
  let done = (await writevAsync(fd, parts)).bytesWritten;
  if (done === bytes) return;
  const rest = Buffer.concat(parts, bytes);
  while (done < bytes) done += (await writevAsync(fd, [rest.subarray(done)])).bytesWritten;
}

export class JournalBuffer {
  /** Rows inserted into ClickHouse by this buffer (replays not counted). */
  written = 0;
  private seq = 0;
  private segment: Segment;
  private readonly sealed: Segment[] = [];
  /** Rows of the entries waiting for the next group commit, per stream. */
  private gathering = new Map<string, Gathering>();
  private entries: JournalEntry[] = [];
  private readonly spare = new Map<string, Buffer[]>();
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
    entry.line = this.gather(entry.stream, text, 1);
    if (entry.more) for (const m of entry.more) m.line = this.gather(m.stream, m.text, m.rows);
    this.entries.push(entry);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drainSoon);
    }
  }

  /** Adds rows to the next commit's block of their stream; returns the number of the first. */
  private gather(stream: string, text: string, rows: number): number {
    const g = this.gathering.get(stream);
    if (g === undefined) {
      this.gathering.set(stream, { text, rows });
      return 0;
    }
    g.text += text;
    g.rows += rows;
    return g.rows - rows;
  }

  /** Appends a commit's rows of `stream` to the segment's buffer of that stream; returns their block. */
  private append(seg: Segment, stream: string, text: string): JournalBlock {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    const most = text.length * 3;
    let rows = seg.streams.get(stream);
    if (rows === undefined) {
      rows = { buf: this.spare.get(stream)?.pop() ?? Buffer.allocUnsafe(Math.max(FIRST_BYTES, most)), len: 0 };
      seg.streams.set(stream, rows);
    }
    if (rows.len + most > rows.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(rows.buf.length * 2, rows.len + most));
      rows.buf.copy(bigger, 0, 0, rows.len);
      for (const b of seg.blocks) if (b.stream === stream) b.buf = bigger;
      rows.buf = bigger;
    }
    const start = rows.len;
    rows.len += rows.buf.write(text, start, 'utf8');
    return { stream, buf: rows.buf, start, end: rows.len, excluded: null };
  }

  /** Keeps an inserted segment's buffers for the segments to come. */
  private reuse(seg: Segment): void {
    for (const [stream, rows] of seg.streams) {
      const spare = this.spare.get(stream) ?? [];
      if (spare.length < SPARES) spare.push(rows.buf);
      this.spare.set(stream, spare);
    }
    seg.streams.clear();
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
      for (const [stream, g] of this.gathering) {
        const block = this.append(seg, stream, g.text);
        blocks.push(block);
        parts.push(blockHeader(stream, block.end - block.start), block.buf.subarray(block.start, block.end));
      }
      // After a write that failed half-way, start on a line of our own.
      if (seg.torn) parts.unshift(Buffer.from('\n'));
      const entries = this.entries;
      // A new map, not clear(): V8 leaves a cleared map's old table pointing to its
      // new one, so once one table had been promoted, every table after it (and
      // the commit's rows it held) stayed alive until a full collection.
      this.gathering = new Map();
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
        for (const b of blocks) seg.streams.get(b.stream)!.len = b.start; // not in the batch either
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
    return { path, fd: openSync(path, 'a'), blocks: [], streams: new Map(), torn: false, rows: 0, bytes: 0, unsettled: 0, onSettled: [] };
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
      .then(() => this.o.spill.put(journalText(batchOf(seg.blocks)), seg.path, seg.rows))
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
              await this.o.insert(batchOf(seg.blocks));
              // The insert has sent every byte (ClickHouse answers after the whole body).
              this.reuse(seg);
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
