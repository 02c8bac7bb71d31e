// The visit rule: at most one visit per 10 minutes per visitor (across tabs,
// reloads and back/forward cache, through a first-party cookie), except that a
// landing bringing a new campaign or click id is sent at once.
export const VISIT_WINDOW_MS = 10 * 60 * 1000;

/**
 * `last` is the time of the last visit sent (NaN when none). A `last` in the
 * future (the clock was set back) does not hold visits back.
 */
export function shouldSendVisit(last: number, now: number, newCampaign: boolean): boolean {
  return newCampaign || !(now >= last && now - last < VISIT_WINDOW_MS);
}
