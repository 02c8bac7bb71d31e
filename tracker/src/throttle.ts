// The visit rule: at most one visit per 10 minutes per visitor (across tabs,
// reloads and back/forward cache, through a first-party cookie), except that a
// fresh landing (one carrying a UTM tag or click id) is sent at once. The
// window and the rule are the contract's, which the collector applies too.
import { VISIT_WINDOW_SECONDS } from '../../contract/campaign.js';

export const VISIT_WINDOW_MS = VISIT_WINDOW_SECONDS * 1000;

/**
 * `last` is the time of the last visit sent (NaN when none). A `last` in the
 * future (the clock was set back) does not hold visits back.
 */
export function shouldSendVisit(last: number, now: number, fresh: boolean): boolean {
  return fresh || !(now >= last && now - last < VISIT_WINDOW_MS);
}
