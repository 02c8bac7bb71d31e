// HTTP faces of the report, behind REPORTS_TOKEN (a Bearer header, or ?token= for
// the page and links): JSON and CSV at /api/reports, the page at /reports, and the
// costs upload at /api/costs. Every face names the identity resolution behind
// its figures in the Throughline-Resolution header (the JSON and the page also
// in their body); `fresh=1` waits for a resolution of the data as it is now.
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { parseCostsCsv, parseCostsJson } from '../costs/parse.js';
import { storeCosts } from '../costs/store.js';
import type { Services } from '../services.js';
import { buildReport } from './build.js';
import { reportCsv, resolutionHeader } from './format.js';
import { parseReportOptions } from './options.js';
import { reportPage } from './page.js';

function presentedToken(req: Request): string {
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('Bearer ')) return auth.slice(7).trim();
  return typeof req.query.token === 'string' ? req.query.token : '';
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function requireToken(expected: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!expected) return void res.status(503).json({ error: 'reports_disabled', detail: 'set REPORTS_TOKEN to enable reports' });
    if (!sameToken(presentedToken(req), expected)) return void res.status(401).json({ error: 'unauthorized' });
    next();
  };
}

const queryStrings = (req: Request) =>
  Object.fromEntries(Object.entries(req.query).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]));

export function reportsRouter(svc: Services): Router {
  const r = express.Router();
  const db = svc.config.clickhouse.database;
  const auth = requireToken(svc.config.reports.token);

  const report = (face: 'api' | 'page') => async (req: Request, res: Response) => {
    const parsed = parseReportOptions(queryStrings(req), svc.config.reports.windowDays);
    if ('error' in parsed) return void res.status(400).json({ error: 'invalid_report_options', detail: parsed.error });
    try {
      const rep = await buildReport(svc.resolver, parsed.options, req.query.fresh === '1');
      res.set('Throughline-Resolution', resolutionHeader(rep.resolution));
      if (face === 'page') return void res.type('html').send(reportPage(rep, presentedToken(req)));
      if (req.query.format === 'csv') return void res.type('text/csv; charset=utf-8').attachment(`report-${rep.model}.csv`).send(reportCsv(rep));
      res.json(rep);
    } catch (err) {
      svc.log.error({ err: String(err) }, 'report failed');
      res.status(500).json({ error: 'report_failed' });
    }
  };
  r.get('/api/reports/channels', auth, report('api'));
  r.get('/reports', auth, report('page'));

  r.post('/api/costs', auth, express.text({ type: () => true, limit: '20mb' }), async (req: Request, res: Response) => {
    const type = String(req.headers['content-type'] ?? '');
    const body = typeof req.body === 'string' ? req.body : '';
    const parsed = /json/.test(type) ? parseCostsJson(body) : /csv|text\/plain/.test(type) ? parseCostsCsv(body) : null;
    if (!parsed) return void res.status(415).json({ error: 'unsupported_type', detail: 'send text/csv or application/json' });
    if (parsed.problems.length) return void res.status(400).json({ error: 'invalid_costs', problems: parsed.problems.slice(0, 100) });
    try {
      const uploadId = await storeCosts(svc.clickhouse, db, parsed.rows);
      res.json({ stored: parsed.rows.length, upload_id: uploadId });
    } catch (err) {
      svc.log.error({ err: String(err) }, 'cost upload failed');
      res.status(500).json({ error: 'store_failed' });
    }
  });
  return r;
}
