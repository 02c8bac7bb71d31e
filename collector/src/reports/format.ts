// How a report is written out: money from integer minor units to "70000.00"
// without floating point, the CSV every face (HTTP, CLI) sends, and what every
// face says about the identity resolution behind the figures.
import { stringify } from 'csv-stringify/sync';
import type { ResolutionStatus } from '../attribution/resolver.js';
import type { Report, ReportRow } from './build.js';

/** 7000001 -> "70000.01"; -5 -> "-0.05". Exact for whole minor units. */
export function formatMinor(minor: number): string {
  const neg = minor < 0;
  const s = String(Math.abs(Math.round(minor))).padStart(3, '0');
  return `${neg ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** A share-valued count or ratio, at most 4 decimals. */
export function formatCount(x: number | null): string {
  return x === null ? '' : String(Math.round(x * 10_000) / 10_000);
}

const money = (x: number | null) => (x === null ? '' : formatMinor(x));

export function reportCsv(r: Report): string {
  const head = ['key', 'visits', 'visitors', 'leads', 'deals', 'won', 'returned', 'lost', 'revenue', 'cost', 'cpl', 'cpo', 'roi', 'conversion', 'avg_deal'];
  for (const s of r.stages) head.push(`passed:${s}`, `refused:${s}`);
  const line = (x: ReportRow) => [
    x.key,
    x.visits,
    x.visitors,
    formatCount(x.leads),
    formatCount(x.deals),
    formatCount(x.won),
    formatCount(x.returned),
    formatCount(x.lost),
    formatMinor(x.revenue_minor),
    formatMinor(x.cost_minor),
    money(x.cpl_minor),
    money(x.cpo_minor),
    formatCount(x.roi),
    formatCount(x.conversion),
    money(x.avg_deal_minor),
    ...x.stages.flatMap((s) => [formatCount(s.passed), formatCount(s.refused)]),
  ];
  return stringify([head, ...r.rows.map(line), line(r.totals)]);
}

function ago(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} days`;
}

/** One sentence for people (page, CLI): when the identities behind the figures were resolved, and whether newer ones are coming. */
export function resolutionNote(r: ResolutionStatus): string {
  const when = `Identities resolved ${r.finishedAt.replace('T', ' ').replace('Z', ' UTC')} (${ago(r.ageSeconds)} ago)`;
  const waited = r.waitedMs > 0 ? `, for this report (${(r.waitedMs / 1000).toFixed(1)} s)` : '';
  if (r.current) return `${when}${waited}: the figures include every hit, deal and link stored.${r.refreshing ? ' A refresh is running.' : ''}`;
  return r.refreshing
    ? `${when}: hits, deals or links arrived since and a refresh is running; ask again shortly for figures that include them.`
    : `${when}: hits, deals or links arrived since; a later report will include them.`;
}

/** The same for programs, as the `Throughline-Resolution` response header of every HTTP face (CSV included). */
export function resolutionHeader(r: ResolutionStatus): string {
  return `run=${r.run}; finished_at=${r.finishedAt}; age_seconds=${r.ageSeconds}; current=${r.current}; refreshing=${r.refreshing}; waited_ms=${r.waitedMs}`;
}
