// A report against the report of the period before it: per key and in total,
// the change of the figures a marketer follows from period to period, absolute
// and relative. Keys are matched by name, so a channel present in only one of
// the periods counts as zero in the other; months never match across periods,
// so a report by month is compared in total only.
import { tidy, type Report, type ReportRow } from './build.js';
import type { Bounded } from './period.js';

export const COMPARED = ['visits', 'leads', 'won', 'revenue_minor', 'cost_minor'] as const;
export type Compared = (typeof COMPARED)[number];

/** One figure in both periods. `pct`: the change over the earlier figure (0.5 is +50%); null when that was 0. */
export type Change = { now: number; before: number; change: number; pct: number | null };
export type Changes = Record<Compared, Change>;
export type Comparison = { period: Bounded; totals: Changes; rows: ({ key: string } & Changes)[] };

export function change(now: number, before: number): Change {
  return { now, before, change: tidy(now - before), pct: before === 0 ? null : tidy((now - before) / Math.abs(before)) };
}

function changes(now: ReportRow | undefined, before: ReportRow | undefined): Changes {
  return Object.fromEntries(COMPARED.map((k) => [k, change(now?.[k] ?? 0, before?.[k] ?? 0)])) as Changes;
}

/** `now` against `before`, the report of `period`; rows in `now`'s order, then keys only `before` has. */
export function compareReports(now: Report, before: Report, period: Bounded): Comparison {
  const earlier = new Map(before.rows.map((r) => [r.key, r]));
  const later = new Map(now.rows.map((r) => [r.key, r]));
  const keys = now.group === 'month' ? [] : [...later.keys(), ...[...earlier.keys()].filter((k) => !later.has(k))];
  return {
    period,
    totals: changes(now.totals, before.totals),
    rows: keys.map((key) => ({ key, ...changes(later.get(key), earlier.get(key)) })),
  };
}
