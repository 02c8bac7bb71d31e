// Uploaded advertising costs: CSV (a header row naming the columns) or JSON (an
// array of objects, or {rows:[…]}), one row per day / source / medium / campaign.
//   date      YYYY-MM-DD (UTC day), 1970-01-01…2105-12-31   required
//   source    utm_source the ads carry (yandex, vk…)        required
//   medium    utm_medium (cpc, cpm…)                         optional
//   campaign  utm_campaign                                   optional
//   cost      money in major units, at most 2 decimals ("1500.50", 1500.5)
//   currency  optional ISO code; a cost without one is in the report currency of
//             its upload (REPORT_CURRENCY), and is stored with that code (store.ts)
// The file is checked whole: any bad row rejects the upload with every reason (records.ts).
import { z } from 'zod';
import { classify } from '../channels/classify.js';
import { isStorableDay, STORABLE_DAY_RULE } from '../clickhouse/days.js';
import { checkRecords, csvRecords, jsonRecords, type Checked } from './records.js';

export type CostRow = {
  day: string;
  source: string;
  medium: string;
  campaign: string;
  channel: string;
  cost_minor: number;
  currency: string;
};

export type ParsedCosts = Checked<CostRow>;

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

function costRow(r: z.infer<typeof rowSchema>): CostRow {
  const c = classify({ clickIdName: '', utmSource: r.source, utmMedium: r.medium, utmCampaign: r.campaign, referrer: '', pageHost: '' });
  return {
    day: r.date,
    source: c.source,
    medium: r.medium.toLowerCase(),
    campaign: c.campaign,
    channel: c.channel,
    cost_minor: r.cost,
    currency: r.currency.toUpperCase(),
  };
}

export const parseCostsCsv = (body: string): ParsedCosts => checkRecords(csvRecords(body), rowSchema, costRow);
export const parseCostsJson = (body: string): ParsedCosts => checkRecords(jsonRecords(body), rowSchema, costRow);
