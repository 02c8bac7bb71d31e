// The calendar days a ClickHouse Date holds the same way on 18.16 and on current
// versions. Outside them a Date wraps around instead of failing: a report to
// 9999-12-31 would count nothing and one from 2200-01-01 everything, and a cost
// of such a day would be stored on another day. So every day a person or a
// program gives (report periods, cost rows) is checked against them first.

export const FIRST_DAY = '1970-01-01';
export const LAST_DAY = '2105-12-31';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `YYYY-MM-DD`, a real calendar day (not 2026-02-30), from FIRST_DAY to LAST_DAY. */
export function isStorableDay(s: string): boolean {
  if (!DAY.test(s) || s < FIRST_DAY || s > LAST_DAY) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

export const STORABLE_DAY_RULE = `a date YYYY-MM-DD from ${FIRST_DAY} to ${LAST_DAY}`;
