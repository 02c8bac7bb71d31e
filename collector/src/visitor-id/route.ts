// GET /vid — a new visitor id, as text/plain ("AB12CD"). The tracker asks once
// per browser and keeps the answer in a first-party cookie. A simple GET without
// custom headers draws no CORS preflight; Access-Control-Allow-Origin lets the
// tracker on any site read the answer. Never cached: every call is a new id.
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
      limits.check({ siteId: VID_COUNTER, who: '', ipKey, throttle: false, campaign: '', visitorId: '' }, now, { limited: resolve });
    });
}

export function visitorIdHandler(svc: Services): RequestHandler {
  const limited = rateLimiter(svc);
  return async (req, res) => {
    res.set({ 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
    const now = Date.now();
    if (limited && (await limited(req, now)) === 'rate_limited') {
      res.set('Retry-After', String(Math.ceil((60_000 - (now % 60_000)) / 1000)));
      return void res.status(429).json({ error: 'rate_limited' });
    }
    try {
      const id = await issueVisitorId(svc.redis, now);
      res.type('text/plain').send(id);
    } catch (err) {
      const reason = err instanceof IdSpaceExhausted ? 'visitor_id_collisions' : 'redis_unavailable';
      svc.log.warn({ err: String(err) }, 'visitor id not issued');
      res.status(503).json({ error: reason });
    }
  };
}
