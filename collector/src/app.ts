// Everything but the hot path goes through Express: health, the tracker file,
// and (in later capabilities) CRM webhooks, uploads and reports.
import express, { type Express } from 'express';
import helmet from 'helmet';
import { crmRouter } from './crm/routes.js';
import { healthHandler } from './health/route.js';
import { inboundEmailRouter } from './inbound-email/route.js';
import { TRACKER_FILE } from './paths.js';
import { reportsRouter } from './reports/route.js';
import type { Services } from './services.js';
import { visitorIdHandler } from './visitor-id/route.js';

export function createApp(svc: Services): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } }));
  app.get('/healthz', healthHandler(svc));
  // The tracker lives at one stable URL; browsers revalidate it hourly so a new
  // release reaches every site within the hour.
  app.get('/t.js', (_req, res) => {
    res.sendFile(TRACKER_FILE, { maxAge: '1h', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
  });
  app.use(crmRouter(svc), inboundEmailRouter(svc));
  app.use(reportsRouter(svc));
  app.get('/vid', visitorIdHandler(svc));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  return app;
}
