// The health routes. Load balancers follow /livez; /readyz is for rollouts.
//   GET /livez   200 while this collector takes hits: its journal is open and
//                SPOOL_DIR takes a write (health/verdict.ts has the rule). Never
//                asks ClickHouse or Redis: during their outage hits are still
//                kept, and taking every collector out would lose them.
//   GET /readyz  200 when it takes hits and can store them: live, ClickHouse and
//                Redis reachable; 503 naming what is down. For a rollout: wait for
//                the new collector's 200 before the next is replaced.
//   GET /healthz ClickHouse and Redis reachable, as it always answered (kept for
//                the probes already pointed at it).
import type { Request, Response } from 'express';
import type { Services } from '../services.js';
import { HealthProbe } from './probe.js';
import { healthzVerdict, livezVerdict, readyzVerdict, type Verdict } from './verdict.js';

const send = (res: Response, v: Verdict) => void res.status(v.status).set('Cache-Control', 'no-store').json(v.body);

/** The probe over the collector's services, started (its gauges refreshed in the background), and the three handlers. */
export function startHealth(svc: Services) {
  const probe = new HealthProbe({
    pingClickHouse: async () => {
      const r = await svc.clickhouse.ping();
      if (!r.success) throw r.error;
    },
    pingRedis: () => svc.redis.ping(),
    buffer: svc.hits,
    metrics: svc.ingest.metrics,
  }).start();
  return {
    probe,
    livez: async (_req: Request, res: Response) => send(res, livezVerdict(await probe.liveness())),
    readyz: async (_req: Request, res: Response) => {
      const [live, deps] = await Promise.all([probe.liveness(), probe.dependencies()]);
      send(res, readyzVerdict(live, deps));
    },
    healthz: async (_req: Request, res: Response) => send(res, healthzVerdict(await probe.dependencies(), svc.hits.pending)),
  };
}
