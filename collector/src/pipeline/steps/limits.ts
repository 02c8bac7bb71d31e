// limits: the server-side 10-minute visit throttle and the per-IP rate limit,
// in one Redis round trip (limits/visit-limits.ts). Fails open.
import type { Step } from '../context.js';
import { drop } from '../reasons.js';

export const limits: Step = (ctx, deps) => {
  if (deps.limits.off) return undefined;
  const row = ctx.row!;
  const who = row.visitor_id || row.ga_cid || row.ym_uid || `ip:${ctx.ipHash}`;
  const fresh = row.click_id !== '' || row.utm_source !== '' || row.utm_campaign !== '';
  return deps.limits
    .check({ siteId: row.site_id, who, ipKey: ctx.ipHash || 'none', throttle: row.kind === 'visit', fresh }, ctx.req.receivedAt)
    .then((v) => (v === 'ok' ? undefined : drop(v)));
};
