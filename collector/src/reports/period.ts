// Report periods as calendar days (UTC, both ends included): the page's presets
// (the last 7, 30, 90 days, this month, all time) and, for a period with both
// ends, the previous period of the same length, which the page compares it with.
import type { Period } from '../attribution/credits-sql.js';
import { FIRST_DAY } from '../clickhouse/days.js';

export type Bounded = { from: string; to: string };

const DAY_MS = 86_400_000;
const ms = (day: string) => Date.parse(`${day}T00:00:00Z`);
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** `day` moved by `n` days. */
export const addDays = (d: string, n: number): string => day(ms(d) + n * DAY_MS);

/** Today's day, UTC: the day the report's days are counted in. */
export const today = (now = Date.now()): string => day(now);

/** The number of days of a bounded period, both ends included. */
export const lengthInDays = (p: Bounded): number => Math.round((ms(p.to) - ms(p.from)) / DAY_MS) + 1;

/** The page's ready-made periods, by name. */
export const PRESETS = ['7d', '30d', '90d', 'month', 'all'] as const;
export type Preset = (typeof PRESETS)[number];

/** What the page shows when asked for no period: the last 30 days, today included. */
export const DEFAULT_PRESET: Preset = '30d';

/** The period a preset means on `on` (today). */
export function presetPeriod(preset: Preset, on: string): Period {
  if (preset === 'all') return {};
  if (preset === 'month') return { from: `${on.slice(0, 8)}01`, to: on };
  return { from: addDays(on, 1 - Number(preset.slice(0, -1))), to: on };
}

/** The preset that means exactly `p` on `on`, if one does. */
export function presetOf(p: Period, on: string): Preset | undefined {
  return PRESETS.find((x) => {
    const q = presetPeriod(x, on);
    return (q.from ?? '') === (p.from ?? '') && (q.to ?? '') === (p.to ?? '');
  });
}

/** The period of the same length just before `p`; none for an open period or one reaching back past the first storable day. */
export function previousPeriod(p: Period): Bounded | null {
  if (!p.from || !p.to) return null;
  const before = { from: addDays(p.from, -lengthInDays({ from: p.from, to: p.to })), to: addDays(p.from, -1) };
  return before.from >= FIRST_DAY ? before : null;
}
