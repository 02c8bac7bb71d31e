// The journal buffer (buffer/journal-buffer.ts) on a fake clock, inserting
// through a real Inserter into a stand-in for ClickHouse, with a spill of the
// test's own that keeps what it is handed. The buffer answers from setImmediate
// and promises: `turn()` runs one event-loop turn of the fake clock, and with it
// every promise that follows.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, JournalBuffer, JournalEntry, type JournalBufferOptions, type MoreRows } from '../../collector/src/buffer/journal-buffer.js';
import type { Spill } from '../../collector/src/spill/spill.js';
import { parseJournal, type Tables } from '../../collector/src/spill/tables.js';
import { fakeInserter, goodRows, rowsOf, silentLog } from '../helpers/fake-clickhouse.js';
import { metricsText } from '../helpers/metrics-text.js';

const HITS = 'hits';
const LINKS = 'identity_links';
const MAX_MS = 1000;

class Hit extends JournalEntry {
  readonly answers: (Error | null)[] = [];
  durable(err: Error | null): void {
    this.answers.push(err);
  }
}

/** The members of the spill (spill/spill.ts) the buffer uses; it keeps what it is handed. */
class SpillStandIn {
  clickhouseDown = false;
  stopped = false;
  readonly puts: { tables: Tables; rows: number }[] = [];

  async put(journal: Buffer, segmentPath: string, rows: number): Promise<void> {
    this.puts.push({ tables: parseJournal(journal).tables, rows });
    unlinkSync(segmentPath); // as the spill does once the batch is safe
  }

  stop(): void {
    this.stopped = true;
  }
}

/** One turn of the event loop on the fake clock, and the promises it sets off. */
const turn = () => vi.advanceTimersByTimeAsync(0);

