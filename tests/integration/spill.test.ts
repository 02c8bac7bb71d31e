// The spill (spill/spill.ts) alone: the real Redis (a key prefix of each test's
// own, removed after) and a spool directory of its own, inserting through a real
// Inserter into a stand-in for ClickHouse. put() moves a batch to a spool file or
// the Redis list and removes its segment; a replay stores it once, sets poison
// rows aside alone, and when an outage cuts it short keeps only the rows not
// stored and backs off. The clock is fake for setTimeout and Date only, so the
// Redis client's I/O runs as ever while the back-off is read to the millisecond.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SpillRedis } from '../../collector/src/config.js';
import { badRowsPath } from '../../collector/src/spill/bad-rows.js';
import { fileName } from '../../collector/src/spill/files.js';
import { Spill } from '../../collector/src/spill/spill.js';
import { bodyOf, journalText, parseJournal, rowCount, type Tables } from '../../collector/src/spill/tables.js';
import { REDIS_URL } from '../helpers/env.js';
import { fakeInserter, goodRows, poisonRow, readBadRows, rowsOf, silentLog, timedOut } from '../helpers/fake-clickhouse.js';
import { metricsText } from '../helpers/metrics-text.js';
import { among } from '../helpers/poison-rows.js';

const LINKS = 'identity_links';
const DEALS = 'deals';
/** The spill's Redis list, under the test's key prefix. */
const LIST = 'spill:batches';

