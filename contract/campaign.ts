// What makes a landing a campaign landing, for the tracker and the collector
// alike: its UTM tags and ad click ids, and the visit rule built on them.

/**
 * The query parameters that make a campaign: the 5 UTM tags, then the ad click
 * ids in the order they are looked for (the first present names the landing's
 * click id). They are also the hidden form fields and CRM fields of the same names.
 */
export const CAMPAIGN_PARAMS = 'utm_source utm_medium utm_campaign utm_term utm_content gclid yclid fbclid msclkid ttclid vkclid gbraid wbraid dclid twclid li_fat_id'.split(' ');

/** The UTM tags. */
export const UTM_TAGS = /* @__PURE__ */ CAMPAIGN_PARAMS.slice(0, 5);

/** The ad click ids, in the order they are looked for. */
export const CLICK_IDS = /* @__PURE__ */ CAMPAIGN_PARAMS.slice(5);

/** At most one visit per visitor in this window (the tracker's cookie and the collector's Redis key alike). */
export const VISIT_WINDOW_SECONDS = 600;

/**
 * The campaign a landing brings, as one comparable string: the values of its
 * UTM tags and click ids in the contract's order, put end to end; '' when it brings none. `landing`
 * gives a query parameter of the landing's URL ('' or null when absent).
 */
export function campaignOf(landing: { get(name: string): string | null | undefined }): string {
  // get(name): the index and array map passes along are ignored. Joined with
  // nothing between, so no campaign is '' without a further test (every tracker
  // byte counts); two campaigns that only differ in where one value ends and the
  // next begins read as one, which within one visit window is harmless.
  return CAMPAIGN_PARAMS.map(landing.get, landing).join('');
}

/**
 * The fresh-landing rule: a landing is a visit at once, past the visit window,
 * and starts a new window, when it brings a campaign other than the one the
 * visitor's current visit began with (`current`, '' for none). So a second ad
 * click or another campaign within ten minutes is a new visit, and a reload of
 * the landing, a return to it, or a page of the site is not. Each side keeps
 * the campaign of the visit it counted: the tracker in its visit cookie
 * (`tl_vt`), the collector in the visit window's Redis key.
 */
export const freshLanding = (campaign: string, current: string): boolean => !!campaign && campaign != current;

/**
 * Query parameters of a URL, or of a touch's landing URL (`<landing> <referrer>`:
 * the query ends at a space), percent-decoded, repeated names: the first wins;
 * empty for anything without a query, undefined included. Never throws.
 */
export function queryOf(url: string | undefined): URLSearchParams {
  return new URLSearchParams(/^[^?# ]*\?([^# ]*)/.exec(url!)?.[1]);
}
