// The inserter (buffer/inserter.ts) alone, against a stand-in for ClickHouse that
// keeps what it stores: a clean batch costs one insert per stream; a refused row
// is set aside alone, with ClickHouse's reason, and every other row is stored
// exactly once; an outage hands back exactly the rows not stored, so that
// inserting them later finishes the batch with no row twice and none lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InsertInterrupted } from '../../collector/src/buffer/inserter.js';
import type { Metrics } from '../../collector/src/metrics/registry.js';
import { bodyOf, type Tables } from '../../collector/src/spill/tables.js';
import {
  connectionRefused,
  dataError,
  fakeInserter,
  FakeClickHouse,
  goodRows,
  linesOf,
  poisonRow,
  readBadRows,
  timedOut,
  tooManyParts,
} from '../helpers/fake-clickhouse.js';
import { metricsText } from '../helpers/metrics-text.js';
import { among } from '../helpers/poison-rows.js';

const HITS = 'hits';
const LINKS = 'identity_links';
/** Sorts before `hits`: the order of the insert is not the alphabet's. */
const DEALS = 'deals';
const NOW = new Date('2026-05-04T10:00:00.000Z');

const sorted = (rows: readonly string[]) => [...rows].sort();

/** Rows of one stream with poison rows among them, and which is which. */
function poisoned(prefix: string, good: number, at: number[]) {
  const clean = goodRows(prefix, good);
  const poison = at.map((_, k) => poisonRow(`${prefix}-poison-${k}`));
  return { clean, poison, rows: among(clean, poison, at) };
}

/** A counter's value for one table, as the registry shows it. */
async function byTable(metrics: Metrics, name: 'inserted' | 'rejected', table: string): Promise<number> {
  return metricsText(await metrics.registry.metrics()).get(`throughline_rows_${name}_total{table="${table}"}`);
}

/** Every row a batch of streams has, however it was split between the stored, the handed back and the set aside. */
const everyRow = (tables: Tables) => Object.values(tables).flatMap((b) => linesOf(b));

