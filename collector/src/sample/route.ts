// The sample's admin endpoint, behind CRM_ADMIN_TOKEN (Authorization: Bearer).
// It runs inside the collector because the embedded engine's data belongs to
// the collector's process while it runs: `npm run demo` loads the sample through
// it, `npm run demo:clear-sample` removes it.
//
//   GET    /admin/sample   whether the sample is there (marks.ts sampleShown, which pages can ask too): {present, counts}
//   POST   /admin/sample   loads it, unless it is all there: {loaded, anchor?, counts}
//   DELETE /admin/sample   removes exactly it: {removed: counts}
//
// A load or removal answers once the identity resolution after it has finished,
// so the report that follows already shows the change. One runs at a time.
import { Router, type Request, type Response } from 'express';
import { admit, adminGate } from '../http/auth.js';
import type { Services } from '../services.js';
import { sampleCounts, sampleShown } from './marks.js';
import { removeSample } from './remove.js';
import { loadSample, SampleRefused, type SampleDeps } from './store.js';

export function sampleRouter(svc: Services): Router {
  const r = Router();
  const db = svc.config.clickhouse.database;
  const deps: SampleDeps = {
    clickhouse: svc.clickhouse,
    db,
    redis: svc.redis,
    ingest: svc.crm.ingest,
    crm: () => svc.crm.config,
    currency: svc.config.money.currency,
  };
  const admin = adminGate(svc.config.crm.adminToken);
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const handle = (fn: () => Promise<object>) => async (req: Request, res: Response) => {
    try {
      res.status(200).json(await oneAtATime(fn));
    } catch (err) {
      if (err instanceof SampleRefused) return void res.status(409).json({ error: 'sample_refused', reason: err.message });
      svc.log.error({ err: String(err), method: req.method }, 'sample request failed');
      res.status(500).json({ error: 'internal_error' });
    }
  };

  r.get(
    '/admin/sample',
    admit(admin),
    handle(async () => {
      const [present, counts] = await Promise.all([sampleShown(svc.clickhouse, db), sampleCounts(svc.clickhouse, db)]);
      return { present, counts };
    }),
  );
  r.post(
    '/admin/sample',
    admit(admin),
    handle(async () => {
      const result = await loadSample(deps, new Date().toISOString().slice(0, 10));
      if (result.loaded) await svc.resolver.refresh();
      return result;
    }),
  );
  r.delete(
    '/admin/sample',
    admit(admin),
    handle(async () => {
      const removed = await removeSample(svc.clickhouse, db);
      await svc.resolver.refresh();
      return { removed };
    }),
  );
  return r;
}
