// Who may see the report page. The token is posted once to a sign-in form; the
// browser then keeps a session cookie, so the token never sits in a URL (history,
// logs, Referer) or in the page. The cookie holds its expiry and an HMAC of it
// keyed by the token: a leaked cookie is not the token, it ends by itself, and
// changing REPORTS_TOKEN ends every session. HttpOnly keeps it from scripts and
// SameSite=Strict from other sites' requests; it is Secure when the request came
// over HTTPS (directly, or through a proxy of TRUSTED_PROXIES that says so),
// and not otherwise, so the page works on a plain-HTTP host name too.
import { createHmac } from 'node:crypto';
import type { CookieOptions, Request, Response } from 'express';
import { sameSecret } from '../http/auth.js';
import { cookieValue, forwarded } from '../http/forwarded.js';

export const SESSION_COOKIE = 'tl_reports';
export const SESSION_SECONDS = 12 * 3600;
const LABEL = 'throughline reports page session';
const VALUE = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

const mac = (token: string, expires: number) => createHmac('sha256', token).update(`${LABEL}\n${expires}`).digest('base64url');

export function sessionCookies(trustedProxies: string[]) {
  const { secure } = forwarded(trustedProxies);
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
  };
}
