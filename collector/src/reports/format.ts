// How a report is written out: money from integer minor units to "70000.00"
// without floating point, and the CSV every face (HTTP, CLI) sends.
import { stringify } from 'csv-stringify/sync';
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
