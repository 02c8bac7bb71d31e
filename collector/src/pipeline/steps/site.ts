// site: the site id must be configured (when any are), and a browser's Origin
// must be one the site allows.
import type { Step } from '../context.js';
import { drop } from '../reasons.js';

export const site: Step = (ctx, deps) => {
  const s = deps.sites.get(ctx.hit!.siteId);
  if (!deps.sites.open && !s) return drop('unknown_site');
  ctx.site = s;
  if (!deps.sites.allows(s, ctx.req.origin)) return drop('origin_not_allowed');
  return undefined;
};
