// The daily salt of IP hashes. One random salt per UTC day is kept in Redis so
// every collector behind a load balancer hashes alike; it expires 48 hours after
// its day begins, so yesterday's salt is still there while today's visits go on
// and nothing older survives. Reading it is off the hot path: the salt is cached
// for the day and fetched again when the day changes. When Redis is down, a
// process-local salt of the day stands in (hashes then differ between processes
// until Redis answers again) rather than refusing hits.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

const DAY_MS = 86_400_000;
const KEEP_SECONDS = 48 * 3600;
const RETRY_MS = 10_000;
/** The next day's salt is read this long before the day begins: its first hits hash alike everywhere. */
const AHEAD_MS = 10 * 60_000;

export class DailySalt {
  /** The salts read from Redis, by day (today's, and tomorrow's near midnight). */
  private readonly known = new Map<number, string>();
  private nextTry = 0;
  private fetching = false;
  private readonly local = new Map<number, string>();

  constructor(private readonly redis: Redis) {}

  /** The salt of the day of `now`, synchronously; reads it from Redis in the background. */
  current(now: number): string {
    const day = Math.floor(now / DAY_MS);
    const salt = this.known.get(day);
    if (salt) {
      if ((day + 1) * DAY_MS - now < AHEAD_MS && !this.known.has(day + 1) && !this.fetching && now >= this.nextTry) void this.fetch(day + 1, now);
      return salt;
    }
    if (!this.fetching && now >= this.nextTry) void this.fetch(day, now);
    return this.localSalt(day);
  }

  /** Reads (or creates) the salt of `day` in Redis; resolves when done or failed. The collector awaits today's before it listens. */
  async fetch(day: number, now = Date.now()): Promise<void> {
    this.fetching = true;
    try {
      const key = `salt:${day}`;
      const ttl = Math.max(60, Math.round(((day + 1) * DAY_MS - now) / 1000) + KEEP_SECONDS - 86_400);
      await this.redis.set(key, randomBytes(32).toString('hex'), 'EX', ttl, 'NX');
      const value = await this.redis.get(key);
      if (value) {
        this.known.set(day, value);
        for (const d of this.known.keys()) if (d < day - 1) this.known.delete(d);
      }
    } catch {
      this.nextTry = now + RETRY_MS;
    } finally {
      this.fetching = false;
    }
  }

  private localSalt(day: number): string {
    let s = this.local.get(day);
    if (!s) {
      this.local.clear();
      s = randomBytes(32).toString('hex');
      this.local.set(day, s);
    }
    return s;
  }
}
