// validate: the wire format's types and lengths (hits/wire.ts), then what needs
// the clock or a real parser: a client time near the server's, a URL that parses.
import { checkHit } from '../../hits/wire.js';
import type { Step } from '../context.js';
import { drop } from '../reasons.js';

/** Client clocks drift and hits may be retried late, but not by more than this. */
export const MAX_PAST_MS = 7 * 86_400_000;
export const MAX_FUTURE_MS = 86_400_000;

export const validate: Step = (ctx) => {
  const hit = checkHit(ctx.parsed);
  if ('reason' in hit) return drop(hit.reason, hit.detail);
  const now = ctx.req.receivedAt;
  if (hit.clientTs < now - MAX_PAST_MS || hit.clientTs > now + MAX_FUTURE_MS) {
    return drop('invalid_timestamp', 't: more than 7 days before or 1 day after the server time');
  }
  const url = URL.parse(hit.url);
  if (url === null) return drop('invalid_url', 'u: not a URL');
  if (hit.referrer !== '' && !URL.canParse(hit.referrer)) return drop('invalid_url', 'r: not a URL');
  ctx.hit = hit;
  ctx.url = url;
  return undefined;
};
