// The language of a page for people: Russian or English. Asked for by the
// switch on the page (`?lang=`, then kept in the cookie `tl_lang`), else the
// browser's Accept-Language (the first of ru / en it prefers), else English.
import type { Request, Response } from 'express';
import { cookieValue } from '../http/forwarded.js';

export const LANGS = ['en', 'ru'] as const;
export type Lang = (typeof LANGS)[number];
export const LANG_COOKIE = 'tl_lang';

const isLang = (x: unknown): x is Lang => typeof x === 'string' && (LANGS as readonly string[]).includes(x);

/** The languages of an Accept-Language header, most wanted first (q=0 left out). */
function accepted(header: string): string[] {
  return header
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { lang: tag.trim().toLowerCase().split('-')[0]!, q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.lang && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((x) => x.lang);
}

/** The page's language; a `?lang=` switch is remembered in a cookie for the next pages. */
export function pageLang(req: Request, res?: Response): Lang {
  const asked = typeof req.query.lang === 'string' ? req.query.lang : undefined;
  if (isLang(asked)) {
    res?.cookie(LANG_COOKIE, asked, { path: '/', sameSite: 'lax', maxAge: 365 * 86_400_000 });
    return asked;
  }
  const kept = cookieValue(req.headers.cookie, LANG_COOKIE);
  if (isLang(kept)) return kept;
  return accepted(String(req.headers['accept-language'] ?? '')).find(isLang) ?? 'en';
}
