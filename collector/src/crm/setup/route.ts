// The CRM setup page, behind CRM_ADMIN_TOKEN (the admin API's token):
//   GET  /crm/setup            the page; not signed in, the sign-in form (401); without the token set, how to set it (403)
//   POST /crm/setup/sign-in    the token, posted once; then the session cookie (http/session.ts)
//   POST /crm/setup/sign-out
//   POST /crm/setup            a save: the form made into a configuration (form.ts) and put in force
//                              exactly as PUT /crm/config puts one (config/apply.ts)
//   /crm/setup/outbox          the outbox page and its Try again (outbound/page/route.ts)
// The session cookie or an `Authorization: Bearer` header opens every face. A
// save signed in by the cookie must carry the session's form token
// (form-token.ts). Every answer is Cache-Control: no-store.
import express, { type Request, type Response, type Router } from 'express';
import { admit, bearer, bodyText, gatedBody, sameSecret, type Gate } from '../../http/auth.js';
import { forwarded } from '../../http/forwarded.js';
import { sessionCookies } from '../../http/session.js';
import type { Services } from '../../services.js';
import { pageHeaders } from '../../web/headers.js';
import { pageLang, type Lang } from '../../web/lang.js';
import { outboxPageRouter } from '../../outbound/page/route.js';
import { applyConfig } from '../config/apply.js';
import { CrmStatus } from '../status/store.js';
import { configOfForm, FIELD, formOfConfig, readForm, type SetupForm } from './form.js';
import { formToken, formTokenMatches } from './form-token.js';
import { sourceLists } from './lists.js';
import { disabledPage, foreignFormPage, SETUP_PATH, setupPage, signInPage, type SourcePanel } from './page.js';
import { statusGroups } from './statuses.js';
import { TEXT } from './text.js';
import { webhookUrls } from './webhooks.js';

/** A whole page of statuses, stages and fields: far below this, far above any real one. */
const FORM_LIMIT = '2mb';

export function crmSetupRouter(svc: Services): Router {
  const r = express.Router();
  const crm = svc.crm;
  const token = crm.options.adminToken;
  const sessions = sessionCookies(svc.config.pipeline.trustedProxies, 'crmSetup');
  const { origin } = forwarded(svc.config.pipeline.trustedProxies);
  const status = new CrmStatus(svc.redis, svc.ingest.metrics, svc.log);
  const langOf = (res: Response) => res.locals.lang as Lang;
  const page = (res: Response, code: number, html: string) => void res.status(code).type('html').send(html);

  r.use(SETUP_PATH, pageHeaders(svc.config.pipeline.trustedProxies), (req, res, next) => {
    res.set('Cache-Control', 'no-store');
    res.locals.lang = pageLang(req, res);
    next();
  });
  const byHeader = (req: Request) => sameSecret(bearer(req), token);
  const enabled: Gate = (_req, res) => {
    if (token) return true;
    page(res, 403, disabledPage(langOf(res)));
    return false;
  };
  const signedIn: Gate = (req, res) => {
    if (!enabled(req, res)) return false;
    if (sessions.admits(req, token!)) return true;
    page(res, 401, signInPage(langOf(res)));
    return false;
  };

  /** The page: the configuration in force, or (after a refused save) the form as it was sent. */
  async function render(req: Request, res: Response, code: number, form: SetupForm, notes: { saved?: boolean; problems?: string[] } = {}) {
    const config = crm.config.raw;
    // Redis holds the deliveries and the statuses seen: without it the page still serves the configuration.
    const [seen, report] = await Promise.all([status.seenStatuses().catch(() => null), status.report(crm.config).catch(() => null)]);
    const base = origin(req);
    const panels: SourcePanel[] = await Promise.all(
      Object.entries(config.sources).map(async ([id, src]) => {
        const lists = await sourceLists(crm, id, src);
        const kept = form.mapping.filter((m) => m.source === id && (m.target === 'pipelines' || src.kind === 'zoho'));
        const groups = statusGroups(src, lists.vendor, (seen ?? []).filter((s) => s.source === id), kept);
        return { id, kind: src.kind, lists, groups, webhooks: webhookUrls(base, id, src) };
      }),
    );
    page(
      res,
      code,
      setupPage({
        lang: langOf(res),
        formToken: formToken(req, token!),
        saved: notes.saved ?? false,
        problems: notes.problems ?? [],
        form,
        panels,
        deliveries: report?.deliveries ?? null,
      }),
    );
  }

  r.get(SETUP_PATH, admit(signedIn), async (req, res) => {
    await render(req, res, 200, formOfConfig(crm.config.raw), { saved: req.query.saved === '1' });
  });

  r.post(`${SETUP_PATH}/sign-in`, gatedBody(enabled, '4kb'), (req: Request, res: Response) => {
    const given = new URLSearchParams(bodyText(req)).get('token') ?? undefined;
    if (!sameSecret(given, token)) return page(res, 401, signInPage(langOf(res), TEXT[langOf(res)].signIn.wrong));
    sessions.start(req, res, token!);
    res.redirect(303, SETUP_PATH);
  });
  r.post(`${SETUP_PATH}/sign-out`, (req, res) => {
    sessions.end(req, res);
    res.redirect(303, SETUP_PATH);
  });

  // The outbox page (outbound/page/): the same sign-in, and its Try again the same form token.
  r.use(
    outboxPageRouter({
      outbound: svc.outbound,
      log: svc.log,
      signedIn,
      formToken: (req) => formToken(req, token!),
      fromThisPage: (req, given) => byHeader(req) || formTokenMatches(req, token!, given),
    }),
  );

  r.post(SETUP_PATH, gatedBody(signedIn, FORM_LIMIT), async (req: Request, res: Response) => {
    const pairs = new URLSearchParams(bodyText(req));
    // A header cannot be sent by another site's form; a cookie can be, so the cookie needs the page's token.
    if (!byHeader(req) && !formTokenMatches(req, token!, pairs.get(FIELD.token))) return page(res, 403, foreignFormPage(langOf(res)));
    const form = readForm(pairs);
    const made = configOfForm(crm.config.raw, form);
    if (made.problems.length) return render(req, res, 422, form, { problems: made.problems });
    const applied = await applyConfig(crm, status, svc.log, made.value);
    if (!applied.ok) return render(req, res, 422, form, { problems: applied.problems });
    res.redirect(303, `${SETUP_PATH}?saved=1`);
  });
  return r;
}
