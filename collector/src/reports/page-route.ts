// The report's faces for people, behind REPORTS_TOKEN: the page at /reports in
// three views (overview, funnel, models side by side), the CSV of what it shows
// at /reports/report.csv, and the sign-in that gives the session cookie
// (http/session.ts). They take the session cookie or an Authorization: Bearer
// header, speak the page's language (web/lang.ts: the switch, else the
// browser's), and answer an error as a page in that language with its status:
// a bad option 400, reports turned off 503, a failed report 500.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { MODEL_NAMES } from '../attribution/models.js';
import { sameSecret } from '../http/auth.js';
import { forwarded } from '../http/forwarded.js';
import { sessionCookies } from '../http/session.js';
import type { Services } from '../services.js';
import { pageHeaders } from '../web/headers.js';
import { pageLang, type Lang } from '../web/lang.js';
import { buildReports, storedAtAll, type Report } from './build.js';
import { compareReports } from './compare.js';
import { reportCsv, resolutionHeader } from './format.js';
import { onceEach, queryPairs } from './options.js';
import { previousPeriod, today } from './period.js';
import type { ProblemKind } from './words.js';
import { funnelView } from './views/funnel.js';
import { reportPage, type PageContext } from './views/layout.js';
import { modelsView, type ModelReports } from './views/models.js';
import { overviewView } from './views/overview.js';
import { PROBLEM_STATUS, problemPage } from './views/problem.js';
import { PAGE_PARAMS, parsePageQuery, type PageQuery } from './views/query.js';
import { signInPage } from './views/sign-in.js';

/** Shown in the tracker's line when the request names no well-formed host. */
const SOME_COLLECTOR = 'https://collector.example.com';

export function reportPagesRouter(svc: Services): Router {
  const r = express.Router();
  const token = svc.config.reports.token;
  const money = svc.config.money;
  const sessions = sessionCookies(svc.config.pipeline.trustedProxies, 'reports');
  const where = forwarded(svc.config.pipeline.trustedProxies);
  r.use('/reports', pageHeaders(svc.config.pipeline.trustedProxies));

  const problem = (res: Response, lang: Lang, kind: ProblemKind, detail?: string) => void res.status(PROBLEM_STATUS[kind]).type('html').send(problemPage(lang, kind, detail));
  const enabled = (req: Request, res: Response, next: NextFunction) => (token ? next() : problem(res, pageLang(req, res), 'disabled'));
  const signedIn = (req: Request, res: Response, next: NextFunction) =>
    sessions.admits(req, token!) ? next() : void res.status(401).type('html').send(signInPage(pageLang(req, res)));

  /** The page's query, or the bad option answered as a page. */
  const pageQuery = (req: Request, res: Response, lang: Lang): PageQuery | undefined => {
    const given = onceEach(queryPairs(req.originalUrl), PAGE_PARAMS);
    const parsed = 'error' in given ? given : parsePageQuery(given.params, svc.config.reports.windowDays, today());
    if ('error' in parsed) return problem(res, lang, 'bad_option', parsed.error);
    return parsed.query;
  };

  /** The reports a view is drawn from, and its body. */
  async function view(q: PageQuery, lang: Lang): Promise<{ report: Report; body: string }> {
    const o = q.options;
    if (q.view === 'models') {
      const reports = await buildReports(svc.resolver, MODEL_NAMES.map((model) => ({ ...o, model })), q.fresh, money);
      const byModel = Object.fromEntries(MODEL_NAMES.map((m, i) => [m, reports[i]!])) as ModelReports;
      const report = byModel[o.model];
      return { report, body: report.rows.length ? modelsView(byModel, lang) : '' };
    }
    if (q.view === 'funnel') {
      const [report] = await buildReports(svc.resolver, [o], q.fresh, money);
      return { report: report!, body: funnelView(report!, q.channel, lang) };
    }
    const before = previousPeriod(o.period);
    const [report, prev] = await buildReports(svc.resolver, before ? [o, { ...o, period: before }] : [o], q.fresh, money);
    return { report: report!, body: overviewView(report!, before ? compareReports(report!, prev!, before) : null, lang) };
  }

  r.get('/reports', enabled, signedIn, async (req: Request, res: Response) => {
    const lang = pageLang(req, res);
    const q = pageQuery(req, res, lang);
    if (!q) return;
    try {
      const [{ report, body }, stored] = await Promise.all([view(q, lang), storedAtAll(svc.resolver)]);
      res.set('Throughline-Resolution', resolutionHeader(report.resolution));
      const context: PageContext = { lang, query: q, today: today(), origin: where.origin(req) || SOME_COLLECTOR, stored };
      res.type('html').send(reportPage(context, report, body));
    } catch (err) {
      svc.log.error({ err: String(err) }, 'report failed');
      problem(res, lang, 'failed');
    }
  });

  // What the page shows, as the API's CSV (format.ts reportCsv), by the page's session.
  r.get('/reports/report.csv', enabled, signedIn, async (req: Request, res: Response) => {
    const lang = pageLang(req, res);
    const q = pageQuery(req, res, lang);
    if (!q) return;
    try {
      const [report] = await buildReports(svc.resolver, [q.options], q.fresh, money);
      res.set('Throughline-Resolution', resolutionHeader(report!.resolution));
      res.type('text/csv; charset=utf-8').attachment(`report-${report!.model}.csv`).send(reportCsv(report!));
    } catch (err) {
      svc.log.error({ err: String(err) }, 'report failed');
      problem(res, lang, 'failed');
    }
  });

  // The sign-in: the token once, as a form field; then the session cookie and back to the page.
  r.post('/reports/sign-in', enabled, express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 4 }), (req: Request, res: Response) => {
    const given = (req.body as Record<string, unknown> | undefined)?.token;
    if (typeof given !== 'string' || !sameSecret(given, token)) return void res.status(401).type('html').send(signInPage(pageLang(req, res), true));
    sessions.start(req, res, token!);
    res.redirect(303, '/reports');
  });
  r.post('/reports/sign-out', (req: Request, res: Response) => {
    sessions.end(req, res);
    res.redirect(303, '/reports');
  });
  return r;
}
