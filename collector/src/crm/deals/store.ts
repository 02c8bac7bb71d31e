// The deals and identity_links tables, as the CRM side reads and writes them.
// Webhooks are few, so rows go straight to ClickHouse (no batching) and a
// webhook is acknowledged only once its rows are stored.
import type { ClickHouseClient } from '../../clickhouse/client.js';
import { str } from '../../clickhouse/sql.js';
import type { IdentityIds } from '../fields/select.js';

/** One row of `deals` (collector/migrations/0010_deals.sql). */
export type DealRow = {
  source: string;
  deal_id: string;
  version: number;
  changed_at: string;
  received_at: string;
  created_at: string;
  closed_at: string;
  name: string;
  pipeline_id: string;
  status_id: string;
  stage: string;
  stage_index: number;
  outcome: string;
  stages_passed: string[];
  lost_from_stage: string;
  amount_minor: number;
  currency: string;
  deleted: number;
  contact_ids: string[];
  email_hashes: string[];
  phone_hashes: string[];
  field_names: string[];
  field_values: string[];
} & Omit<IdentityIds, 'emails' | 'phones'>;

export type LinkKind = 'visitor' | 'ga' | 'ym' | 'email' | 'phone' | 'deal' | 'contact';
export type LinkRow = { kind_a: LinkKind; id_a: string; kind_b: LinkKind; id_b: string; evidence: string; linked_at: string };

// 64-bit integers arrive quoted (output_format_json_quote_64bit_integers) and are read with Number().
const COLUMNS = `source, deal_id, version, changed_at, received_at, created_at, closed_at, name, pipeline_id, status_id, stage,
  stage_index, outcome, stages_passed, lost_from_stage, amount_minor, currency, deleted, contact_ids, visitor_id, ga_cid, ym_uid,
  utm_source, utm_medium, utm_campaign, utm_term, utm_content, email_hashes, phone_hashes, field_names, field_values`;

/** Ids per query: keeps the SQL well under max_query_size. */
const IDS_PER_QUERY = 1000;

/** Every stored version of these deals, oldest first, by deal id. */
export async function dealHistories(ch: ClickHouseClient, source: string, dealIds: string[]): Promise<Map<string, DealRow[]>> {
  const out = new Map<string, DealRow[]>();
  for (let i = 0; i < dealIds.length; i += IDS_PER_QUERY) {
    const ids = dealIds.slice(i, i + IDS_PER_QUERY).map(str).join(',');
    // FINAL folds repeated deliveries still waiting for a merge.
    const rs = await ch.query({
      query: `SELECT ${COLUMNS} FROM deals FINAL WHERE source = ${str(source)} AND deal_id IN (${ids}) ORDER BY deal_id, version`,
      format: 'JSONEachRow',
    });
    for (const raw of await rs.json<Record<string, unknown>>()) {
      const row: DealRow = {
        ...(raw as unknown as DealRow),
        version: Number(raw.version),
        amount_minor: Number(raw.amount_minor),
        stage_index: Number(raw.stage_index),
        deleted: Number(raw.deleted),
      };
      const list = out.get(row.deal_id) ?? [];
      list.push(row);
      out.set(row.deal_id, list);
    }
  }
  return out;
}

export async function insertDeals(ch: ClickHouseClient, rows: DealRow[]): Promise<void> {
  if (rows.length) await ch.insert({ table: 'deals', values: rows, format: 'JSONEachRow' });
}

export async function insertLinks(ch: ClickHouseClient, rows: LinkRow[]): Promise<void> {
  if (rows.length) await ch.insert({ table: 'identity_links', values: rows, format: 'JSONEachRow' });
}
