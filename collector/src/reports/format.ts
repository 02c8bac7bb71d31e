// How a report is written out for programs and the terminal: money from integer
// minor units to "70000.00" without floating point (in the report currency;
// amounts without a rate into it in a column of their own, by currency), the CSV
// every face (HTTP, page, CLI) sends, and what every face says about the
// identity resolution behind the figures (in English; the page says it in its
// own language, words.ts).
import { stringify } from 'csv-stringify/sync';
import type { ResolutionStatus } from '../attribution/resolver.js';
import type { Report, ReportRow } from './build.js';
import { WORDS } from './words.js';

/**
 * 7000001 -> "70000.01"; -5 -> "-0.05". Exact for whole minor units, however
 * large: the digits come from BigInt, so 1e21 is not written "1e+21".
 */
export function formatMinor(minor: number): string {
  const whole = BigInt(Math.round(minor));
  const s = String(whole < 0n ? -whole : whole).padStart(3, '0');
  return `${whole < 0n ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** Money with no rate into the report currency, each currency apart: "EUR revenue 50.00 cost 5.00; USD …"; '' when none. */
export function formatUnconverted(x: ReportRow): string {
  return x.unconverted.map((u) => `${u.currency} revenue ${formatMinor(u.revenue_minor)} cost ${formatMinor(u.cost_minor)}`).join('; ');
}

/** A share-valued count or ratio, at most 4 decimals. */
export function formatCount(x: number | null): string {
  return x === null ? '' : String(Math.round(x * 10_000) / 10_000);
}

/** A CSV column: its name and its cell, text or a number with the way it is written. */
type CsvColumn = { name: string; cell: (x: ReportRow) => string | number | null; write?: (n: number) => string };

const countCol = (name: string, cell: (x: ReportRow) => number | null): CsvColumn => ({ name, cell, write: formatCount });
const moneyCol = (name: string, cell: (x: ReportRow) => number | null): CsvColumn => ({ name, cell, write: formatMinor });

function csvColumns(stages: string[]): CsvColumn[] {
  return [
    { name: 'key', cell: (x) => x.key },
    { name: 'visits', cell: (x) => x.visits, write: String },
    { name: 'visitors', cell: (x) => x.visitors, write: String },
    countCol('leads', (x) => x.leads),
    countCol('deals', (x) => x.deals),
    countCol('won', (x) => x.won),
    countCol('returned', (x) => x.returned),
    countCol('lost', (x) => x.lost),
    moneyCol('revenue', (x) => x.revenue_minor),
    moneyCol('cost', (x) => x.cost_minor),
    moneyCol('cpl', (x) => x.cpl_minor),
    moneyCol('cpo', (x) => x.cpo_minor),
    countCol('roi', (x) => x.roi),
    countCol('conversion', (x) => x.conversion),
    moneyCol('avg_deal', (x) => x.avg_deal_minor),
    ...stages.flatMap((s, i) => [countCol(`passed:${s}`, (x) => x.stages[i]!.passed), countCol(`refused:${s}`, (x) => x.stages[i]!.refused)]),
    { name: 'unconverted', cell: formatUnconverted },
  ];
}

/**
 * The report as CSV. Keys come from public hits and uploads, so a text cell a
 * spreadsheet would run as a formula (a leading =, +, -, @, tab or CR, and their
 * full-width forms: OWASP's CSV-injection list) gets a leading apostrophe
 * (csv-stringify's escape_formulas). Figures are passed as numbers, which it
 * leaves alone, and written by their column: a negative ROI stays -0.25.
 */
export function reportCsv(r: Report): string {
  const cols = csvColumns(r.stages);
  const line = (x: ReportRow) => cols.map((c) => c.cell(x));
  return stringify([cols.map((c) => c.name), ...r.rows.map(line), line(r.totals)], {
    escape_formulas: true,
    cast: { number: (n, ctx) => (cols[ctx.index]!.write ?? String)(n) },
  });
}

/** One sentence for people (page, CLI): when the identities behind the figures were resolved, and whether newer ones are coming. */
export const resolutionNote = (r: ResolutionStatus): string => WORDS.en.resolution(r);

/** The same for programs, as the `Throughline-Resolution` response header of every HTTP face (CSV included). */
export function resolutionHeader(r: ResolutionStatus): string {
  return `run=${r.run}; finished_at=${r.finishedAt}; age_seconds=${r.ageSeconds}; current=${r.current}; refreshing=${r.refreshing}; waited_ms=${r.waitedMs}`;
}
