// GET /vid on the real collector process against the real Redis: unique ids
// from the 31-letter alphabet, claimed in Redis under the installation's prefix,
// readable cross-origin without a preflight.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdSpaceExhausted, idKey, issueVisitorId, MAX_ATTEMPTS } from '../../collector/src/visitor-id/issue.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { REDIS_URL } from '../helpers/env.js';
import { dropRedisPrefix } from '../helpers/redis.js';

describe('visitor ids', () => {
  const prefix = `t_${randomBytes(4).toString('hex')}:`;
  let db: TestDatabase;
  let collector: RunningCollector;
  let redis: Redis;

  beforeAll(async () => {
    db = await freshDatabase();
    // Hundreds of ids from one address: the per-address limit of /vid is off here (attack/vid.test.ts tests it).
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, REDIS_PREFIX: prefix, VID_RATE_LIMIT_PER_MINUTE: '0' });
    redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    redis?.disconnect();
    await collector?.stop();
    await db?.drop();
  });

  it('issues a 6-character id as text/plain, readable from any origin, never cached', async () => {
    const res = await fetch(`${collector.url}/vid`, { headers: { Origin: 'http://shop.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const id = await res.text();
    expect(id).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    expect(Number(await redis.get(idKey(id)))).toBeGreaterThan(Date.now() - 60_000);
  });

  it('gives every request its own id, each claimed in Redis', async () => {
    const ids = await Promise.all(Array.from({ length: 200 }, () => fetch(`${collector.url}/vid`).then((r) => r.text())));
    expect(new Set(ids).size).toBe(200);
    const claimed = await redis.exists(...ids.map(idKey));
    expect(claimed).toBe(200);
  });

  it('draws again on a collision and gives up after a bounded number of draws', async () => {
    const taken = 'TAKEN2';
    await redis.set(idKey(taken), '1');
    const draws = [taken, taken, 'FRESH3'];
    const id = await issueVisitorId(redis, Date.now(), () => draws.shift()!);
    expect(id).toBe('FRESH3');
    let calls = 0;
    await expect(
      issueVisitorId(redis, Date.now(), () => {
        calls++;
        return taken;
      }),
    ).rejects.toBeInstanceOf(IdSpaceExhausted);
    expect(calls).toBe(MAX_ATTEMPTS);
    expect(await redis.get(idKey(taken))).toBe('1');
  });
});
