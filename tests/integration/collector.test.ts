// The built collector as a real process against the real ClickHouse and Redis.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { COLLECTOR_MAIN, startCollector, type RunningCollector } from '../helpers/collector.js';
import { CLICKHOUSE_URL, REDIS_URL } from '../helpers/env.js';
import { startLoad } from '../helpers/load.js';

const hit = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    s: 'demo',
    k: 'visit',
    e: randomBytes(8).toString('hex'),
    t: Date.now(),
    u: 'https://shop.example/landing?utm_source=yandex&utm_medium=cpc&utm_campaign=brand&yclid=123',
    r: 'https://ya.ru/',
    g: '908899769.1600020018',
    y: '1551977723718998723',
    ...over,
  });

const post = (url: string, body: string, type = 'text/plain') =>
  fetch(`${url}/hit`, { method: 'POST', body, headers: { 'Content-Type': type } });

describe('collector process', () => {
  let db: TestDatabase;
  let collector: RunningCollector;

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '200', VISIT_THROTTLE_SECONDS: '0' });
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
  });

  it('reports ClickHouse and Redis reachable at /healthz', async () => {
    const r = await fetch(`${collector.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', clickhouse: 'up', redis: 'up' });
  });

  it('stores an accepted visit in ClickHouse with its ids and UTM tags', async () => {
    const body = hit();
    const r = await post(collector.url, body);
    expect(r.status).toBe(204);
    const id = JSON.parse(body).e as string;
    const rows = await eventually(() => db.rows(`SELECT * FROM hits WHERE event_id = '${id}'`), 5000);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      site_id: 'demo',
      kind: 'visit',
      ga_cid: '908899769.1600020018',
      ym_uid: '1551977723718998723',
      utm_source: 'yandex',
      utm_medium: 'cpc',
      utm_campaign: 'brand',
      click_id_name: 'yclid',
      click_id: '123',
      referrer: 'https://ya.ru/',
    });
  });

  it('answers malformed and oversized bodies with a 4xx and a reason', async () => {
    const bad = await post(collector.url, '{nope');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'malformed_json' });
    const big = await post(collector.url, hit({ u: `https://a.example/?utm_source=${'x'.repeat(20_000)}` }));
    expect(big.status).toBe(413);
    const get = await fetch(`${collector.url}/hit`);
    expect(get.status).toBe(405);
  });

  it('serves the built tracker at a stable URL', async () => {
    const r = await fetch(`${collector.url}/t.js`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/javascript/);
    expect((await r.text()).length).toBeGreaterThan(100);
  });

  it('flushes buffered rows on SIGTERM before exiting', async () => {
    // A database of its own: on the embedded engine a second collector cannot open the file's.
    const db = await freshDatabase();
    onTestFinished(() => db.drop());
    const slow = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '60000', BATCH_MAX_ROWS: '100000', VISIT_THROTTLE_SECONDS: '0' });
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const body = hit({ u: 'https://shop.example/sigterm' });
      ids.push(JSON.parse(body).e);
      expect((await post(slow.url, body)).status).toBe(204);
    }
    const before = await db.rows<{ n: string }>(`SELECT count() AS n FROM hits WHERE url = 'https://shop.example/sigterm'`);
    expect(Number(before[0]!.n)).toBe(0); // still buffered
    expect(await slow.stop('SIGTERM')).toBe(0);
    const after = await db.rows<{ event_id: string }>(`SELECT event_id FROM hits WHERE url = 'https://shop.example/sigterm'`);
    expect(after.map((r) => r.event_id).sort()).toEqual(ids.sort());
  });

  it('refuses to start on a bad variable and names it', () => {
    const r = spawnSync(process.execPath, [COLLECTOR_MAIN], {
      env: { PATH: process.env.PATH, THROUGHLINE_PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/THROUGHLINE_PORT/);
  });

  it('refuses to start on a bad SITES value (bad JSON, or no such file) and says so', () => {
    for (const sites of ['{"shop": ', '/nonexistent/sites.json']) {
      const r = spawnSync(process.execPath, [COLLECTOR_MAIN], {
        env: { PATH: process.env.PATH, CLICKHOUSE_URL, REDIS_URL, CLICKHOUSE_DATABASE: db.name, SITES: sites },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).toBe(78);
      expect(r.stderr).toMatch(/SITES: /);
    }
  });

  it('with JOURNAL_FSYNC=1 keeps every hit it acknowledged through a SIGKILL before any insert', async () => {
    const db = await freshDatabase();
    onTestFinished(() => db.drop());
    const spool = mkdtempSync(join(tmpdir(), 'tl-fsync-'));
    try {
      // No insert before the kill: everything acknowledged is only in the journal.
      const env = { CLICKHOUSE_DATABASE: db.name, SPOOL_DIR: spool, VISIT_THROTTLE_SECONDS: '0' };
      const first = await startCollector({ ...env, JOURNAL_FSYNC: '1', BATCH_MAX_MS: '60000' });
      const load = startLoad(() => first.url, 8, 0);
      await new Promise((r) => setTimeout(r, 1500));
      await first.stop('SIGKILL');
      await load.stop();
      expect(load.acked.size).toBeGreaterThan(50);
      const second = await startCollector({ ...env, BATCH_MAX_MS: '200' });
      try {
        const ids = [...load.acked].map((id) => `'${id}'`).join(',');
        const stored = await eventually(
          () => db.rows<{ n: string }>(`SELECT uniqExact(event_id) AS n FROM hits WHERE event_id IN (${ids})`),
          15_000,
          (r) => Number(r[0]?.n) >= load.acked.size,
        );
        expect(Number(stored[0]!.n)).toBe(load.acked.size);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(spool, { recursive: true, force: true });
    }
  });
});
