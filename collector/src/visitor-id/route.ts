// GET /vid — a visitor id, as text/plain ("AB12CD"). The tracker asks once
// per browser and keeps the answer in a first-party cookie. A simple GET without
// custom headers draws no CORS preflight; Access-Control-Allow-Origin lets the
// tracker on any site read the answer. Never cached. The answer is the
// visitor's old id where the request names a known visitor (?g= and ?y=, the
// GA and Metrika ids the tracker sends along: visitor-id/recover.ts), else a
// new one.
// GET /fp/vid — the same through the site's own server (first-party mode): the
// request comes with the site's cookies, which may name the visitor too (our
// tl_vid, _ga, _ym_uid), and the answer sets the id's cookie (first-party/cookies.ts).
//
// Each id is a Redis key for as long as it may be in use, so one address may
// have only VID_RATE_LIMIT_PER_MINUTE of them a minute: the hits' rate limit
// (limits/visit-limits.ts), counted under a name no site can have. The address
// is counted by its hash under the day's salt, as hits are; Redis down fails
// open here too (the claim itself then fails).
import type { Request, RequestHandler } from 'express';
import { hashIp } from '../privacy/ip.js';
import { VisitLimits, type LimitVerdict } from '../limits/visit-limits.js';
import type { Services } from '../services.js';
import { IdSpaceExhausted, issueVisitorId } from './issue.js';
import { knownBy, recoverVisitorId } from './recover.js';
import { VISITOR_ID_DAYS } from '../../../contract/ids.js';
import { cookieLine, firstPartyRequest, requestCookie } from '../first-party/cookies.js';

/** The rate limit's "site" for /vid: a site id cannot contain a slash. */
const VID_COUNTER = '/vid';

type Limiter = (req: Request, now: number) => Promise<LimitVerdict>;

function rateLimiter(svc: Services): Limiter | null {
  const perMinute = svc.config.http.vidRatePerMinute;
  if (perMinute === 0) return null;
  const onError = (err: Error) => svc.log.debug({ err: err.message }, 'visitor id rate limit unavailable; failing open');
  const limits = new VisitLimits(svc.ingest.redis, 0, perMinute, onError, 0);
  return (req, now) =>
    new Promise((resolve) => {
      const ip = svc.ingest.clientIp(req);
      const ipKey = ip === '' ? 'none' : hashIp(ip, svc.ingest.deps.salt.current(now));
      limits.check({ siteId: VID_COUNTER, who: '', ipKey, throttle: false, campaign: '', visitorId: '', gaCid: '', ymUid: '' }, now, { limited: resolve });
    });
}

/** A query parameter given once as a short string, else undefined (a client id is at most 64 characters). */
const param = (value: unknown): string | undefined => (typeof value === 'string' && value.length <= 64 ? value : undefined);

/** `firstParty`: the handler of /fp/vid, whose request carries the site's cookies and whose answer sets tl_vid. */
export function visitorIdHandler(svc: Services, firstParty = false): RequestHandler {
  const limited = rateLimiter(svc);
  return async (req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
    const now = Date.now();
    if (limited && (await limited(req, now)) === 'rate_limited') {
      res.set('Retry-After', String(Math.ceil((60_000 - (now % 60_000)) / 1000)));
      return void res.status(429).json({ error: 'rate_limited' });
    }
    try {
      const fp = firstParty ? firstPartyRequest(req, svc.ingest.forwarded) : null;
      const cookie = (name: string) => (fp ? requestCookie(fp, name) : undefined);
      // The query's ids first (the tracker read them as it sends its hits), then the cookies'.
      const by = knownBy({ visitorId: cookie('tl_vid'), ga: param(req.query.g) ?? cookie('_ga'), ym: param(req.query.y) ?? cookie('_ym_uid') });
      const id = (await recoverVisitorId(svc.redis, by)) ?? (await issueVisitorId(svc.redis, now));
      if (fp) res.append('Set-Cookie', cookieLine('tl_vid', id, VISITOR_ID_DAYS, fp.site));
      res.type('text/plain').send(id);
    } catch (err) {
      const reason = err instanceof IdSpaceExhausted ? 'visitor_id_collisions' : 'redis_unavailable';
      svc.log.warn({ err: String(err) }, 'visitor id not issued');
      res.status(503).json({ error: reason });
    }
  };
}
