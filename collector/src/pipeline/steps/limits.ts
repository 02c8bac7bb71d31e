// limits: the server-side 10-minute visit throttle and the per-IP rate limit,
// in one Redis round trip per event-loop turn (limits/visit-limits.ts). Asked
// after the steps, while the hit is being made durable; fails open.
import { campaignOf, queryOf } from '../../../../contract/campaign.js';
import type { HitRow } from '../../hits/row.js';
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
    campaign: row.kind === 'visit' ? campaignOf(landingOf(row)) : '',
    visitorId: row.visitor_id,
    gaCid: row.ga_cid,
    ymUid: row.ym_uid,
  };
}

/**
 * The landing's query for the contract's fresh-landing rule, read from the
 * stored URL as the tracker reads its address (UTM tags and click ids are never
 * redacted), so both sides see every click id, not only the first the row keeps.
 * A landing without any of them (the row says so) is not parsed at all.
 */
function landingOf(row: HitRow): { get(name: string): string | null } {
  if (row.click_id === '' && row.utm_source === '' && row.utm_medium === '' && row.utm_campaign === '' && row.utm_term === '' && row.utm_content === '') return NONE;
  return queryOf(row.url);
}

const NONE = { get: () => null };
