// First-party mode (README, "First-party mode"): the site's own server forwards
// a path of its own to the collector's /fp/, so the collector answers as the
// site and sets the visitor id and the touches by Set-Cookie. Safari (WebKit's
// tracking prevention) caps a cookie a script writes at 7 days, 24 hours after
// an ad click from a domain it classified as a tracker; one an HTTP answer from
// the site's own server sets keeps its lifetime.
//
// The cookies are the tracker's own, by name, value and encoding
// (tracker/src/cookies.ts: percent-encoded values, the registrable domain), so
// the tracker reads them as before. The first-party build of the tracker
// writes no visitor id (it would cap the collector's); it still writes the
// touches of a landing, and the hit that follows a landing has them set again
// here, with their full lifetime, by the contract's rule (contract/touches.ts).
import type { IncomingMessage } from 'node:http';
import { getDomain } from 'tldts';
import { queryOf, UTM_TAGS } from '../../../contract/campaign.js';
import { nextTouches, touchOf } from '../../../contract/touches.js';
import { VISITOR_ID_DAYS } from '../../../contract/ids.js';
import { cookieValue, type Forwarded } from '../http/forwarded.js';

/** Where the cookies go: the site's registrable domain (null: the host alone), and whether over HTTPS only. */
export type CookieSite = { domain: string | null; secure: boolean };

/** What a first-party request brings for its cookies. */
export type FirstPartyRequest = { site: CookieSite; cookie: string | undefined };

/**
 * The site a first-party request is for: the host the browser sent it to (the
 * proxy's X-Forwarded-Host when the proxy is trusted, else Host), on its
 * registrable domain by the public-suffix list with its private part, as
 * browsers read it (shop.co.uk for www.shop.co.uk; a github.io site is its own),
 * so www., the bare domain and subdomains share the cookies as they share the
 * tracker's. An IP address or a single-label host (localhost) gets host cookies.
 */
export function firstPartyRequest(req: IncomingMessage, fwd: Forwarded): FirstPartyRequest {
  const host = fwd.host(req);
  return { site: { domain: host ? getDomain(host, { allowPrivateDomains: true }) : null, secure: fwd.secure(req) }, cookie: req.headers.cookie };
}

/** One Set-Cookie value: SameSite=Lax (a landing from an ad is a top-level navigation), Secure over HTTPS; `days` 0 deletes. */
export function cookieLine(name: string, value: string, days: number, site: CookieSite): string {
  const domain = site.domain ? `; Domain=${site.domain}` : '';
  return `${name}=${encodeURIComponent(value)}; Max-Age=${Math.round(days * 86_400)}; Path=/${domain}; SameSite=Lax${site.secure ? '; Secure' : ''}`;
}

/** A cookie of the request, decoded as the tracker decodes it; undefined when absent or malformed. */
export function requestCookie(fp: FirstPartyRequest, name: string): string | undefined {
  const raw = cookieValue(fp.cookie, name);
  try {
    return raw === undefined ? undefined : decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** The hit, as far as its cookies go: the tracker's page address and referrer, and the visitor id once validated. */
export type HitFacts = { visitorId: string; href: unknown; referrer: unknown };

/**
 * The cookies a hit's answer sets: the visitor id (renewed with every hit);
 * the first touch where there is none, or where the tracker has just written
 * it for this page; the last touch, and the UTM cookies of other tools, where
 * this page is one (a landing with a campaign or from another site). Nothing
 * else changes: a page of the site is no touch.
 */
export function hitCookies(fp: FirstPartyRequest, hit: HitFacts, touchDays: number): string[] {
  const out: string[] = [];
  if (hit.visitorId) out.push(cookieLine('tl_vid', hit.visitorId, VISITOR_ID_DAYS, fp.site));
  if (typeof hit.href !== 'string') return out;
  let pageHost: string;
  try {
    pageHost = new URL(hit.href).host;
  } catch {
    return out;
  }
  const referrer = typeof hit.referrer === 'string' ? hit.referrer : '';
  const ft = requestCookie(fp, 'tl_ft');
  const here = touchOf(hit.href, referrer);
  const [first, last] = nextTouches(ft, requestCookie(fp, 'tl_lt'), here, pageHost);
  const keptFirst = first ?? (ft === here ? ft : undefined);
  if (keptFirst) out.push(cookieLine('tl_ft', keptFirst, touchDays, fp.site));
  if (last) {
    out.push(cookieLine('tl_lt', last, touchDays, fp.site));
    const tags = queryOf(last);
    for (const tag of UTM_TAGS) out.push(cookieLine(tag, tags.get(tag) || '', tags.get(tag) ? touchDays : 0, fp.site));
  }
  return out;
}
