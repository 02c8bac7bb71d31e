// Uploaded advertising costs: CSV (a header row naming the columns) or JSON (an
// array of objects, or {rows:[…]}), one row per day / source / medium / campaign.
//   date      YYYY-MM-DD (UTC day), 1970-01-01…2105-12-31   required
//   source    utm_source the ads carry (yandex, vk…)        required
//   medium    utm_medium (cpc, cpm…)                         optional
//   campaign  utm_campaign                                   optional
//   cost      money in major units, at most 2 decimals ("1500.50", 1500.5)
//   currency  optional ISO code
// The file is checked whole: any bad row rejects the upload with every reason.
import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { classify } from '../channels/classify.js';
import { isStorableDay, STORABLE_DAY_RULE } from '../clickhouse/days.js';

export type CostRow = {
  day: string;
  source: string;
  medium: string;
  campaign: string;
  channel: string;
  cost_minor: number;
  currency: string;
};

export type CostProblem = { row: number; reason: string };
export type ParsedCosts = { rows: CostRow[]; problems: CostProblem[] };

export const MAX_COST_ROWS = 100_000;

const MONEY = /^\d{1,13}(\.\d{1,2})?$/;

/** "1500.5" -> 150050, exactly (no binary floating point on the way). */
export function toMinor(value: string): number | null {
  const s = value.trim().replace(',', '.');
  if (!MONEY.test(s)) return null;
  const [whole, frac = ''] = s.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

const text = (max: number) => z.string().trim().max(max);
const rowSchema = z.object({
  date: z.string().trim().refine(isStorableDay, `date must be ${STORABLE_DAY_RULE}`),
  source: text(200).min(1, 'source is required'),
  medium: text(200).default(''),
  campaign: text(500).default(''),
  cost: z.union([z.string(), z.number()]).transform((v, ctx) => {
    const minor = toMinor(String(v));
    if (minor === null) {
      ctx.addIssue({ code: 'custom', message: 'cost must be a non-negative amount with at most 2 decimals' });
      return z.NEVER;
    }
    return minor;
  }),
  currency: text(3).regex(/^([A-Za-z]{3})?$/, 'currency must be a 3-letter code').default(''),
});

function validate(records: unknown[]): ParsedCosts {
  const rows: CostRow[] = [];
  const problems: CostProblem[] = [];
  if (records.length === 0) problems.push({ row: 0, reason: 'no rows' });
  if (records.length > MAX_COST_ROWS) return { rows, problems: [{ row: 0, reason: `more than ${MAX_COST_ROWS} rows` }] };
  records.forEach((rec, i) => {
    const r = rowSchema.safeParse(rec);
    if (!r.success) {
      problems.push({ row: i + 1, reason: r.error.issues.map((x) => `${x.path.join('.') || 'row'}: ${x.message}`).join('; ') });
      return;
    }
    const c = classify({ clickIdName: '', utmSource: r.data.source, utmMedium: r.data.medium, utmCampaign: r.data.campaign, referrer: '', pageHost: '' });
    rows.push({
      day: r.data.date,
      source: c.source,
      medium: r.data.medium.toLowerCase(),
      campaign: c.campaign,
      channel: c.channel,
      cost_minor: r.data.cost,
      currency: r.data.currency.toUpperCase(),
    });
  });
  return { rows, problems };
}

export function parseCostsCsv(body: string): ParsedCosts {
  let records: unknown[];
  try {
    records = parseCsv(body, {
      columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      bom: true,
      delimiter: [',', ';', '\t'],
    });
  } catch (err) {
    return { rows: [], problems: [{ row: 0, reason: `CSV: ${(err as Error).message}` }] };
  }
  return validate(records);
}

export function parseCostsJson(body: string): ParsedCosts {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { rows: [], problems: [{ row: 0, reason: 'body is not JSON' }] };
  }
  const list = Array.isArray(data) ? data : (data as { rows?: unknown } | null)?.rows;
  if (!Array.isArray(list)) return { rows: [], problems: [{ row: 0, reason: 'expected an array of rows or {"rows": [...]}' }] };
  return validate(list);
}
