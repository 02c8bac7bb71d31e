// Nothing acknowledged is lost: the built collector under load while ClickHouse
// is stopped, while the collector itself is stopped or killed, while Redis is
// down, and while Redis restarts with spilled batches in it (kept by its
// append-only file, or never given to a Redis without one). Private ClickHouse
// and Redis servers (tests/helpers/private-services.ts),
// so the shared ones are never touched. Every check compares event ids, not
// counts; "exactly once" is read the way queries must read a ReplacingMergeTree
// (LIMIT 1 BY event_id), and the raw row count is printed beside it. Poison rows
// (rows ClickHouse refuses) left by a dead instance among thousands of good ones
// are set aside alone while the collector is under load, with and without an outage.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { eventually } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { startLoad } from '../helpers/load.js';
import { privateClickHouse, privateRedis, type PrivateClickHouse, type PrivateRedis } from '../helpers/private-services.js';
import { fileName } from '../../collector/src/spill/files.js';
import { journalOf, tsvStream } from '../../collector/src/spill/tables.js';
import { among, badDateHitLine, hitLine, ids, linkLine, rowsBody, surrogateLinkLine, unknownFieldLinkLine, type BadRowLine } from '../helpers/poison-rows.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DEAD_PID = 2 ** 22 + 4323; // above the default pid_max: no such process

/**
 * A dead instance's journal segment with one poison row (a lone surrogate in a
 * link) and a spool file with several (bad DateTimes first, in the middle and
 * last; a link with an unknown field), among thousands of good rows.
 */
function poisonFiles(spool: string) {
  const segHits = ids('fseghit', 3000);
  const segLinks = ids('fseglink', 500);
  const spHits = ids('fsphit', 2000);
  const spLinks = ids('fsplink', 300);
  const poison = {
    links: [surrogateLinkLine('fpoison0'), unknownFieldLinkLine('fpoison1')],
    hits: [badDateHitLine('fpoison2'), badDateHitLine('fpoison3'), badDateHitLine('fpoison4')],
  };
  writeFileSync(
    join(spool, fileName('j', DEAD_PID, 1, 1)),
    journalOf([
      { stream: tsvStream('hits'), buf: rowsBody(segHits.map((id) => hitLine(id))) },
      { stream: 'identity_links', buf: rowsBody(among(segLinks.map((h) => linkLine('V1', h)), [poison.links[0]!], [250])) },
    ]),
  );
  writeFileSync(
    join(spool, fileName('s', DEAD_PID, 1, 2)),
    journalOf([
      { stream: tsvStream('hits'), buf: rowsBody(among(spHits.map((id) => hitLine(id)), poison.hits, [0, 1001, 2002])) },
      { stream: 'identity_links', buf: rowsBody(among(spLinks.map((h) => linkLine('V2', h)), [poison.links[1]!], [299])) },
    ]),
  );
  return { hits: [...segHits, ...spHits], links: [...segLinks, ...spLinks].sort(), poison: [...poison.links, ...poison.hits].sort() };
}

