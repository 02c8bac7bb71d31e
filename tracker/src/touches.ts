import { campaignOf, freshLanding, queryOf as params } from '../../contract/campaign.js';

// Where a visitor came from: the landing URL (with its UTM tags and click ids)
// and the referrer. The first touch is kept once; the last non-direct touch is
// replaced by every landing that brings a campaign, a click id or an outside
// referrer. A direct visit never erases the campaign that brought the visitor
// (Yandex Metrika's "last significant click").

/**
 * A touch as stored in its cookie: the landing URL and the referrer joined by
 * one space (neither holds a space: both are serialized URLs; '' for none).
 */
export type Touch = string;

/** The query parameters that make a campaign: UTM tags, then ad click ids (the contract's list, which the collector reads). */
export { CAMPAIGN_PARAMS as CAMPAIGN, UTM_TAGS as UTM } from '../../contract/campaign.js';

/** Query parameters of a URL or of a touch's landing URL: the contract's reading, which the collector shares. */
export { queryOf as params } from '../../contract/campaign.js';

/** The campaign a URL or touch carries, as one comparable string (the contract's campaignOf); '' when it carries none. */
export const campaign = (url: string | undefined): string => campaignOf(params(url));

/**
 * Given the stored touches and this landing, what to store and whether the
 * landing is fresh (the contract's rule: it brings a campaign other than the
 * current one, which the tracker knows as its last touch's; sent at once, past
 * the visit window): [first touch to store, last touch to store, fresh], a touch
 * undefined when that cookie stays as it is.
 */
export function nextTouches(first: Touch | undefined, last: Touch | undefined, cur: Touch, pageHost: string): [Touch | undefined, Touch | undefined, boolean] {
  const key = campaign(cur);
  // host[:port] of the referrer: another site's page is a landing from it.
  const from = cur.split(' ')[1]!.split('/')[2];
  return [first ? undefined : cur, key || (from && from != pageHost) ? cur : undefined, freshLanding(key, campaign(last))];
}