/** Waits, in real time, until `done()` holds: eventually() (helpers/clickhouse.ts) waits on the clock, which stands still here. */
async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!(await done())) {
    if (performance.now() > deadline) throw new Error(`still waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('spill', () => {
  let dir: string;
  let redis: Redis;
  let tests = 0;
  const spills: Spill[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tl-spill-'));
    redis = new Redis(REDIS_URL, { keyPrefix: `tl-spill-${process.pid}-${++tests}:`, lazyConnect: true });
    await redis.connect();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(async () => {
    for (const s of spills.splice(0)) s.stop();
    vi.useRealTimers();
    await redis.del(LIST);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  function setUp(redisMode: SpillRedis) {
    const start = Date.now();
    const fake = fakeInserter(badRowsPath(dir, process.pid, start));
    const spill = new Spill({ dir, pid: process.pid, start, redis, redisMode, insert: fake.insert, log: silentLog(), metrics: fake.metrics });
    spills.push(spill);
    let seq = 0;
    /** Spills a batch as the journal buffer does, from its sealed segment file; returns the segment's path. */
    const put = async (batch: Tables) => {
      const segment = join(dir, fileName('j', process.pid, start, ++seq));
      const journal = journalText(batch);
      writeFileSync(segment, journal);
      await spill.put(journal, segment, rowCount(Buffer.concat(Object.values(batch))));
      return segment;
    };
    const counter = async (series: string) => metricsText(await fake.metrics.registry.metrics()).get(series);
    return { ...fake, spill, put, counter };
  }

  /** The rows of each spool file. */
  const spooled = () =>
    readdirSync(dir)
      .filter((f) => f.startsWith('s-'))
      .map((f) => rowsOf(parseJournal(readFileSync(join(dir, f))).tables));
  /** The rows of each batch in the Redis list. */
  const listed = async () => (await redis.lrangeBuffer(LIST, 0, -1)).map((b) => rowsOf(parseJournal(b).tables));

  const batchOf = (deals: number, links: string[]): Tables => ({ [DEALS]: bodyOf(goodRows('d', deals)), [LINKS]: bodyOf(links) });

  it('with SPILL_REDIS=never, put() writes a spool file and removes the segment; replay() stores it once and removes it', async () => {
    const { spill, put, clickhouse, counter } = setUp('never');
    const batch = batchOf(3, goodRows('l', 20));
    const segment = await put(batch);
    expect(existsSync(segment)).toBe(false);
    expect(spooled()).toEqual([rowsOf(batch)]);
    expect(await redis.llen(LIST)).toBe(0);
    expect(await counter('throughline_batches_spilled_total{to="disk"}')).toBe(1);
    expect(clickhouse.calls).toEqual([]);

    await spill.replay();
    expect(clickhouse.stored).toEqual(rowsOf(batch));
    expect(readdirSync(dir)).toEqual([]);
    expect(spill.clickhouseDown).toBe(false);
    expect(await counter('throughline_batches_replayed_total{from="disk"}')).toBe(1);
  });

  it('on an outage during the replay keeps a file of only the rows not stored, and backs off 250, 250, 500, 1000 ms', async () => {
    const { spill, put, clickhouse, counter } = setUp('never');
    const failures = async () => counter('throughline_insert_failures_total');
    const batch = batchOf(4, goodRows('l', 30));
    clickhouse.failAt(2); // the deals are stored, the links are not
    const t0 = Date.now();
    await put(batch);

    await vi.advanceTimersByTimeAsync(250);
    await until(async () => (await failures()) === 1, 'the first replay to fail');
    expect(clickhouse.stored).toEqual({ [DEALS]: goodRows('d', 4) });
    expect(spooled()).toEqual([{ [LINKS]: goodRows('l', 30) }]);
    expect(spill.clickhouseDown).toBe(true);

    clickhouse.down(timedOut());
    for (const [wait, n] of [
      [250, 2],
      [500, 3],
    ] as const) {
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(await failures()).toBe(n - 1);
      await vi.advanceTimersByTimeAsync(1);
      await until(async () => (await failures()) === n, `replay ${n} to fail`);
    }
    expect(spooled()).toEqual([{ [LINKS]: goodRows('l', 30) }]);

    clickhouse.up();
    await vi.advanceTimersByTimeAsync(999);
    expect(clickhouse.calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => !spill.clickhouseDown, 'the replay to get through');
    expect(clickhouse.calls.map((c) => [c.stream, c.at - t0, c.outcome])).toEqual([
      [DEALS, 250, 'stored'],
      [LINKS, 250, 'outage'],
      [LINKS, 500, 'outage'],
      [LINKS, 1000, 'outage'],
      [LINKS, 2000, 'stored'],
    ]);
    expect(clickhouse.stored).toEqual(rowsOf(batch));
    expect(spooled()).toEqual([]);
    expect(await counter('throughline_batches_replayed_total{from="disk"}')).toBe(1);
  });

  it('replays a batch with poison rows, setting aside only the poison rows', async () => {
    const { spill, put, clickhouse, counter, badRows } = setUp('never');
    const poison = [poisonRow('p0'), poisonRow('p1'), poisonRow('p2')];
    const good = goodRows('l', 300);
    await put(batchOf(5, among(good, poison, [0, 150, 302])));
    await spill.replay();
    expect(clickhouse.stored[DEALS]).toEqual(goodRows('d', 5));
    expect([...clickhouse.stored[LINKS]!].sort()).toEqual(good);
    expect(readBadRows(badRows.path).map((b) => [b.stream, b.row, b.code])).toEqual(poison.map((row) => [LINKS, row, 27]));
    expect(spooled()).toEqual([]);
    expect(spill.clickhouseDown).toBe(false);
    expect(await counter(`throughline_rows_rejected_total{table="${LINKS}"}`)).toBe(3);
    expect(await counter('throughline_batches_replayed_total{from="disk"}')).toBe(1);
  });

  it('with SPILL_REDIS=always, put() pushes the batch to the Redis list; replay() stores it once and empties the list', async () => {
    const { spill, put, clickhouse, counter } = setUp('always');
    const batch = batchOf(2, goodRows('l', 10));
    const segment = await put(batch);
    expect(existsSync(segment)).toBe(false);
    expect(await listed()).toEqual([rowsOf(batch)]);
    expect(readdirSync(dir)).toEqual([]);
    expect(await counter('throughline_batches_spilled_total{to="redis"}')).toBe(1);

    await spill.replay();
    expect(clickhouse.stored).toEqual(rowsOf(batch));
    expect(await redis.llen(LIST)).toBe(0);
    expect(await counter('throughline_batches_replayed_total{from="redis"}')).toBe(1);
  });

  it('on an outage replaying from Redis leaves in the list only the rows not stored', async () => {
    const { spill, put, clickhouse, counter } = setUp('always');
    const batch = batchOf(4, goodRows('l', 30));
    clickhouse.failAt(2);
    await put(batch);
    await spill.replay();
    expect(clickhouse.stored).toEqual({ [DEALS]: goodRows('d', 4) });
    expect(await listed()).toEqual([{ [LINKS]: goodRows('l', 30) }]);
    expect(spill.clickhouseDown).toBe(true);

    await spill.replay();
    expect(clickhouse.stored).toEqual(rowsOf(batch));
    expect(await redis.llen(LIST)).toBe(0);
    expect(spill.clickhouseDown).toBe(false);
    expect(await counter('throughline_batches_replayed_total{from="redis"}')).toBe(1);
  });
});