describe('durability under faults', () => {
  let ch: PrivateClickHouse;
  let redis: PrivateRedis;
  let client: ClickHouseClient;
  let n = 0;

  beforeAll(async () => {
    ch = await privateClickHouse();
    // Persistent, as production's should be: the spill uses it (SPILL_REDIS=auto).
    redis = await privateRedis({ persistent: true });
    await Promise.all([ch.start(), redis.start()]);
    client = connect({ url: ch.url, user: 'default', password: '', database: 'default' }, null);
  });
  afterAll(async () => {
    await client?.close();
    await redis?.destroy();
    await ch?.destroy();
  });

  /** A fresh database and spool directory per test; the collector env to use them. */
  function setup(over: Record<string, string> = {}) {
    const db = `tl_fault_${process.pid}_${++n}`;
    const spool = mkdtempSync(join(tmpdir(), 'tl-spool-'));
    const env = {
      CLICKHOUSE_URL: ch.url,
      REDIS_URL: redis.url,
      CLICKHOUSE_DATABASE: db,
      SPOOL_DIR: spool,
      BATCH_MAX_MS: '200',
      INSERT_TIMEOUT_MS: '3000',
      VISIT_THROTTLE_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
      ...over,
    };
    return { db, spool, env };
  }

  /** Every stored row's event id, and how many times it is stored (before merges fold repeats). */
  async function stored(db: string): Promise<{ ids: string[]; distinct: Set<string>; raw: number }> {
    const rs = await client.query({ query: `SELECT event_id FROM ${db}.hits ORDER BY event_id LIMIT 1 BY event_id`, format: 'JSONEachRow' });
    const ids = (await rs.json<{ event_id: string }>()).map((r) => r.event_id);
    const raw = await client.query({ query: `SELECT count() AS n FROM ${db}.hits`, format: 'JSONEachRow' });
    return { ids, distinct: new Set(ids), raw: Number((await raw.json<{ n: string }>())[0]!.n) };
  }

  /** Waits until every acknowledged id is stored, then asserts exactly that. */
  async function expectAllStored(db: string, acked: Set<string>, label: string, timeoutMs = 45_000): Promise<void> {
    const last = await eventually(() => stored(db), timeoutMs, (s) => [...acked].every((id) => s.distinct.has(id)));
    const missing = [...acked].filter((id) => !last.distinct.has(id));
    console.log(`${label}: acknowledged ${acked.size}, stored distinct ${last.distinct.size} (LIMIT 1 BY event_id), raw rows ${last.raw}, missing ${missing.length}`);
    expect(missing).toEqual([]);
    // LIMIT 1 BY gives each id once: what a query sees is one row per event.
    expect(last.ids.length).toBe(last.distinct.size);
  }

  /** How often each event id is stored (no OPTIMIZE runs here). */
  async function copies(db: string): Promise<Map<string, number>> {
    const rs = await client.query({ query: `SELECT event_id, count() AS n FROM ${db}.hits GROUP BY event_id`, format: 'JSONEachRow' });
    return new Map((await rs.json<{ event_id: string; n: string }>()).map((r) => [r.event_id, Number(r.n)]));
  }

  async function links(db: string): Promise<string[]> {
    const rs = await client.query({ query: `SELECT id_b FROM ${db}.identity_links ORDER BY id_b`, format: 'JSONEachRow' });
    return (await rs.json<{ id_b: string }>()).map((r) => r.id_b);
  }

  function badRows(spool: string): BadRowLine[] {
    return readdirSync(spool)
      .filter((f) => f.startsWith('bad-rows-'))
      .flatMap((f) => readFileSync(join(spool, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as BadRowLine);
  }

  async function cleanup(db: string, spool: string, collector?: RunningCollector) {
    await collector?.stop('SIGKILL');
    await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    rmSync(spool, { recursive: true, force: true });
  }

  /**
   * ClickHouse stopped under load for 3 s and started again (with `restart`, the
   * Redis `r` is restarted meanwhile, while the batches wait in the spill): every
   * acknowledged hit is stored, once. `stop`: SIGTERM, a clean shutdown (which
   * waits for the collector's open connections), or SIGKILL, a crash and a quick
   * outage. Returns the collector's /metrics.
   */
  async function clickhouseOutage(
    label: string,
    { r = redis, restart = false, stop = 'SIGTERM' }: { r?: PrivateRedis; restart?: boolean; stop?: 'SIGTERM' | 'SIGKILL' } = {},
  ): Promise<string> {
    const { db, spool, env } = setup({ REDIS_URL: r.url });
    const collector = await startCollector(env);
    try {
      const load = startLoad(() => collector.url);
      await sleep(1000);
      await ch.stop(stop);
      await sleep(2000);
      if (restart) {
        await r.stop();
        await r.start();
      }
      await sleep(1000);
      const duringOutage = load.acked.size;
      await ch.start();
      await sleep(1000);
      await load.stop();
      expect(load.acked.size).toBeGreaterThan(duringOutage); // accepted before, during and after
      expect(load.failed()).toBe(0); // the outage was invisible to senders
      await expectAllStored(db, load.acked, label);
      return await (await fetch(`${collector.url}/metrics`)).text();
    } finally {
      await cleanup(db, spool, collector);
    }
  }

  it('(a) keeps every acknowledged hit, once, when ClickHouse stops and comes back', async () => {
    const metrics = await clickhouseOutage('(a) ClickHouse outage');
    expect(metrics).toMatch(/throughline_batches_spilled_total\{to="redis"\} [1-9]/);
    expect(metrics).toMatch(/throughline_batches_replayed_total\{from="redis"\} [1-9]/);
  });

  it('(b) loses nothing acknowledged when the collector gets SIGTERM under load', async () => {
    const { db, spool, env } = setup({ BATCH_MAX_MS: '5000', BATCH_MAX_ROWS: '100000' });
    const collector = await startCollector(env);
    try {
      const load = startLoad(() => collector.url);
      await sleep(1500);
      expect(await collector.stop('SIGTERM')).toBe(0);
      await load.stop();
      expect(load.acked.size).toBeGreaterThan(100);
      // Flushed before exit: nothing waits in the journal (the emptied directory is removed).
      expect(existsSync(spool)).toBe(false);
      await expectAllStored(db, load.acked, '(b) SIGTERM', 1);
    } finally {
      await cleanup(db, spool, collector);
    }
  });

  it('(c) keeps everything acknowledged through a SIGKILL and a restart', async () => {
    const { db, spool, env } = setup({ BATCH_MAX_MS: '5000', BATCH_MAX_ROWS: '100000' });
    let collector = await startCollector(env);
    try {
      const load = startLoad(() => collector.url);
      await sleep(1500);
      await collector.stop('SIGKILL');
      const killedAt = load.acked.size;
      await sleep(300);
      expect(killedAt).toBeGreaterThan(100);
      collector = await startCollector(env);
      await sleep(500);
      await load.stop();
      expect(load.acked.size).toBeGreaterThan(killedAt); // the restarted collector takes hits again
      await expectAllStored(db, load.acked, '(c) SIGKILL + restart');
    } finally {
      await cleanup(db, spool, collector);
    }
  });

  it('(f) keeps batches spilled to a persistent Redis through a Redis restart', async () => {
    const metrics = await clickhouseOutage('(f) Redis restart, append-only file', { restart: true, stop: 'SIGKILL' });
    expect(metrics).toMatch(/throughline_batches_spilled_total\{to="redis"\} [1-9]/);
    expect(metrics).toMatch(/throughline_batches_replayed_total\{from="redis"\} [1-9]/);
  });

  it('(g) spools to disk, not to a Redis that keeps nothing, and loses nothing when that Redis restarts', async () => {
    const volatile = await privateRedis();
    await volatile.start();
    try {
      const metrics = await clickhouseOutage('(g) Redis restart, no persistence', { r: volatile, restart: true, stop: 'SIGKILL' });
      expect(metrics).toMatch(/throughline_batches_spilled_total\{to="disk"\} [1-9]/);
      expect(metrics).not.toMatch(/throughline_batches_spilled_total\{to="redis"\} [1-9]/);
    } finally {
      await volatile.destroy();
    }
  });

  it('(d) accepts and stores hits while Redis is down, limits failing open', async () => {
    const { db, spool, env } = setup({ VISIT_THROTTLE_SECONDS: '600', RATE_LIMIT_PER_MINUTE: '100000', REDIS_TIMEOUT_MS: '100' });
    const collector = await startCollector(env);
    try {
      const load = startLoad(() => collector.url);
      await sleep(500);
      await redis.stop();
      const before = load.acked.size;
      await sleep(2000);
      await load.stop();
      expect(load.acked.size - before).toBeGreaterThan(50);
      expect(load.failed()).toBe(0);
      // Every sender's visitor is new, so nothing is throttled: an id missing below is a lost hit.
      const metrics = await (await fetch(`${collector.url}/metrics`)).text();
      expect(metrics).not.toMatch(/throughline_hits_dropped_total\{reason="(throttled|rate_limited)"\} [1-9]/);
      await expectAllStored(db, load.acked, '(d) Redis down');
    } finally {
      await redis.start();
      await cleanup(db, spool, collector);
    }
  });

  it('(e) spools to disk when ClickHouse and Redis are both down, and replays when they return', async () => {
    const { db, spool, env } = setup();
    const collector = await startCollector(env);
    try {
      const load = startLoad(() => collector.url);
      await sleep(500);
      await Promise.all([ch.stop(), redis.stop()]);
      await sleep(2000);
      expect(readdirSync(spool).some((f) => f.startsWith('s-'))).toBe(true);
      await Promise.all([ch.start(), redis.start()]);
      await sleep(500);
      await load.stop();
      expect(load.failed()).toBe(0);
      await expectAllStored(db, load.acked, '(e) ClickHouse and Redis down');
      const metrics = await (await fetch(`${collector.url}/metrics`)).text();
      expect(metrics).toMatch(/throughline_batches_replayed_total\{from="disk"\} [1-9]/);
    } finally {
      await cleanup(db, spool, collector);
    }
  });

  it('(h) sets aside only the poison rows left by a dead instance, stores every good row exactly once, under load', async () => {
    const { db, spool, env } = setup();
    const left = poisonFiles(spool);
    const collector = await startCollector(env);
    try {
      const load = startLoad(() => collector.url);
      await sleep(1500);
      await load.stop();
      expect(load.failed()).toBe(0);
      const good = new Set([...left.hits, ...load.acked]);
      const stored = await eventually(() => copies(db), 30_000, (m) => [...good].every((id) => m.has(id)));
      expect([...good].filter((id) => !stored.has(id))).toEqual([]);
      // Exactly once: nothing else stored, nothing stored twice (no merge has run).
      expect(stored.size).toBe(good.size);
      expect([...stored.values()].filter((n) => n !== 1)).toEqual([]);
      expect(await eventually(() => links(db), 10_000, (l) => l.length >= left.links.length)).toEqual(left.links);
      expect(badRows(spool).map((b) => b.row).sort()).toEqual(left.poison);
    } finally {
      await cleanup(db, spool, collector);
    }
  });

  it('(i) sets aside only the poison rows when their replay meets a ClickHouse outage, and stores every good row', async () => {
    const { db, spool, env } = setup();
    const collector = await startCollector(env);
    try {
      const load = startLoad(() => collector.url);
      await sleep(500);
      await ch.stop('SIGKILL');
      // Left while ClickHouse is down: the replays that meet the outage take them too.
      const left = poisonFiles(spool);
      await sleep(2000);
      await ch.start();
      await sleep(1000);
      await load.stop();
      expect(load.failed()).toBe(0);
      await expectAllStored(db, new Set([...left.hits, ...load.acked]), '(i) poison rows and an outage');
      const stored = await copies(db);
      // The dead instance's good rows: each stored once, the replay cut short by the outage went on where it stopped.
      expect(left.hits.filter((id) => stored.get(id) !== 1)).toEqual([]);
      expect(await eventually(() => links(db), 10_000, (l) => l.length >= left.links.length)).toEqual(left.links);
      expect(badRows(spool).map((b) => b.row).sort()).toEqual(left.poison);
      expect(await (await fetch(`${collector.url}/metrics`)).text()).toMatch(/throughline_rows_rejected_total\{table="hits"\} 3\n/);
    } finally {
      await cleanup(db, spool, collector);
    }
  });
});
