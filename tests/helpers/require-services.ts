// Global setup of the integration and browser projects: the real ClickHouse and
// Redis must answer. When one does not, every test of the project fails loudly
// instead of being skipped.
import { Redis } from 'ioredis';
import { CLICKHOUSE_URL, REDIS_URL } from './env.js';

export default async function requireServices(): Promise<void> {
  await check({ clickhouseServer: true });
}

/** The embedded engine's projects: Redis only, no ClickHouse server (tests/helpers/env.ts). */
export async function requireRedis(): Promise<void> {
  await check({ clickhouseServer: false });
}

async function check({ clickhouseServer }: { clickhouseServer: boolean }): Promise<void> {
  const problems: string[] = [];
  if (clickhouseServer) {
    try {
      const r = await fetch(`${CLICKHOUSE_URL}/ping`, { signal: AbortSignal.timeout(3000) });
      if (!r.ok) problems.push(`ClickHouse at ${CLICKHOUSE_URL} answered ${r.status}`);
    } catch (err) {
      problems.push(`ClickHouse is not answering at ${CLICKHOUSE_URL} (${(err as Error).message})`);
    }
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    problems.push(`Redis is not answering at ${REDIS_URL} (${(err as Error).message})`);
  } finally {
    redis.disconnect();
  }
  if (problems.length) {
    throw new Error(`${problems.join('; ')}. Start them with: npm run services`);
  }
}
