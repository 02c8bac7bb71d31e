// limits: the server-side 10-minute visit throttle and the per-IP rate limit,
// in one Redis round trip per event-loop turn (limits/visit-limits.ts). Asked
// after the steps, while the hit is being made durable; fails open.
import type { LimitQuery } from '../../limits/visit-limits.js';
import type { HitContext } from '../context.js';

/** What the limits are asked about a hit that passed the steps. */
export function limitQuery(ctx: HitContext): LimitQuery {
  const row = ctx.row!;
  return {
    siteId: row.site_id,
    who: row.visitor_id || row.ga_cid || row.ym_uid || `ip:${ctx.ipHash}`,
    ipKey: ctx.ipHash || 'none',
    throttle: row.kind === 'visit',
    fresh: row.click_id !== '' || row.utm_source !== '' || row.utm_campaign !== '',
    visitorId: row.visitor_id,
  };
}
