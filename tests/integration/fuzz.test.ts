// Property test: thousands of random bodies (random bytes, random JSON, valid hits
// with one field mutated) against the built collector. The process stays up,
// every answer is one of the documented statuses (never a 5xx), and the counters
// add up: accepted + dropped = requests sent, and ClickHouse holds exactly the
// accepted hits.
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { BROWSER_UA } from '../helpers/load.js';

const ALLOWED = new Set([204, 400, 403, 413, 415, 429]);

const validHit = fc.record({
  s: fc.constantFrom('demo', 'shop'),
  k: fc.constantFrom('visit', 'lead', 'tel'),
  e: fc.constant(null).map(() => randomBytes(9).toString('hex')),
  t: fc.constant(null).map(() => Date.now()),
  u: fc.webUrl({ withQueryParameters: true }),
  r: fc.oneof(fc.constant(''), fc.webUrl()),
  g: fc.string({ maxLength: 20 }),
  v: fc.string({ maxLength: 6 }),
  p: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 4 }),
});

const mutatedHit = fc.tuple(validHit, fc.constantFrom('s', 'k', 'e', 't', 'u', 'r', 'g', 'y', 'v', 'p', 'w'), fc.anything()).map(([h, key, value]) => {
  const o: Record<string, unknown> = { ...h, [key]: value };
  return JSON.stringify(o) ?? '';
});

const body = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 300 }), weight: 2 },
  { arbitrary: fc.json(), weight: 2 },
  { arbitrary: validHit.map((h) => JSON.stringify(h)), weight: 2 },
  { arbitrary: mutatedHit, weight: 3 },
  { arbitrary: fc.uint8Array({ minLength: 16_000, maxLength: 20_000 }).map((b) => Buffer.from(b)), weight: 1 },
);
const contentType = fc.constantFrom('text/plain', 'text/plain;charset=UTF-8', 'application/json', 'application/octet-stream', 'multipart/form-data');

describe('random bodies', () => {
  let db: TestDatabase;
  let c: RunningCollector;

  beforeAll(async () => {
    db = await freshDatabase();
    c = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      BATCH_MAX_MS: '200',
      BOT_FILTER: 'on',
      REDIS_PREFIX: `t_${randomBytes(4).toString('hex')}:`,
      VISIT_THROTTLE_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
    });
  });
  afterAll(async () => {
    await c?.stop();
    await db?.drop();
  });

  it('stays up, answers only documented statuses, and keeps consistent counters over 3000 bodies', async () => {
    const samples = fc.sample(fc.tuple(body, contentType), { numRuns: 3000, seed: 20261123 });
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const [b, type] = samples[next++]!;
        const r = await fetch(`${c.url}/hit`, { method: 'POST', body: b, headers: { 'Content-Type': type, 'User-Agent': BROWSER_UA } });
        await r.arrayBuffer();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    console.log('statuses', Object.fromEntries(statuses));
    for (const status of statuses.keys()) expect(ALLOWED.has(status), `status ${status}`).toBe(true);
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200);

    const text = await (await fetch(`${c.url}/metrics`)).text();
    /** Sum of a counter's series whose line starts with `prefix`. */
    const sum = (prefix: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(prefix) && !l.startsWith('#'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    const accepted = sum('throughline_hits_accepted_total{');
    const droppedTotal = sum('throughline_hits_dropped_total{');
    expect(accepted + droppedTotal).toBe(samples.length);
    // A 204 is an accepted hit, or one dropped silently (bots, throttled visits).
    const silent = sum('throughline_hits_dropped_total{reason="bot"}') + sum('throughline_hits_dropped_total{reason="throttled"}');
    expect(accepted + silent).toBe(statuses.get(204));
    expect(accepted).toBeGreaterThan(100);
    const stored = await eventually(
      () => db.rows<{ n: string }>('SELECT count() AS n FROM hits'),
      10_000,
      (r) => Number(r[0]?.n) === accepted,
    );
    expect(Number(stored[0]!.n)).toBe(accepted);
  });
});
