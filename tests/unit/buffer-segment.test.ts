// A journal segment (buffer/segment.ts) and the group commit's gathering
// (buffer/group-commit.ts): rows in, blocks out, the batch they make.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Gathering, writeAllSync } from '../../collector/src/buffer/group-commit.js';
import { appendRows, excludeRows, openSegment, settled, Spares } from '../../collector/src/buffer/segment.js';
import { batchOf, parseJournal } from '../../collector/src/spill/tables.js';

describe('segment', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tl-seg-'));
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps each stream’s blocks end to end, grows its buffer, and leaves excluded rows out of the batch', () => {
    const seg = openSegment(join(dir, 'j.journal'));
    const spares = new Spares();
    const big = 'x'.repeat(200_000);
    const a = appendRows(seg, 'links', `a1\n${big}\n`, spares);
    const b = appendRows(seg, 'links', 'b1\nb2\n', spares); // outgrows the first buffer
    seg.blocks.push(a, b);
    expect(a.buf).toBe(b.buf); // the earlier block follows its rows into the bigger buffer
    excludeRows(seg.blocks, 'links', 0, 1);
    expect(batchOf(seg.blocks).links!.toString()).toBe(`${big}\nb1\nb2\n`);
  });

  it('hands an inserted segment’s buffers to the next one', () => {
    const spares = new Spares();
    const first = openSegment(join(dir, 'j1.journal'));
    const block = appendRows(first, 's', 'r\n', spares);
    spares.keep(first);
    const next = openSegment(join(dir, 'j2.journal'));
    expect(appendRows(next, 's', 'q\n', spares).buf).toBe(block.buf);
  });

  it('is settled once every pending verdict is in', async () => {
    const seg = openSegment(join(dir, 'j.journal'));
    seg.unsettled = 1;
    let done = false;
    void settled(seg).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(done).toBe(false);
    seg.unsettled = 0;
    for (const f of seg.onSettled.splice(0)) f();
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
  });
});

describe('group commit', () => {
  it('numbers each entry’s rows within its stream’s block, and starts a new commit after take()', () => {
    const g = new Gathering();
    expect(g.add('hits.tsv', 'h1\n', 1)).toBe(0);
    expect(g.add('links', 'l1\nl2\n', 2)).toBe(0);
    expect(g.add('hits.tsv', 'h2\n', 1)).toBe(1);
    expect(g.add('links', 'l3\n', 1)).toBe(2);
    expect([...g.take()]).toEqual([
      ['hits.tsv', { text: 'h1\nh2\n', rows: 2 }],
      ['links', { text: 'l1\nl2\nl3\n', rows: 3 }],
    ]);
    expect(g.add('hits.tsv', 'h3\n', 1)).toBe(0);
  });

  it('writes a commit’s parts whole, readable back as journal text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-gc-'));
    try {
      const seg = openSegment(join(dir, 'j.journal'));
      const rows = Buffer.from('{"a":1}\n{"a":2}\n');
      const parts = [Buffer.from(`=links\t${rows.length}\n`), rows];
      writeAllSync(seg.fd, parts, parts[0]!.length + rows.length);
      expect(parseJournal(readFileSync(seg.path)).tables.links!.toString()).toBe(rows.toString());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
