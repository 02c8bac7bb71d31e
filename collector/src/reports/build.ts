// The report: one computation behind the HTTP API (JSON, CSV), the page and the
// CLI. It takes the identity resolution the resolver gives it (the newest one,
// refreshed in the background when stale: resolver.ts) and names it in the
// report, runs the four reads of queries.ts side by side, the credits pinned to
// that resolution, and merges them per key into the metrics. Several reports
// (the six models, two periods) share one resolution and their common reads.
// Money is in the report currency (REPORT_CURRENCY); an amount with no rate into
// it stays in its own currency, in `unconverted`, and is never added to the
// report's figures.
import { MODELS } from '../attribution/models.js';
import type { ResolutionStatus, Resolver } from '../attribution/resolver.js';
import { queryRows as rows } from '../clickhouse/client.js';
import { costsSql, creditsReportSql, stagesSql, storedSql, trafficSql } from './queries.js';
import type { ReportOptions } from './options.js';
import { DEFAULT_REPORT_MONEY, type ReportMoney } from '../currency/rate.js';

/** Money with no rate into the report currency, in its own currency's minor units. */
export type Unconverted = { currency: string; revenue_minor: number; cost_minor: number };

/** The key of the totals row. */
export const TOTAL_KEY = '(total)';

export type StageCount = { stage: string; passed: number; refused: number };

export type ReportRow = {
  key: string;
  visits: number;
  visitors: number;
  /** Credited conversions: deals plus form leads of people without a deal (fractional under multi-touch models). */
  leads: number;
  deals: number;
  won: number;
  returned: number;
  lost: number;
  /** Revenue and cost in the report currency. */
  revenue_minor: number;
  cost_minor: number;
  /** Revenue and cost in currencies without a rate, by currency (not in the figures above nor in the metrics). */
  unconverted: Unconverted[];
  /** Cost per lead, per won deal (order), in minor units; null without leads / orders. */
  cpl_minor: number | null;
  cpo_minor: number | null;
  /** (revenue − cost) / cost; null without cost. */
  roi: number | null;
  /** won / leads. */
  conversion: number | null;
  avg_deal_minor: number | null;
  stages: StageCount[];
};

export type Report = ReportOptions & {
  /** The report currency of every `*_minor` figure. */
  currency: string;
  modelLabel: string;
  stages: string[];
  rows: ReportRow[];
  totals: ReportRow;
  resolution: ResolutionStatus;
  ms: number;
};

/** Amounts in other currencies than the report's, as the queries give them: parallel arrays. */
type Others<K extends string> = { other_currencies: string[] } & Record<`other_${K}`, string[]>;
type CreditAgg = { key: string; leads: number; deals: number; won: number; returned: number; lost: number; revenue_minor: string; passed: number[]; refused: number[] } & Others<'revenue_minor'>;
type CostAgg = { key: string; cost_minor: string } & Others<'cost_minor'>;

/** Adds up amounts per currency, sorted by currency; zero sums are left out. */
function unconverted(parts: { currency: string; revenue_minor?: number; cost_minor?: number }[]): Unconverted[] {
  const by = new Map<string, Unconverted>();
  for (const p of parts) {
    const u = by.get(p.currency) ?? { currency: p.currency, revenue_minor: 0, cost_minor: 0 };
    u.revenue_minor += p.revenue_minor ?? 0;
    u.cost_minor += p.cost_minor ?? 0;
    by.set(p.currency, u);
  }
  return [...by.values()].filter((u) => u.revenue_minor !== 0 || u.cost_minor !== 0).sort((a, b) => a.currency.localeCompare(b.currency));
}

/** The other currencies' amounts of one key, named `name`. */
function others<K extends 'revenue_minor' | 'cost_minor'>(x: Others<K> | undefined, name: K): { currency: string; revenue_minor?: number; cost_minor?: number }[] {
  const amounts: string[] = x ? (x as Record<string, string[]>)[`other_${name}`]! : [];
  return (x?.other_currencies ?? []).map((currency, i) => ({ currency, [name]: Number(amounts[i]) }));
}

/** Counts shares of conversions; rounding to 1e-9 hides float dust (0.30000000000000004). */
export const tidy = (x: number) => Math.round(x * 1e9) / 1e9;

function metrics(r: Omit<ReportRow, 'cpl_minor' | 'cpo_minor' | 'roi' | 'conversion' | 'avg_deal_minor'>): ReportRow {
  const div = (a: number, b: number) => (b > 0 ? tidy(a / b) : null);
  return {
    ...r,
    cpl_minor: div(r.cost_minor, r.leads),
    cpo_minor: div(r.cost_minor, r.won),
    roi: r.cost_minor > 0 ? tidy((r.revenue_minor - r.cost_minor) / r.cost_minor) : null,
    conversion: div(r.won, r.leads),
    avg_deal_minor: div(r.revenue_minor, r.won),
  };
}

/** The reads of one report, as the queries give them. */
type Reads = { credits: CreditAgg[]; traffic: TrafficRow | undefined; costs: CostAgg[] };
type TrafficRow = { keys: string[]; visits: string[]; visitors: string[]; total_visitors: string };

/**
 * The report of `o`. `fresh`: wait for a resolution of the inputs as they are now
 * instead of answering from the newest one while it is refreshed.
 */
export async function buildReport(resolver: Resolver, o: ReportOptions, fresh = false, money: ReportMoney = DEFAULT_REPORT_MONEY): Promise<Report> {
  return (await buildReports(resolver, [o], fresh, money))[0]!;
}

