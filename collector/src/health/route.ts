// GET /healthz: is each service this collector depends on reachable right now?
// 200 when all are, 503 naming the one that is not (load balancers read the code).
import type { Request, Response } from 'express';
import type { Services } from '../services.js';

const TIMEOUT_MS = 1500;

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

async function check(fn: () => Promise<unknown>): Promise<'up' | 'down'> {
  try {
    await within(fn(), TIMEOUT_MS);
    return 'up';
  } catch {
    return 'down';
  }
}

export function healthHandler(svc: Services) {
  return async (_req: Request, res: Response) => {
    const [clickhouse, redis] = await Promise.all([
      check(async () => {
        const r = await svc.clickhouse.ping();
        if (!r.success) throw r.error;
      }),
      check(() => svc.redis.ping()),
    ]);
    const ok = clickhouse === 'up' && redis === 'up';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', clickhouse, redis, buffered: svc.hits.pending });
  };
}
