// The daily salt of IP hashes against the real Redis: the salt read at start is
// the one the first hit uses (every collector hashes the first hits alike), and
// the next day's is read before that day begins.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DailySalt } from '../../collector/src/privacy/salt.js';
import { REDIS_URL } from '../helpers/env.js';
import { dropRedisPrefix } from '../helpers/redis.js';
import { until } from '../helpers/platform-site.js';

const DAY = 86_400_000;

describe('the daily salt', () => {
  const prefix = `salt_${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  afterAll(async () => {
    redis.disconnect();
    await dropRedisPrefix(prefix);
  });

  it('the first hit after the start uses the salt in Redis, as every other collector does', async () => {
    const now = Date.now();
    const day = Math.floor(now / DAY);
    const [a, b] = [new DailySalt(redis), new DailySalt(redis)];
    await Promise.all([a.fetch(day, now), b.fetch(day, now)]);
    const stored = await redis.get(`salt:${day}`);
    expect(a.current(now)).toBe(stored);
    expect(b.current(now)).toBe(stored);
  });

  it("reads the next day's salt in its last minutes, so the day's first hits hash alike too", async () => {
    const day = Math.floor(Date.now() / DAY) + 10;
    const salt = new DailySalt(redis);
    await salt.fetch(day, day * DAY);
    salt.current((day + 1) * DAY - 60_000);
    await until(async () => (await redis.get(`salt:${day + 1}`)) !== null);
    await new Promise((r) => setTimeout(r, 50));
    expect(salt.current((day + 1) * DAY + 1)).toBe(await redis.get(`salt:${day + 1}`));
  });
});