/**
 * Several reports on one resolution, side by side (the six models, a period and
 * the one before it): the resolution and the stages are read once, and a read
 * two reports share (the traffic and costs of one period under six models) runs
 * once, by its SQL.
 */
export async function buildReports(resolver: Resolver, asks: ReportOptions[], fresh = false, money: ReportMoney = DEFAULT_REPORT_MONEY): Promise<Report[]> {
  const t0 = performance.now();
  const { client, db } = resolver;
  const settings = await resolver.reportSettings();
  const reads = new Map<string, Promise<unknown[]>>();
  const read = <T>(sql: string): Promise<T[]> => {
    if (!reads.has(sql)) reads.set(sql, rows<T>(client, sql, settings));
    return reads.get(sql) as Promise<T[]>;
  };
  // Only the credits wait for the resolution (and the stages): the other reads run while it is found, or made.
  const found = Promise.all([resolver.forReport(fresh), read<{ stage: string }>(stagesSql(db))]);
  const perAsk = asks.map(async (o): Promise<Reads> => {
    const q = { db, ...o, money };
    const [credits, [traffic], costs] = await Promise.all([
      found.then(([r, s]) => read<CreditAgg>(creditsReportSql({ ...q, snapshot: { generation: r.generation, run: r.run } }, s.map((x) => x.stage)))),
      read<TrafficRow>(trafficSql(q)),
      read<CostAgg>(costsSql(q)),
    ]);
    return { credits, traffic, costs };
  });
  const [[resolution, stageRows], all] = await Promise.all([found, Promise.all(perAsk)]);
  const stages = stageRows.map((r) => r.stage);
  const ms = Math.round(performance.now() - t0);
  return asks.map((o, i) => ({ ...o, currency: money.currency, ...merge(o, stages, all[i]!), resolution, ms }));
}

/** The reads of one report merged per key into rows with their metrics, and the totals. */
function merge(o: ReportOptions, stages: string[], { credits, traffic: trafficRow, costs }: Reads): Pick<Report, 'modelLabel' | 'stages' | 'rows' | 'totals'> {
  const traffic = (trafficRow?.keys ?? []).map((key, i) => ({ key, visits: trafficRow!.visits[i]!, visitors: trafficRow!.visitors[i]! }));
  const keys = new Set<string>([...credits.map((r) => r.key), ...traffic.map((r) => r.key), ...costs.map((r) => r.key)]);
  const byKey = <T extends { key: string }>(xs: T[]) => new Map(xs.map((x) => [x.key, x]));
  const c = byKey(credits);
  const t = byKey(traffic);
  const k = byKey(costs);
  const out: ReportRow[] = [...keys].map((key) => {
    const cr = c.get(key);
    return metrics({
      key,
      visits: Number(t.get(key)?.visits ?? 0),
      visitors: Number(t.get(key)?.visitors ?? 0),
      leads: tidy(cr?.leads ?? 0),
      deals: tidy(cr?.deals ?? 0),
      won: tidy(cr?.won ?? 0),
      returned: tidy(cr?.returned ?? 0),
      lost: tidy(cr?.lost ?? 0),
      revenue_minor: Number(cr?.revenue_minor ?? 0),
      cost_minor: Number(k.get(key)?.cost_minor ?? 0),
      unconverted: unconverted([...others(cr, 'revenue_minor'), ...others(k.get(key), 'cost_minor')]),
      stages: stages.map((stage, i) => ({ stage, passed: tidy(cr?.passed[i] ?? 0), refused: tidy(cr?.refused[i] ?? 0) })),
    });
  });
  // Months in calendar order; everything else by revenue, then leads, then visits.
  if (o.group === 'month') out.sort((a, b) => a.key.localeCompare(b.key));
  else out.sort((a, b) => b.revenue_minor - a.revenue_minor || b.leads - a.leads || b.visits - a.visits || a.key.localeCompare(b.key));
  const sum = (f: (r: ReportRow) => number) => tidy(out.reduce((s, r) => s + f(r), 0));
  const totals = metrics({
    key: TOTAL_KEY,
    visits: sum((r) => r.visits),
    visitors: Number(trafficRow?.total_visitors ?? 0),
    leads: sum((r) => r.leads),
    deals: sum((r) => r.deals),
    won: sum((r) => r.won),
    returned: sum((r) => r.returned),
    lost: sum((r) => r.lost),
    revenue_minor: sum((r) => r.revenue_minor),
    cost_minor: sum((r) => r.cost_minor),
    unconverted: unconverted(out.flatMap((r) => r.unconverted)),
    stages: stages.map((stage, i) => ({ stage, passed: sum((r) => r.stages[i]!.passed), refused: sum((r) => r.stages[i]!.refused) })),
  });
  return { modelLabel: MODELS[o.model].label, stages, rows: out, totals };
}

/** Whether anything of each kind is stored at all, whatever the period (the page's empty states). */
/** What is stored at all; `sample`: the demo's sample data is among it (sample/marks.ts). */
export type Stored = { visits: boolean; deals: boolean; costs: boolean; sample: boolean };

export async function storedAtAll(resolver: Resolver): Promise<Stored> {
  const [x] = await rows<Record<keyof Stored, string | number>>(resolver.client, storedSql(resolver.db), await resolver.reportSettings());
  return { visits: Number(x?.visits) > 0, deals: Number(x?.deals) > 0, costs: Number(x?.costs) > 0, sample: Number(x?.sample) > 0 };
}
