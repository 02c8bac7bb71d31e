// Writes validated cost rows. Re-uploading a key (day, source, medium, campaign)
// replaces its cost: the newest upload wins (costs_current).
import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { ident, toDateTimeString } from '../clickhouse/sql.js';
import type { CostRow } from './parse.js';

export async function storeCosts(client: ClickHouseClient, db: string, rows: CostRow[]): Promise<string> {
  const uploadId = randomUUID();
  const uploadedAt = toDateTimeString(Date.now());
  await client.insert({
    table: `${ident(db)}.costs`,
    values: rows.map((r) => ({ ...r, uploaded_at: uploadedAt, upload_id: uploadId })),
    format: 'JSONEachRow',
  });
  return uploadId;
}
