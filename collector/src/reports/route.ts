// HTTP faces of the report, behind REPORTS_TOKEN: JSON and CSV at /api/reports
// and the uploads of costs (/api/costs) and exchange rates (/api/rates) take it as an Authorization: Bearer header;
// the page at /reports takes the session cookie of its sign-in form
// (session.ts), or the same header. The token is never read from a URL, and it
// is compared in constant time (sameSecret). Every answer on these paths, errors
// included, is Cache-Control: no-store: the figures are for the one who asked,
// not for shared caches or the browser's history. Every face names the identity
// resolution behind its figures in the Throughline-Resolution header (the JSON
// and the page also in their body); `fresh=1` waits for a resolution of the
// data as it is now.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { parseCostsCsv, parseCostsJson } from '../costs/parse.js';
import { storeCosts } from '../costs/store.js';
import { bearer, sameSecret } from '../http/auth.js';
import { parseRates, storeRates } from '../currency/upload.js';
import type { Services } from '../services.js';
import { buildReport } from './build.js';
import { reportCsv, resolutionHeader } from './format.js';
import { onceEach, oneOf, parseReportOptions, REPORT_PARAMS } from './options.js';
import { reportPage, signInPage } from './page.js';
import { sessionCookies } from '../http/session.js';

const PATHS = ['/reports', '/api/reports', '/api/costs', '/api/rates'];
const PARAMS = { api: [...REPORT_PARAMS, 'format', 'fresh'], page: [...REPORT_PARAMS, 'fresh'] };

/** The query string exactly as sent: every pair, repeats and `name[]` included (req.query folds them). */
const queryPairs = (req: Request) => new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');

export function reportsRouter(svc: Services): Router {
  const r = express.Router();
  const db = svc.config.clickhouse.database;
  const token = svc.config.reports.token;
  const money = svc.config.money;
  const sessions = sessionCookies(svc.config.pipeline.trustedProxies, 'reports');

  r.use(PATHS, (_req: Request, res: Response, next: NextFunction) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  const enabled = (_req: Request, res: Response, next: NextFunction) =>
    token ? next() : void res.status(503).json({ error: 'reports_disabled', detail: 'set REPORTS_TOKEN to enable reports' });
  const byHeader = (req: Request) => sameSecret(bearer(req), token);
  const api = (req: Request, res: Response, next: NextFunction) => (byHeader(req) ? next() : void res.status(401).json({ error: 'unauthorized' }));
  const page = (req: Request, res: Response, next: NextFunction) =>
    byHeader(req) || sessions.valid(req, token!) ? next() : void res.status(401).type('html').send(signInPage());

  const report = (face: 'api' | 'page') => async (req: Request, res: Response) => {
    const refuse = (detail: string) => void res.status(400).json({ error: 'invalid_report_options', detail });
    const given = onceEach(queryPairs(req), PARAMS[face]);
    if ('error' in given) return refuse(given.error);
    const p = given.params;
    const format = oneOf('format', p.format, ['json', 'csv'], 'json');
    if ('error' in format) return refuse(format.error);
    const fresh = oneOf('fresh', p.fresh, ['0', '1'], '0');
    if ('error' in fresh) return refuse(fresh.error);
    const parsed = parseReportOptions(p, svc.config.reports.windowDays);
    if ('error' in parsed) return refuse(parsed.error);
    try {
      const rep = await buildReport(svc.resolver, parsed.options, fresh.value === '1', money);
      res.set('Throughline-Resolution', resolutionHeader(rep.resolution));
      if (face === 'page') return void res.type('html').send(reportPage(rep));
      if (format.value === 'csv') return void res.type('text/csv; charset=utf-8').attachment(`report-${rep.model}.csv`).send(reportCsv(rep));
      res.json(rep);
    } catch (err) {
      svc.log.error({ err: String(err) }, 'report failed');
      res.status(500).json({ error: 'report_failed' });
    }
  };
  r.get('/api/reports/channels', enabled, api, report('api'));
  r.get('/reports', enabled, page, report('page'));

  // The page's sign-in: the token once, as a form field; then the session cookie and back to the page.
  r.post('/reports/sign-in', enabled, express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 4 }), (req: Request, res: Response) => {
    const given = (req.body as Record<string, unknown> | undefined)?.token;
    if (typeof given !== 'string' || !sameSecret(given, token)) return void res.status(401).type('html').send(signInPage('That is not the reports token.'));
    sessions.start(req, res, token!);
    res.redirect(303, '/reports');
  });
  r.post('/reports/sign-out', (req: Request, res: Response) => {
    sessions.end(req, res);
    res.redirect(303, '/reports');
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
