// A test's Redis keys live under a prefix of its own (REDIS_PREFIX): dropped after it.
import { Redis } from 'ioredis';
import { REDIS_URL } from './env.js';

/** Deletes every key under `prefix` (the test's REDIS_PREFIX). */
export async function dropRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