describe('inserter', () => {
  let dir: string;
  let badPath: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tl-inserter-'));
    badPath = join(dir, 'bad-rows.jsonl');
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('inserts a clean batch with one insert per stream, hits first, and skips an empty stream', async () => {
    const { clickhouse, insert } = fakeInserter(badPath);
    const batch: Tables = {
      [LINKS]: bodyOf(goodRows('l', 40)),
      [DEALS]: bodyOf(goodRows('d', 3)),
      empty: Buffer.alloc(0),
      [HITS]: bodyOf(goodRows('h', 500)),
    };
    expect(await insert(batch)).toEqual({ inserted: 543, rejected: 0 });
    expect(clickhouse.calls.map((c) => [c.stream, c.rows, c.outcome])).toEqual([
      [HITS, 500, 'stored'],
      [DEALS, 3, 'stored'],
      [LINKS, 40, 'stored'],
    ]);
    expect(clickhouse.stored).toEqual({ [HITS]: goodRows('h', 500), [DEALS]: goodRows('d', 3), [LINKS]: goodRows('l', 40) });
    expect(readBadRows(badPath)).toEqual([]);
  });

  it.each([
    { name: 'first', good: 500, at: [0] },
    { name: 'last', good: 500, at: [500] },
    { name: 'in the middle', good: 500, at: [250] },
    { name: 'two adjacent', good: 500, at: [311, 312] },
    { name: 'several: first, adjacent, last', good: 700, at: [0, 137, 138, 139, 400, 704] },
    { name: 'every row', good: 0, at: Array.from({ length: 24 }, (_, i) => i) },
  ])('sets poison rows aside alone ($name) with ClickHouse’s reason, and stores every other row once', async ({ good, at }) => {
    const { clickhouse, insert } = fakeInserter(badPath);
    const hits = poisoned('h', good, at);
    const links = goodRows('l', 30);
    expect(await insert({ [HITS]: bodyOf(hits.rows), [LINKS]: bodyOf(links) })).toEqual({ inserted: good + 30, rejected: at.length });
    expect(sorted(clickhouse.stored[HITS] ?? [])).toEqual(sorted(hits.clean));
    expect(clickhouse.stored[LINKS]).toEqual(links);
    expect(readBadRows(badPath).sort((a, b) => a.row.localeCompare(b.row))).toEqual(
      [...hits.poison].sort((a, b) => a.localeCompare(b)).map((row) => ({ stream: HITS, table: 'hits', row, code: 27, error: dataError(row, 1).message, at: NOW.toISOString() })),
    );
    // By halves, not row by row: about 2·log2(n) inserts more per refused row.
    const n = hits.rows.length;
    expect(clickhouse.calls.filter((c) => c.stream === HITS).length).toBeLessThanOrEqual(1 + 2 * at.length * (Math.ceil(Math.log2(n)) + 1));
  });

  it('sets aside a poison row of a later stream without inserting the earlier streams again', async () => {
    const { clickhouse, insert } = fakeInserter(badPath);
    const hits = goodRows('h', 300);
    const deals = goodRows('d', 50);
    const links = poisoned('l', 100, [10]);
    expect(await insert({ [LINKS]: bodyOf(links.rows), [DEALS]: bodyOf(deals), [HITS]: bodyOf(hits) })).toEqual({ inserted: 450, rejected: 1 });
    expect(clickhouse.calls.filter((c) => c.stream !== LINKS).map((c) => [c.stream, c.rows])).toEqual([
      [HITS, 300],
      [DEALS, 50],
    ]);
    expect(clickhouse.stored[HITS]).toEqual(hits);
    expect(clickhouse.stored[DEALS]).toEqual(deals);
    expect(sorted(clickhouse.stored[LINKS]!)).toEqual(sorted(links.clean));
    expect(readBadRows(badPath).map((b) => [b.stream, b.table, b.row, b.code])).toEqual([[LINKS, LINKS, links.poison[0], 27]]);
  });

  it('on an outage at any insert of the bisection, hands back exactly the rows not stored; inserting them finishes the batch', async () => {
    const hits = poisoned('h', 200, [0, 99, 100, 202]);
    const links = poisoned('l', 60, [30]);
    const deals = goodRows('d', 5);
    const batch: Tables = { [HITS]: bodyOf(hits.rows), [LINKS]: bodyOf(links.rows), [DEALS]: bodyOf(deals) };
    const all = everyRow(batch);
    const calm = fakeInserter(join(dir, 'calm.jsonl'));
    await calm.insert(batch);
    const inserts = calm.clickhouse.calls.length;
    expect(inserts).toBeGreaterThan(20); // the bisection of both poisoned streams

    const outages = [connectionRefused, timedOut, tooManyParts];
    for (let k = 1; k <= inserts; k++) {
      const outage = outages[k % outages.length]!();
      const clickhouse = new FakeClickHouse().failAt(k, outage);
      const path = join(dir, `bad-${k}.jsonl`);
      const err = await fakeInserter(path, clickhouse)
        .insert(batch)
        .catch((e: unknown) => e);
      expect(err, `outage at insert ${k}`).toBeInstanceOf(InsertInterrupted);
      const { rest, rows, reason } = err as InsertInterrupted;
      expect(reason).toBe(outage);
      const handedBack = everyRow(rest);
      expect(rows).toBe(handedBack.length);
      const stored = Object.values(clickhouse.stored).flat();
      const setAside = readBadRows(path).map((b) => b.row);
      // Stored, handed back and set aside: each row in exactly one of them.
      expect(sorted([...stored, ...handedBack, ...setAside]), `outage at insert ${k}`).toEqual(sorted(all));

      // ClickHouse is back: the rows handed back finish the batch.
      await fakeInserter(path, clickhouse).insert(rest);
      expect(Object.fromEntries(Object.entries(clickhouse.stored).map(([s, r]) => [s, sorted(r)])), `outage at insert ${k}`).toEqual({
        [HITS]: sorted(hits.clean),
        [LINKS]: sorted(links.clean),
        [DEALS]: sorted(deals),
      });
      expect(sorted(readBadRows(path).map((b) => b.row))).toEqual(sorted([...hits.poison, ...links.poison]));
    }
  });

  it('keeps a refused row it cannot write down with the rows handed back', async () => {
    const unwritable = join(dir, 'no-such-dir', 'bad-rows.jsonl');
    const { clickhouse, insert, metrics } = fakeInserter(unwritable);
    const hits = poisoned('h', 100, [40]);
    const links = goodRows('l', 10);
    const err = await insert({ [HITS]: bodyOf(hits.rows), [LINKS]: bodyOf(links) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsertInterrupted);
    const { rest, rows, reason } = err as InsertInterrupted;
    expect((reason as NodeJS.ErrnoException).code).toBe('ENOENT');
    const stored = clickhouse.stored[HITS]!;
    expect(linesOf(rest[HITS])).toContain(hits.poison[0]);
    expect(sorted([...stored, ...linesOf(rest[HITS])])).toEqual(sorted(hits.rows));
    expect(linesOf(rest[LINKS])).toEqual(links);
    expect(rows).toBe(hits.rows.length - stored.length + links.length);
    expect(await byTable(metrics, 'rejected', 'hits')).toBe(0);
    expect(await byTable(metrics, 'inserted', 'hits')).toBe(stored.length);
  });

  it('counts the rows inserted and rejected by table, also when an outage cuts the batch short', async () => {
    const hits = poisoned('h', 200, [5, 6, 150]);
    const links = poisoned('l', 50, [49]);
    const deals = goodRows('d', 7);
    const batch: Tables = { [HITS]: bodyOf(hits.rows), [LINKS]: bodyOf(links.rows), [DEALS]: bodyOf(deals) };

    const whole = fakeInserter(join(dir, 'whole.jsonl'));
    await whole.insert(batch);
    expect(await byTable(whole.metrics, 'inserted', 'hits')).toBe(200);
    expect(await byTable(whole.metrics, 'inserted', LINKS)).toBe(50);
    expect(await byTable(whole.metrics, 'inserted', DEALS)).toBe(7);
    expect(await byTable(whole.metrics, 'rejected', 'hits')).toBe(3);
    expect(await byTable(whole.metrics, 'rejected', LINKS)).toBe(1);
    expect(await byTable(whole.metrics, 'rejected', DEALS)).toBe(0);

    // Cut short in the bisection of the hits, once a row is set aside: the
    // counters say what was stored and set aside so far, no more.
    const afterFirstSetAside = whole.clickhouse.calls.findIndex((c) => c.outcome === 'refused' && c.rows === 1) + 2;
    const cut = fakeInserter(join(dir, 'cut.jsonl'), new FakeClickHouse().failAt(afterFirstSetAside));
    await expect(cut.insert(batch)).rejects.toBeInstanceOf(InsertInterrupted);
    const storedHits = cut.clickhouse.stored[HITS]!.length;
    const setAside = readBadRows(join(dir, 'cut.jsonl')).length;
    expect([storedHits > 0, setAside > 0]).toEqual([true, true]);
    expect(await byTable(cut.metrics, 'inserted', 'hits')).toBe(storedHits);
    expect(await byTable(cut.metrics, 'rejected', 'hits')).toBe(setAside);
    expect(await byTable(cut.metrics, 'inserted', LINKS)).toBe(0);
  });
});
