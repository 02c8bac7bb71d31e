// Where a visitor came from, for the tracker and the collector alike (the
// collector keeps the touches itself in first-party mode: README, "First-party
// mode"): the landing URL (with its UTM tags and click ids) and the referrer.
// The first touch is kept once; the last non-direct touch is replaced by every
// landing that brings a campaign, a click id or an outside referrer. A direct
// visit never erases the campaign that brought the visitor (Yandex Metrika's
// "last significant click").
import { campaignOf, freshLanding, queryOf } from './campaign.js';

/**
 * A touch as stored in its cookie: the landing URL and the referrer joined by
 * one space (neither holds a space: both are serialized URLs; '' for none).
 */
export type Touch = string;

/** How long the first and last touch live by default: the tracker's `data-days`, a site's `touchDays` (days). */
export const TOUCH_DAYS = 90;

/** How much of a page's address and of its referrer a touch keeps: a cookie holds 4 KB. */
export const TOUCH_HREF_MAX = 1e3;
export const TOUCH_REFERRER_MAX = 500;

/** A page's touch: its address and its referrer, cut (the tracker writes this out with the same limits: a call costs it bytes). */
export const touchOf = (href: string, referrer: string): Touch => href.slice(0, TOUCH_HREF_MAX) + ' ' + referrer.slice(0, TOUCH_REFERRER_MAX);

/** The campaign a URL or touch carries, as one comparable string (campaignOf); '' when it carries none. */
export const campaign = (url: string | undefined): string => campaignOf(queryOf(url));

/**
 * Given the stored touches and this landing, what to store and whether the
 * landing is fresh (the contract's rule: it brings a campaign other than the
 * current one, which the tracker knows as its last touch's; sent at once, past
 * the visit window): [first touch to store, last touch to store, fresh], a touch
 * undefined when that cookie stays as it is. `cur` is this page's touch
 * (touchOf), `pageHost` its host[:port].
 */
export function nextTouches(first: Touch | undefined, last: Touch | undefined, cur: Touch, pageHost: string): [Touch | undefined, Touch | undefined, boolean] {
  const key = campaign(cur);
  // host[:port] of the referrer: another site's page is a landing from it.
  const from = cur.split(' ')[1]!.split('/')[2];
  return [first ? undefined : cur, key || (from && from != pageHost) ? cur : undefined, freshLanding(key, campaign(last))];
}
