// Everything but the hot path goes through Express: health, the tracker file,
// and (in later capabilities) CRM webhooks, uploads and reports.
import express, { type Express } from 'express';
import helmet from 'helmet';
import { crmRouter } from './crm/routes.js';
import { crmSetupRouter } from './crm/setup/route.js';
import { startHealth } from './health/route.js';
import { finalErrorHandler } from './http/errors.js';
import { inboundEmailRouter } from './inbound-email/route.js';
import { outboundRouter } from './outbound/route.js';
import { metrikaRouter } from './outbound/metrika/route.js';
import { TRACKER_FILES } from './paths.js';
import { reportsRouter } from './reports/route.js';
import { sampleRouter } from './sample/route.js';
import type { Services } from './services.js';
import { sqlRouter } from './sql/route.js';
import { visitorIdHandler } from './visitor-id/route.js';

export function createApp(svc: Services): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // The collector is often reached over plain HTTP on a host name (an intranet,
  // a test stand): upgrade-insecure-requests would send the report page's forms
  // to https there, where nothing answers, and form-action then blocks them.
  // Pages served over HTTPS need no upgrade, so the directive serves none.
  app.use(helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' }, contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  // Liveness for load balancers, readiness for rollouts, /healthz as before (health/route.ts).
  const health = startHealth(svc);
  app.get('/livez', health.livez);
  app.get('/readyz', health.readyz);
  app.get('/healthz', health.healthz);
  // The tracker lives at one stable URL; browsers revalidate it hourly so a new
  // release reaches every site within the hour. The files it loads from beside
  // itself (h.js, c.js) are served the same way.
  for (const [path, file] of Object.entries(TRACKER_FILES)) {
    app.get(path, (_req, res) => {
      res.sendFile(file, { maxAge: '1h', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
    });
  }
  app.use(crmRouter(svc), inboundEmailRouter(svc));
  // The demo's sample data, loaded and removed through the collector that holds the engine (admin token).
  app.use(sampleRouter(svc));
  app.use(reportsRouter(svc));
  // The outbox (GA4 and later senders) for the admin: pending, failed and too-old messages with their reasons.
  app.use(outboundRouter(svc));
  // Metrika's offline conversions of a period, downloaded as its CSV or queued as one upload (admin token).
  app.use(metrikaRouter(svc));
  app.use(crmSetupRouter(svc));
  app.get('/vid', visitorIdHandler(svc));
  app.get('/fp/vid', visitorIdHandler(svc, true));
  // ClickHouse's HTTP interface for analysts, read-only and guarded; off (404) without SQL_TOKEN.
  if (svc.config.sql.token) app.use('/sql', sqlRouter(svc));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  // Last: whatever a route or a body parser passed on is answered with its reason, never Express's stack-trace page.
  app.use(finalErrorHandler(svc.log));
  return app;
}
