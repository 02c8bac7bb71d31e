// Where a visitor came from: the landing URL (with its UTM tags and click ids)
// and the referrer. The first touch is kept once; the last non-direct touch is
// replaced by every landing that brings a campaign, a click id or an outside
// referrer. A direct visit never erases the campaign that brought the visitor
// (Yandex Metrika's "last significant click").

/** Landing URL (cut to fit a cookie) and referrer. */
export type Touch = { l: string; r: string };

/** The query parameters that make a campaign: UTM tags, then ad click ids in the collector's order (collector/src/hits/row.ts). */
export const CAMPAIGN = 'utm_source utm_medium utm_campaign utm_term utm_content gclid yclid fbclid msclkid ttclid vkclid gbraid wbraid dclid twclid li_fat_id'.split(' ');

/**
 * Query parameters of a URL (percent-decoded; repeated names: the first wins);
 * empty for anything without a query, undefined included. Never throws.
 */
export function params(url: string | undefined): URLSearchParams {
  return new URLSearchParams(/^[^?#]*\?([^#]*)/.exec(url!)?.[1]);
}

/** The campaign a URL carries, as one comparable string; '' when it carries none. */
export function campaign(url: string | undefined): string {
  const p = params(url);
  return CAMPAIGN.map((n) => p.get(n)).join().replace(/^,*$/, '');
}

/**
 * Given the stored touches and this landing, what to store and whether the
 * landing brings a campaign the visitor did not have (sent at once, past the
 * visit throttle). `f`/`l` are undefined when that cookie stays as it is.
 */
export function nextTouches(first: Touch | undefined, last: Touch | undefined, cur: Touch, pageHost: string): { f?: Touch; l?: Touch; n: boolean } {
  const key = campaign(cur.l);
  // host[:port] of the referrer: another site's page is a landing from it.
  const outside = !!cur.r && cur.r.split('/')[2] != pageHost;
  return {
    f: first ? undefined : cur,
    l: key || outside ? cur : undefined,
    n: !!key && key != campaign(last && last.l),
  };
}

/**
 * A stored touch. A damaged cookie gives undefined, or an object whose missing
 * parts read as undefined, which every reader of a touch tolerates.
 */
export function parseTouch(raw: string | undefined): Touch | undefined {
  try {
    return JSON.parse(raw!);
  } catch {
    // absent or damaged: no touch
  }
}
