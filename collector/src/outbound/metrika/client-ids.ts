// The Metrika ClientID of each deal: its own (the `_ym_uid` the CRM field
// carried, crm/fields), else the one the identity graph ties the deal to
// (outbound/client-id.ts: the ym_uid of the most recent hit of the deal's
// visitors).
import type { ClickHouseClient } from '../../clickhouse/client.js';
import type { DealRow } from '../../crm/deals/store.js';
import { graphClientIds } from '../client-id.js';
import { subjectOf } from '../ga4/planner.js';

/** A deal's subject (`<source>:<deal_id>`) from any of its rows. */
export const subjectOfRow = (row: DealRow) => subjectOf({ source: row.source, dealId: row.deal_id });

/** ClientIDs by subject, for the deals (their current rows) that have or reach one. */
export async function metrikaClientIds(ch: ClickHouseClient, rows: DealRow[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const asking = [];
  for (const row of rows) {
    if (row.ym_uid) out.set(subjectOfRow(row), row.ym_uid);
    else asking.push({ subject: subjectOfRow(row), visitorId: row.visitor_id });
  }
  if (asking.length) for (const [subject, id] of await graphClientIds(ch, asking, 'ym_uid')) out.set(subject, id);
  return out;
}
