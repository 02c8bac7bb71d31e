// Uploaded exchange rates (POST /api/rates), in the formats of cost uploads
// (costs/records.ts), one row per day and currency:
//   date      YYYY-MM-DD (UTC day), 1970-01-01…2105-12-31   required
//   currency  ISO code of the currency the rate converts     required
//   rate      units of the report currency one unit of it is worth ("92.5")
// Rates are stored with the report currency they are quoted in (`base`), and
// reports only use rates quoted in their own currency.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { isStorableDay, STORABLE_DAY_RULE } from '../clickhouse/days.js';
import { ident, toDateTimeString } from '../clickhouse/sql.js';
import { checkRecords, csvRecords, jsonRecords, type Checked } from '../costs/records.js';
import { CURRENCY, RATE_RULE, rateE9 } from './rate.js';

export type RateRow = { day: string; currency: string; rate_e9: string };

const rowSchema = z.object({
  date: z.string().trim().refine(isStorableDay, `date must be ${STORABLE_DAY_RULE}`),
  currency: z.string().trim().toUpperCase().regex(CURRENCY, 'currency must be a 3-letter code'),
  rate: z.union([z.string(), z.number()]),
});

function rateRow(reportCurrency: string) {
  return (r: z.infer<typeof rowSchema>): RateRow | string => {
    if (r.currency === reportCurrency) return `currency: ${r.currency} is the report currency (its rate is always 1)`;
    const e9 = rateE9(r.rate);
    return e9 === null ? `rate: must be ${RATE_RULE}` : { day: r.date, currency: r.currency, rate_e9: e9 };
  };
}

/** The rows of an upload (`json`: a JSON body, else CSV) into `reportCurrency`, or every bad row's reason. */
export function parseRates(body: string, json: boolean, reportCurrency: string): Checked<RateRow> {
  return checkRecords(json ? jsonRecords(body) : csvRecords(body), rowSchema, rateRow(reportCurrency));
}

export async function storeRates(client: ClickHouseClient, db: string, rows: RateRow[], reportCurrency: string): Promise<string> {
  const uploadId = randomUUID();
  const uploadedAt = toDateTimeString(Date.now());
  await client.insert({
    table: `${ident(db)}.exchange_rates`,
    values: rows.map((r) => ({ base: reportCurrency, currency: r.currency, day: r.day, rate_e9: r.rate_e9, uploaded_at: uploadedAt, upload_id: uploadId })),
    format: 'JSONEachRow',
  });
  return uploadId;
}
