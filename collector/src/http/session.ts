// Who may see a page behind a token (the reports, the CRM setup). The token is posted once to a sign-in form; the
// browser then keeps a session cookie, so the token never sits in a URL (history,
// logs, Referer) or in the page. The cookie holds its expiry and an HMAC of it
// keyed by the token: a leaked cookie is not the token, it ends by itself, and
// changing the token ends every session. HttpOnly keeps it from scripts and
// SameSite=Strict from other sites' requests; it is Secure when the request came
// over HTTPS (directly, or through a proxy of TRUSTED_PROXIES that says so),
// and not otherwise, so the page works on a plain-HTTP host name too.
import { createHmac } from 'node:crypto';
import type { CookieOptions, Request, Response } from 'express';
import { bearer, sameSecret } from './auth.js';
import { cookieValue, forwarded } from './forwarded.js';

export const SESSION_SECONDS = 12 * 3600;
const VALUE = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/** The pages' sessions: each its own cookie, and its own label in the MAC, so one page's cookie opens no other. */
export const SESSIONS = {
  reports: { cookie: 'tl_reports', label: 'throughline reports page session' },
  crmSetup: { cookie: 'tl_crm_setup', label: 'throughline crm setup page session' },
} as const;
export type SessionKind = keyof typeof SESSIONS;

export function sessionCookies(trustedProxies: string[], kind: SessionKind = 'reports') {
  const { secure } = forwarded(trustedProxies);
  const { cookie: SESSION_COOKIE, label } = SESSIONS[kind];
  const mac = (token: string, expires: number) => createHmac('sha256', token).update(`${label}\n${expires}`).digest('base64url');
  const options = (req: Request): CookieOptions => ({ httpOnly: true, sameSite: 'strict', path: '/', secure: secure(req) });

  return {
    /** Signs the browser in: a session of SESSION_SECONDS. */
    start(req: Request, res: Response, token: string, now = Date.now()): void {
      const expires = Math.floor(now / 1000) + SESSION_SECONDS;
      res.cookie(SESSION_COOKIE, `${expires}.${mac(token, expires)}`, { ...options(req), maxAge: SESSION_SECONDS * 1000 });
    },
    end(req: Request, res: Response): void {
      res.clearCookie(SESSION_COOKIE, options(req));
    },
    /** Whether the request carries a live session made from `token`. */
    valid(req: Request, token: string, now = Date.now()): boolean {
      const m = VALUE.exec(cookieValue(req.headers.cookie, SESSION_COOKIE) ?? '');
      if (!m) return false;
      const expires = Number(m[1]);
      const nowS = now / 1000;
      return expires > nowS && expires <= nowS + SESSION_SECONDS && sameSecret(m[2], mac(token, expires));
    },
    /** Whether the request may see the page: the token as an Authorization: Bearer header (programs), or a live session. */
    admits(req: Request, token: string): boolean {
      return sameSecret(bearer(req), token) || this.valid(req, token);
    },
  };
}
