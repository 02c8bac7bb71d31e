// A journal segment: one file of the journal, and in memory the same rows as the
// batch it will be inserted as. Each stream's rows are kept end to end in one
// Buffer (outside the JavaScript heap, so a second's worth of rows costs the
// garbage collector nothing); a group commit's rows of a stream are one block of
// it. Rows left out later (the limits refused their hit) are marked on the block.
import { openSync } from 'node:fs';
import type { JournalBlock } from '../spill/tables.js';

/** A segment's first buffer for a stream's rows; it doubles when full. */
const FIRST_BYTES = 256 * 1024;
/** Buffers of inserted segments kept for the next ones, per stream (fresh memory costs page faults). */
const SPARES = 2;

/** A segment's rows of one stream, block after block, in one buffer. */
type StreamRows = { buf: Buffer; len: number };

export type Segment = {
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

export function openSegment(path: string): Segment {
  return { path, fd: openSync(path, 'a'), blocks: [], streams: new Map(), torn: false, rows: 0, bytes: 0, unsettled: 0, onSettled: [] };
}

/** Stream buffers of inserted segments, handed to the next segments. */
export class Spares {
  private readonly byStream = new Map<string, Buffer[]>();

  take(stream: string): Buffer | undefined {
    return this.byStream.get(stream)?.pop();
  }

  /** Keeps an inserted segment's buffers (up to SPARES per stream); the segment lets go of them. */
  keep(seg: Segment): void {
    for (const [stream, rows] of seg.streams) {
      const spare = this.byStream.get(stream) ?? [];
      if (spare.length < SPARES) spare.push(rows.buf);
      this.byStream.set(stream, spare);
    }
    seg.streams.clear();
  }
}

/** Appends a commit's rows of `stream` to the segment's buffer of that stream; returns their block. */
export function appendRows(seg: Segment, stream: string, text: string, spares: Spares): JournalBlock {
  // A UTF-16 code unit takes at most 3 bytes of UTF-8.
  const most = text.length * 3;
  let rows = seg.streams.get(stream);
  if (rows === undefined) {
    rows = { buf: spares.take(stream) ?? Buffer.allocUnsafe(Math.max(FIRST_BYTES, most)), len: 0 };
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

/** Takes back a block whose write failed: its rows are not in the batch either. */
export function dropBlock(seg: Segment, block: JournalBlock): void {
  seg.streams.get(block.stream)!.len = block.start;
}

/** Leaves `rows` rows from row `first` of the block of `stream` out of the batch. */
export function excludeRows(blocks: JournalBlock[], stream: string, first: number, rows: number): void {
  const block = blocks.find((b) => b.stream === stream)!;
  const lines = (block.excluded ??= []);
  for (let i = 0; i < rows; i++) lines.push(first + i);
}

/** Resolves when every verdict of the segment's entries is in. */
export function settled(seg: Segment): Promise<void> {
  if (seg.unsettled === 0) return Promise.resolve();
  return new Promise((resolve) => seg.onSettled.push(resolve));
}
