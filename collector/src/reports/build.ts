// The report: one computation behind the HTTP API (JSON, CSV), the page and the
// CLI. It takes the identity resolution the resolver gives it (the newest one,
// refreshed in the background when stale: resolver.ts) and names it in the
// report, runs the four reads of queries.ts side by side, the credits pinned to
// that resolution, and merges them per key into the metrics.
import { MODELS } from '../attribution/models.js';
import type { ResolutionStatus, Resolver } from '../attribution/resolver.js';
import { queryRows as rows } from '../clickhouse/client.js';
import { costsSql, creditsReportSql, stagesSql, trafficSql } from './queries.js';
import type { ReportOptions } from './options.js';

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
  revenue_minor: number;
  cost_minor: number;
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
  modelLabel: string;
  stages: string[];
  rows: ReportRow[];
  totals: ReportRow;
  resolution: ResolutionStatus;
  ms: number;
};

type CreditAgg = { key: string; leads: number; deals: number; won: number; returned: number; lost: number; revenue_minor: string; passed: number[]; refused: number[] };

/** Counts shares of conversions; rounding to 1e-9 hides float dust (0.30000000000000004). */
const tidy = (x: number) => Math.round(x * 1e9) / 1e9;

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

/**
 * The report of `o`. `fresh`: wait for a resolution of the inputs as they are now
 * instead of answering from the newest one while it is refreshed.
 */
export async function buildReport(resolver: Resolver, o: ReportOptions, fresh = false): Promise<Report> {
  const t0 = performance.now();
  const { client, db } = resolver;
  const q = { db, ...o };
  const settings = await resolver.reportSettings();
  // Only the credits wait for the resolution (and the stages): the other reads run while it is found, or made.
  const found = Promise.all([resolver.forReport(fresh), rows<{ stage: string }>(client, stagesSql(db), settings)]);
  const [[resolution, stageRows], credits, [trafficRow], costs] = await Promise.all([
    found,
    found.then(([r, s]) => rows<CreditAgg>(client, creditsReportSql({ ...q, run: r.run }, s.map((x) => x.stage)), settings)),
    rows<{ keys: string[]; visits: string[]; visitors: string[]; total_visitors: string }>(client, trafficSql(q), settings),
    rows<{ key: string; cost_minor: string }>(client, costsSql(q), settings),
  ]);
  const stages = stageRows.map((r) => r.stage);
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
      stages: stages.map((stage, i) => ({ stage, passed: tidy(cr?.passed[i] ?? 0), refused: tidy(cr?.refused[i] ?? 0) })),
    });
  });
  // Months in calendar order; everything else by revenue, then leads, then visits.
  if (o.group === 'month') out.sort((a, b) => a.key.localeCompare(b.key));
  else out.sort((a, b) => b.revenue_minor - a.revenue_minor || b.leads - a.leads || b.visits - a.visits || a.key.localeCompare(b.key));
  const sum = (f: (r: ReportRow) => number) => tidy(out.reduce((s, r) => s + f(r), 0));
  const totals = metrics({
    key: '(total)',
    visits: sum((r) => r.visits),
    visitors: Number(trafficRow?.total_visitors ?? 0),
    leads: sum((r) => r.leads),
    deals: sum((r) => r.deals),
    won: sum((r) => r.won),
    returned: sum((r) => r.returned),
    lost: sum((r) => r.lost),
    revenue_minor: sum((r) => r.revenue_minor),
    cost_minor: sum((r) => r.cost_minor),
    stages: stages.map((stage, i) => ({ stage, passed: sum((r) => r.stages[i]!.passed), refused: sum((r) => r.stages[i]!.refused) })),
  });
  return {
    ...o,
    modelLabel: MODELS[o.model].label,
    stages,
    rows: out,
    totals,
    resolution,
    ms: Math.round(performance.now() - t0),
  };
}
