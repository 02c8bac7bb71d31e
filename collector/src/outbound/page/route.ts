// The outbox page, mounted by the CRM setup page's router (crm/setup/route.ts),
// behind its sign-in:
//   GET  /crm/setup/outbox             the page (render.ts); 503 when the outbox cannot be read
//   POST /crm/setup/outbox/try-again   a failed message written again as pending (Outbox.tryAgain),
//                                      then back to the page (303); refused with a page that says why:
//                                      403 a form not of this session, 404 no such message,
//                                      409 not failed, superseded, or its sender not on
// A Try again signed in by the cookie must carry the setup page's form token,
// as a save of the setup page must.
import { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { admit, bodyText, gatedBody, type Gate } from '../../http/auth.js';
import { requestLog } from '../../http/redact.js';
import { pageLang, type Lang } from '../../web/lang.js';
import type { Outbound } from '../module.js';
import { OUTBOX_PATH, TRY_AGAIN_PATH } from './path.js';
import { FORM_TOKEN_FIELD, MESSAGE_FIELD, messageOfKey, notTriedPage, outboxPage, unavailablePage, type Refusal } from './render.js';
import { outboxView } from './view.js';

export type OutboxPageOptions = {
  outbound: Outbound;
  log: Logger;
  /** The setup page's gate: a live session or the admin token as Bearer; else it answers (sign-in form, 401; page off, 403). */
  signedIn: Gate;
  /** The form token of the request's session. */
  formToken(req: Request): string;
  /** Whether a posted form may act: sent with the admin token as Bearer, or carrying the session's form token. */
  fromThisPage(req: Request, given: string | null): boolean;
};

const REFUSAL_STATUS: Record<Refusal['why'], number> = { foreign: 403, unknown: 404, not_failed: 409, superseded: 409, sender_off: 409 };

export function outboxPageRouter(o: OutboxPageOptions): Router {
  const r = Router();
  // The setup router's middleware has chosen the language (and set no-store) for every page under its path.
  const langOf = (req: Request, res: Response): Lang => (res.locals.lang as Lang | undefined) ?? pageLang(req, res);
  const page = (res: Response, code: number, html: string) => void res.status(code).type('html').send(html);

  r.get(OUTBOX_PATH, admit(o.signedIn), async (req, res) => {
    const lang = langOf(req, res);
    try {
      const view = await outboxView(o.outbound);
      page(res, 200, outboxPage({ lang, formToken: o.formToken(req), view, now: Math.floor(Date.now() / 1000), tried: req.query.tried === '1' }));
    } catch (err) {
      o.log.error(requestLog(req, err), 'outbox not readable');
      page(res, 503, unavailablePage(lang));
    }
  });

  r.post(TRY_AGAIN_PATH, gatedBody(o.signedIn, '4kb'), async (req: Request, res: Response) => {
    const lang = langOf(req, res);
    const refuse = (why: Refusal) => page(res, REFUSAL_STATUS[why.why], notTriedPage(lang, why));
    const pairs = new URLSearchParams(bodyText(req));
    // A header cannot be sent by another site's form; a cookie can be, so the cookie needs the page's token.
    if (!o.fromThisPage(req, pairs.get(FORM_TOKEN_FIELD))) return refuse({ why: 'foreign' });
    const key = messageOfKey(pairs.get(MESSAGE_FIELD));
    if (!key) return refuse({ why: 'unknown' });
    if (!o.outbound.senders.some((s) => s.name === key.sender)) return refuse({ why: 'sender_off', sender: key.sender });
    let done: Awaited<ReturnType<Outbound['outbox']['tryAgain']>>;
    try {
      done = await o.outbound.outbox.tryAgain(key.sender, key.subject, key.step);
    } catch (err) {
      o.log.error(requestLog(req, err), 'outbox not writable: a message not tried again');
      return page(res, 503, unavailablePage(lang));
    }
    if (!done.ok) return refuse(done);
    o.log.info({ sender: done.message.sender, id: done.message.id, attempts: done.message.attempts }, 'outbound message tried again by hand');
    o.outbound.wake();
    res.redirect(303, `${OUTBOX_PATH}?tried=1`);
  });
  return r;
}
