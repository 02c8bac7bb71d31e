// validate: the wire format's types and lengths (hits/wire.ts), then what needs
// the clock or a real parser: a client time near the server's, a URL that parses.
import { checkHit } from '../../hits/wire.js';
import { pageHost, rememberedHost } from '../../hits/page.js';
import type { Step } from '../context.js';
import { drop } from '../reasons.js';

/** Client clocks drift ahead by hours at most; the oldest accepted time is deps.maxPastMs (HIT_MAX_AGE_DAYS). */
export const MAX_FUTURE_MS = 86_400_000;

/**
 * The host of a referrer (null: not a URL). Browsers send only the origin of a
 * page on another site (the default Referrer-Policy), so the external referrers
 * of a site repeat: a few search engines and social networks bring most visits.
 */
const hostOfReferrer = rememberedHost();

export const validate: Step = (ctx, deps) => {
  const hit = checkHit(ctx.parsed);
  if ('reason' in hit) return drop(hit.reason, hit.detail);
  const now = ctx.req.receivedAt;
  if (hit.clientTs < now - deps.maxPastMs || hit.clientTs > now + MAX_FUTURE_MS) {
    return drop('invalid_timestamp', 't: older than HIT_MAX_AGE_DAYS or more than 1 day after the server time');
  }
  const host = pageHost(hit.url);
  if (host === null) return drop('invalid_url', 'u: not a URL');
  const referrerHost = hit.referrer === '' ? '' : hostOfReferrer(hit.referrer);
  if (referrerHost === null) return drop('invalid_url', 'r: not a URL');
  ctx.hit = hit;
  ctx.pageHost = host;
  ctx.referrerHost = referrerHost;
  return undefined;
};
