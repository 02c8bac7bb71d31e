// Writes validated cost rows. Re-uploading a key (day, source, medium, campaign)
// replaces its cost: the newest upload wins (costs_current). A cost without a
// currency is stored in the report currency of the day of upload, so that it
// keeps its meaning if REPORT_CURRENCY changes later.
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { ident, toDateTimeString } from '../clickhouse/sql.js';
import type { CostRow } from './parse.js';

export async function storeCosts(client: ClickHouseClient, db: string, rows: CostRow[], reportCurrency: string): Promise<string> {
  const uploadId = randomUUID();
  const uploadedAt = toDateTimeString(Date.now());
  await client.insert({
    table: `${ident(db)}.costs`,
    values: rows.map((r) => ({ ...r, currency: r.currency || reportCurrency, uploaded_at: uploadedAt, upload_id: uploadId })),
    format: 'JSONEachRow',
  });
  return uploadId;
}