describe('journal buffer', () => {
  let dir: string;
  /** The buffer's own directory: removed by close() when nothing is left in it. */
  let journal: string;
  const buffers: JournalBuffer[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tl-journal-'));
    journal = join(dir, 'journal');
    vi.useFakeTimers();
  });
  afterEach(async () => {
    // A buffer the test closed already fails a second close; that is all right here.
    for (const b of buffers.splice(0)) await b.close().catch(() => {});
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  function start(o: Partial<JournalBufferOptions> = {}) {
    const fake = fakeInserter(join(dir, 'bad-rows.jsonl'));
    const spill = new SpillStandIn();
    const buffer = new JournalBuffer({
      dir: journal,
      pid: process.pid,
      start: Date.now(),
      maxRows: 10_000,
      maxBytes: 64 * 1024 * 1024,
      maxMs: MAX_MS,
      fsync: false,
      insert: fake.insert,
      spill: spill as unknown as Spill,
      log: silentLog(),
      metrics: fake.metrics,
      ...o,
    });
    buffers.push(buffer);
    /** Accepts one entry per row (of `hits`), each with `links` rows of its own when given. */
    const send = (rows: string[], how: { gated?: boolean; links?: string[] } = {}) =>
      rows.map((row) => {
        const more: MoreRows[] | null = how.links ? [{ stream: LINKS, text: how.links.map((l) => `${l}\n`).join(''), rows: how.links.length, line: 0 }] : null;
        const hit = new Hit(HITS, how.gated ?? false, more);
        buffer.accept(hit, `${row}\n`);
        return hit;
      });
    return { buffer, spill, send, ...fake };
  }

  /** The journal files and their sizes. */
  const journalFiles = () => readdirSync(journal).map((f) => [f, statSync(join(journal, f)).size]);

  it('acknowledges the entries of a turn once their group commit is in the journal, and not before', async () => {
    const { buffer, send, clickhouse } = start();
    const hits = send(goodRows('h', 3));
    const linked = send(goodRows('x', 1), { links: goodRows('l', 2) });
    expect([...hits, ...linked].map((h) => h.answers)).toEqual([[], [], [], []]);
    await turn();
    expect([...hits, ...linked].map((h) => h.answers)).toEqual([[null], [null], [null], [null]]);
    const [file] = readdirSync(journal);
    expect(rowsOf(parseJournal(readFileSync(join(journal, file!))).tables)).toEqual({ [HITS]: [...goodRows('h', 3), ...goodRows('x', 1)], [LINKS]: goodRows('l', 2) });
    expect(buffer.pending).toBe(6);
    expect(clickhouse.calls).toEqual([]);
  });

  it('inserts nothing before BATCH_MAX_MS, then the batch once, and deletes its segment', async () => {
    const { buffer, send, clickhouse } = start();
    send(goodRows('a', 3));
    await turn();
    await vi.advanceTimersByTimeAsync(400);
    send(goodRows('b', 2));
    await turn();
    await vi.advanceTimersByTimeAsync(MAX_MS - 401);
    expect(clickhouse.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(clickhouse.stored).toEqual({ [HITS]: [...goodRows('a', 3), ...goodRows('b', 2)] });
    expect(clickhouse.calls).toHaveLength(1);
    expect([buffer.written, buffer.pending]).toEqual([5, 0]);
    // Only the next segment is left, and it is empty.
    expect(journalFiles().map(([, size]) => size)).toEqual([0]);
    await vi.advanceTimersByTimeAsync(10 * MAX_MS);
    expect(clickhouse.calls).toHaveLength(1);
  });

  it('seals at the row bound at once, and the next batch waits for BATCH_MAX_MS again', async () => {
    const { send, clickhouse } = start({ maxRows: 5 });
    const t0 = Date.now();
    send(goodRows('a', 4));
    await turn();
    expect(clickhouse.calls).toEqual([]);
    send(goodRows('b', 1));
    await turn();
    expect(Date.now()).toBe(t0);
    expect(clickhouse.stored).toEqual({ [HITS]: [...goodRows('a', 4), ...goodRows('b', 1)] });
    send(goodRows('c', 3));
    await turn();
    await vi.advanceTimersByTimeAsync(MAX_MS - 1);
    expect(clickhouse.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(clickhouse.stored[HITS]).toEqual([...goodRows('a', 4), ...goodRows('b', 1), ...goodRows('c', 3)]);
  });

  it('holds a batch with a gated entry until its verdict is in, though the entry is acknowledged', async () => {
    const { buffer, send, clickhouse } = start();
    const open = send(goodRows('a', 2));
    const [gated] = send(goodRows('g', 1), { gated: true });
    await turn();
    expect([...open, gated!].map((h) => h.answers)).toEqual([[null], [null], [null]]);
    await vi.advanceTimersByTimeAsync(10 * MAX_MS);
    expect(clickhouse.calls).toEqual([]);
    expect(buffer.pending).toBe(3);
    buffer.settle(gated!, true);
    await turn();
    expect(clickhouse.stored).toEqual({ [HITS]: [...goodRows('a', 2), ...goodRows('g', 1)] });
    expect(buffer.pending).toBe(0);
  });

  it('leaves out every row of an entry settled false, before or after its commit', async () => {
    const { buffer, send, clickhouse } = start();
    send(goodRows('a', 1));
    const [early] = send(goodRows('early', 1), { gated: true, links: goodRows('early-l', 2) });
    buffer.settle(early!, false); // before the commit
    const [late] = send(goodRows('late', 1), { gated: true, links: goodRows('late-l', 3) });
    const [kept] = send(goodRows('kept', 1), { gated: true, links: goodRows('kept-l', 1) });
    send(goodRows('b', 1));
    await turn();
    buffer.settle(late!, false);
    buffer.settle(kept!, true);
    await vi.advanceTimersByTimeAsync(MAX_MS);
    expect(clickhouse.stored).toEqual({
      [HITS]: [...goodRows('a', 1), ...goodRows('kept', 1), ...goodRows('b', 1)],
      [LINKS]: goodRows('kept-l', 1),
    });
    expect(buffer.written).toBe(4);
  });

  it('on an outage hands the spill exactly the rows not stored; later batches go straight to it while ClickHouse is down', async () => {
    const { buffer, send, clickhouse, spill, metrics } = start();
    clickhouse.failAt(2); // the hits are stored, the links are not
    send(goodRows('a', 3));
    send(goodRows('x', 1), { links: goodRows('l', 2) });
    await vi.advanceTimersByTimeAsync(MAX_MS);
    expect(clickhouse.stored).toEqual({ [HITS]: [...goodRows('a', 3), ...goodRows('x', 1)] });
    expect(spill.puts.map((p) => [rowsOf(p.tables), p.rows])).toEqual([[{ [LINKS]: goodRows('l', 2) }, 2]]);
    expect(spill.clickhouseDown).toBe(true);
    expect(metricsText(await metrics.registry.metrics()).get('throughline_insert_failures_total')).toBe(1);

    const calls = clickhouse.calls.length;
    send(goodRows('b', 2));
    await vi.advanceTimersByTimeAsync(MAX_MS);
    expect(clickhouse.calls).toHaveLength(calls);
    expect(spill.puts.slice(1).map((p) => [rowsOf(p.tables), p.rows])).toEqual([[{ [HITS]: goodRows('b', 2) }, 2]]);

    spill.clickhouseDown = false; // as a replay that got through leaves it
    send(goodRows('c', 1));
    await vi.advanceTimersByTimeAsync(MAX_MS);
    expect(clickhouse.stored[HITS]).toEqual([...goodRows('a', 3), ...goodRows('x', 1), ...goodRows('c', 1)]);
    expect(spill.puts).toHaveLength(2);
    expect(buffer.pending).toBe(0);
    // Every segment was stored or spilled: only the next, empty one is left.
    expect(journalFiles().map(([, size]) => size)).toEqual([0]);
  });

  it('on close() commits, seals and inserts what is pending, stops the spill and leaves no directory behind', async () => {
    const { buffer, send, clickhouse, spill } = start();
    const committed = send(goodRows('a', 2));
    await turn();
    const queued = send(goodRows('b', 2));
    expect(queued.map((h) => h.answers)).toEqual([[], []]);
    await buffer.close();
    expect([...committed, ...queued].map((h) => h.answers)).toEqual([[null], [null], [null], [null]]);
    expect(clickhouse.calls.map((c) => [c.stream, c.rows])).toEqual([[HITS, 4]]);
    expect(clickhouse.stored).toEqual({ [HITS]: [...goodRows('a', 2), ...goodRows('b', 2)] });
    expect(spill.stopped).toBe(true);
    expect(existsSync(journal)).toBe(false);
    const [late] = send(goodRows('late', 1));
    expect(late!.answers).toEqual([expect.any(ClosedError)]);
  });
});
