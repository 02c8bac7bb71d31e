// HTTP faces of the report, behind REPORTS_TOKEN: JSON and CSV at /api/reports
// (`compare=previous` adds the change against the period before) and the
// uploads of costs (/api/costs) and exchange rates (/api/rates) take it as an
// Authorization: Bearer header; the pages at /reports (page-route.ts) take the
// session cookie of their sign-in form (session.ts), or the same header. The
// token is never read from a URL, and it is compared in constant time (sameSecret). Every answer on these paths, errors
// included, is Cache-Control: no-store: the figures are for the one who asked,
// not for shared caches or the browser's history. Every face names the identity
// resolution behind its figures in the Throughline-Resolution header (the JSON
// and the page also in their body); `fresh=1` waits for a resolution of the
// data as it is now.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { parseCostsCsv, parseCostsJson } from '../costs/parse.js';
import { storeCosts } from '../costs/store.js';
import { bearer, sameSecret } from '../http/auth.js';
import { FIRST_DAY } from '../clickhouse/days.js';
import { parseRates, storeRates } from '../currency/upload.js';
import type { Services } from '../services.js';
import { buildReports } from './build.js';
import { compareReports } from './compare.js';
import { reportCsv, resolutionHeader } from './format.js';
import { onceEach, oneOf, parseReportOptions, queryPairs, REPORT_PARAMS } from './options.js';
import { reportPagesRouter } from './page-route.js';
import { previousPeriod } from './period.js';

const PATHS = ['/reports', '/api/reports', '/api/costs', '/api/rates'];
const API_PARAMS = [...REPORT_PARAMS, 'format', 'fresh', 'compare'];

export function reportsRouter(svc: Services): Router {
  const r = express.Router();
  const db = svc.config.clickhouse.database;
  const token = svc.config.reports.token;
  const money = svc.config.money;

  r.use(PATHS, (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  r.use(reportPagesRouter(svc));
  const enabled = (_req: Request, res: Response, next: NextFunction) =>
    token ? next() : void res.status(503).json({ error: 'reports_disabled', detail: 'set REPORTS_TOKEN to enable reports' });
  const api = (req: Request, res: Response, next: NextFunction) => (sameSecret(bearer(req), token) ? next() : void res.status(401).json({ error: 'unauthorized' }));

  r.get('/api/reports/channels', enabled, api, async (req: Request, res: Response) => {
    const refuse = (detail: string) => void res.status(400).json({ error: 'invalid_report_options', detail });
    const given = onceEach(queryPairs(req.originalUrl), API_PARAMS);
    if ('error' in given) return refuse(given.error);
    const p = given.params;
    const format = oneOf('format', p.format, ['json', 'csv'], 'json');
    if ('error' in format) return refuse(format.error);
    const fresh = oneOf('fresh', p.fresh, ['0', '1'], '0');
    if ('error' in fresh) return refuse(fresh.error);
    const compare = oneOf('compare', p.compare, ['none', 'previous'], 'none');
    if ('error' in compare) return refuse(compare.error);
    const parsed = parseReportOptions(p, svc.config.reports.windowDays);
    if ('error' in parsed) return refuse(parsed.error);
    const o = parsed.options;
    // Against the previous period of the same length (JSON only: the CSV is the one table), which only a period with both ends has.
    const compared = compare.value === 'previous' && format.value === 'json';
    const before = compared ? previousPeriod(o.period) : null;
    if (compared && !before) return refuse(`compare=previous needs a period with both from and to, the period before it starting on ${FIRST_DAY} or later`);
    try {
      const [rep, prev] = await buildReports(svc.resolver, before ? [o, { ...o, period: before }] : [o], fresh.value === '1', money);
      res.set('Throughline-Resolution', resolutionHeader(rep!.resolution));
      if (format.value === 'csv') return void res.type('text/csv; charset=utf-8').attachment(`report-${rep!.model}.csv`).send(reportCsv(rep!));
      res.json(before ? { ...rep, comparison: compareReports(rep!, prev!, before) } : rep);
    } catch (err) {
      svc.log.error({ err: String(err) }, 'report failed');
      res.status(500).json({ error: 'report_failed' });
    }
  });

  /** An upload of costs or rates: CSV or JSON, checked whole, stored whole. */
  const upload =
    <T>(what: 'costs' | 'rates', parse: (body: string, json: boolean) => { rows: T[]; problems: unknown[] }, store: (rows: T[]) => Promise<string>) =>
    async (req: Request, res: Response) => {
      const type = String(req.headers['content-type'] ?? '');
      const body = typeof req.body === 'string' ? req.body : '';
      const json = /json/.test(type);
      if (!json && !/csv|text\/plain/.test(type)) return void res.status(415).json({ error: 'unsupported_type', detail: 'send text/csv or application/json' });
      const parsed = parse(body, json);
      if (parsed.problems.length) return void res.status(400).json({ error: `invalid_${what}`, problems: parsed.problems.slice(0, 100) });
      try {
        const uploadId = await store(parsed.rows);
        res.json({ stored: parsed.rows.length, upload_id: uploadId, base: money.currency });
      } catch (err) {
        svc.log.error({ err: String(err) }, `${what} upload failed`);
        res.status(500).json({ error: 'store_failed' });
      }
    };
  const uploadBody = express.text({ type: () => true, limit: '20mb' });
  r.post('/api/costs', enabled, api, uploadBody, upload('costs', (body, json) => (json ? parseCostsJson(body) : parseCostsCsv(body)), (rows) => storeCosts(svc.clickhouse, db, rows, money.currency)));
  // Daily exchange rates into the report currency, uploaded like costs (currency/upload.ts).
  r.post('/api/rates', enabled, api, uploadBody, upload('rates', (body, json) => parseRates(body, json, money.currency), (rows) => storeRates(svc.clickhouse, db, rows, money.currency)));
  return r;
}
