// GET /vid under attack: one address cannot mint ids without bound, an issued id
// lives while hits carry it and is freed once unused for longer than the
// tracker's cookie lives, and ids claimed without an expiry by earlier versions
// get one.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idKey } from '../../../collector/src/visitor-id/issue.js';
import { eventually } from '../../helpers/clickhouse.js';
import type { RunningCollector } from '../../helpers/collector.js';
import { collectorPerFile } from '../../helpers/collector-per-file.js';
import { REDIS_URL } from '../../helpers/env.js';
import { BROWSER_UA, visitHit } from '../../helpers/load.js';
import { dropRedisPrefix } from '../../helpers/redis.js';

const DAY = 86_400;
/** The tracker keeps its tl_vid cookie 400 days, renewed on every page. */
const COOKIE_DAYS = 400;
const VID_LIMIT = 15;

describe('visitor ids (attack)', () => {
  const prefix = `t_${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  const legacy = 'LGCY22';
  const file = collectorPerFile(async () => {
    // An id claimed by an earlier version: no expiry.
    await redis.set(idKey(legacy), String(Date.now() - 30 * DAY * 1000));
    return { REDIS_PREFIX: prefix, VID_RATE_LIMIT_PER_MINUTE: String(VID_LIMIT) };
  });
  let c: RunningCollector;
  beforeAll(() => {
    c = file.c;
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    redis.disconnect();
  });

  const hit = (v: string) =>
    fetch(`${c.url}/hit`, { method: 'POST', body: visitHit({ v }).body, headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA } });

  it('6. an issued id expires once unused for longer than the cookie lives, and every hit that carries it renews it', async () => {
    const r = await fetch(`${c.url}/vid`);
    expect(r.status).toBe(200);
    const id = await r.text();
    const ttl = await redis.ttl(idKey(id));
    expect(ttl).toBeGreaterThan(COOKIE_DAYS * DAY);
    expect(ttl).toBeLessThanOrEqual((COOKIE_DAYS + 2) * DAY);
    // Time passes (simulated): the id's key would expire in a day.
    await redis.expire(idKey(id), DAY);
    expect((await hit(id.toLowerCase())).status).toBe(204);
    const renewed = await eventually(() => redis.ttl(idKey(id)), 5000, (t) => t > COOKIE_DAYS * DAY);
    expect(renewed).toBeGreaterThan(COOKIE_DAYS * DAY);
    expect(await redis.get(idKey(id))).toMatch(/^\d+$/);
  });

  it('6. GET /vid is rate-limited per address: a flood leaves as many Redis keys as the limit allows, no more', async () => {
    const answers = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const r = await fetch(`${c.url}/vid`);
        return { status: r.status, text: await r.text(), retry: r.headers.get('retry-after') };
      }),
    );
    const issued = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    // The minute may turn during the flood: at most two minutes' worth.
    // One id of this minute went to the test above.
    expect(issued.length).toBeGreaterThanOrEqual(VID_LIMIT - 1);
    expect(issued.length).toBeLessThanOrEqual(2 * VID_LIMIT);
    expect(issued.length + refused.length).toBe(60);
    for (const a of refused) {
      expect(JSON.parse(a.text)).toEqual({ error: 'rate_limited' });
      expect(Number(a.retry)).toBeGreaterThan(0);
    }
    const keys = await redis.keys(`${prefix}vid:*`);
    expect(keys.filter((k) => !k.endsWith(legacy)).length).toBe(issued.length + 1);
  });

  it('6. a hit carrying an id that was never issued leaves no key behind', async () => {
    const never = 'NVR234';
    expect((await hit(never)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.exists(idKey(never))).toBe(0);
  });

  it('6. an id claimed without expiry by an earlier version gets the cookie’s lifetime at start', async () => {
    const ttl = await eventually(() => redis.ttl(idKey(legacy)), 10_000, (t) => t > 0);
    expect(ttl).toBeGreaterThan(COOKIE_DAYS * DAY);
    expect(ttl).toBeLessThanOrEqual((COOKIE_DAYS + 2) * DAY);
  });
});
