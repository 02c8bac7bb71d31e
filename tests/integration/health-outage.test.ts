// Liveness, readiness and the gauges of /metrics through a ClickHouse outage.
// The collector reaches ClickHouse through a TCP relay of the test's own (it
// migrates at start, so it must find ClickHouse then): closing the relay, and
// cutting the connections it carries, is ClickHouse gone for this collector only,
// while the shared server goes on for everyone else. During the outage /livez
// stays 200 and hits are still accepted, /readyz answers 503 naming clickhouse,
// throughline_clickhouse_up is 0 and the spill backlog gauge counts the batches
// waiting; reopened, the replay stores every hit and the backlog falls to 0.
// Once with the spool directory (SPILL_REDIS=never), once with the Redis list
// (SPILL_REDIS=always, under a key prefix of the test's own).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { CLICKHOUSE_URL, REDIS_URL } from '../helpers/env.js';
import { metricsText } from '../helpers/metrics-text.js';

/** A TCP relay from a port of its own to `target`, which can be closed (every connection cut) and opened again on the same port. */
class Relay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

const hit = (id: string) => JSON.stringify({ s: 'demo', k: 'visit', e: id, t: Date.now(), u: 'https://shop.example/outage' });

async function json(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe.each([
  { spill: 'never', where: 'disk' },
  { spill: 'always', where: 'redis' },
] as const)('a ClickHouse outage, batches spilled to $where', ({ spill, where }) => {
  let db: TestDatabase;
  let spool: string;
  let relay: Relay;
  let collector: RunningCollector;
  let redis: Redis;
  const prefix = `tl-health-${process.pid}-${randomBytes(3).toString('hex')}:`;
  const ids = Array.from({ length: 30 }, (_, i) => `health${where}${String(i).padStart(4, '0')}`);
  const backlog = `throughline_spill_backlog_batches{where="${where}"}`;
  const metrics = async () => metricsText(await (await fetch(`${collector.url}/metrics`)).text());

  beforeAll(async () => {
    db = await freshDatabase();
    spool = mkdtempSync(join(tmpdir(), 'tl-health-'));
    const server = new URL(CLICKHOUSE_URL);
    relay = new Relay(await freePort(), { host: server.hostname, port: Number(server.port || 8123) });
    await relay.open();
    collector = await startCollector({
      CLICKHOUSE_URL: `http://127.0.0.1:${relay.port}`,
      CLICKHOUSE_DATABASE: db.name,
      SPOOL_DIR: spool,
      SPILL_REDIS: spill,
      REDIS_PREFIX: prefix,
      BATCH_MAX_MS: '100',
      INSERT_TIMEOUT_MS: '2000',
      VISIT_THROTTLE_SECONDS: '0',
    });
    redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  });
  afterAll(async () => {
    await collector?.stop();
    await relay?.close();
    await redis?.del('spill:batches');
    redis?.disconnect();
    await db?.drop();
    rmSync(spool, { recursive: true, force: true });
  });

  it('is live and ready with both services up, its backlog empty', async () => {
    expect(await json(`${collector.url}/livez`)).toEqual({ status: 200, body: { status: 'live', journal: 'writable' } });
    expect(await json(`${collector.url}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', journal: 'writable', clickhouse: 'up', redis: 'up', down: [] },
    });
    const m = await metrics();
    expect(m.get('throughline_clickhouse_up')).toBe(1);
    expect(m.get('throughline_redis_up')).toBe(1);
    expect(m.get(backlog)).toBe(0);
  });

  it('stays live and takes hits while ClickHouse is away; not ready, naming clickhouse; the backlog counts what waits', async () => {
    await relay.close();
    for (const id of ids.slice(0, 10)) expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: hit(id) })).status).toBe(204);
    expect(await json(`${collector.url}/livez`)).toEqual({ status: 200, body: { status: 'live', journal: 'writable' } });
    const ready = await json(`${collector.url}/readyz`);
    expect(ready).toEqual({ status: 503, body: { status: 'not_ready', journal: 'writable', clickhouse: 'down', redis: 'up', down: ['clickhouse'] } });
    // As before: /healthz answers 503 too.
    expect((await json(`${collector.url}/healthz`)).body).toMatchObject({ status: 'degraded', clickhouse: 'down', redis: 'up' });
    for (const id of ids.slice(10, 20)) expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: hit(id) })).status).toBe(204);
    // The probe refreshes the backlog every few seconds.
    const m = await eventually(metrics, 20_000, (x) => x.get(backlog) > 0);
    expect(m.get(backlog)).toBeGreaterThan(0);
    expect(m.get('throughline_clickhouse_up')).toBe(0);
    expect(m.get('throughline_redis_up')).toBe(1);
    if (where === 'disk') expect(m.get('throughline_spill_backlog_bytes{where="disk"}')).toBeGreaterThan(0);
    // The gauge is the list's length, as Redis has it.
    else expect(m.get(backlog)).toBe(await redis.llen('spill:batches'));
    expect(m.sum('throughline_batches_spilled_total')).toBeGreaterThan(0);
  });

  it('back to ready when ClickHouse is back; the replay stores every hit once and the backlog falls to 0', async () => {
    await relay.open();
    for (const id of ids.slice(20)) expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: hit(id) })).status).toBe(204);
    expect((await eventually(() => json(`${collector.url}/readyz`), 10_000, (r) => r.status === 200)).status).toBe(200);
    // The replay backs off up to 30 s between tries while ClickHouse is away.
    const m = await eventually(metrics, 50_000, (x) => x.get(backlog) === 0 && x.get('throughline_clickhouse_up') === 1);
    expect(m.get(backlog)).toBe(0);
    expect(m.get('throughline_clickhouse_up')).toBe(1);
    if (where === 'disk') expect(m.get('throughline_spill_backlog_bytes{where="disk"}')).toBe(0);
    else expect(await redis.llen('spill:batches')).toBe(0);
    const rows = await eventually(
      () => db.rows<{ event_id: string; n: string }>(`SELECT event_id, count() AS n FROM hits GROUP BY event_id ORDER BY event_id`),
      20_000,
      (r) => r.length === ids.length,
    );
    expect(rows.map((r) => r.event_id)).toEqual([...ids].sort());
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
  }, 120_000);
});
