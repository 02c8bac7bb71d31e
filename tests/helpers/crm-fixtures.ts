// Deals, identity links and funnel stages as the CRM side writes them: rows of
// {db}.deals (0010_deals.sql), {db}.identity_links (0011_identity_links.sql) and
// {db}.funnel_stages, inserted with every column, so tests of the reports read
// exactly what the amoCRM / Zoho webhooks and the form-lead pipeline will store.
//   deal({...})        one deal version; unspecified columns get neutral values
//   insertDeals(...)   writes versions; the highest version of (source, deal_id) is current
//   insertLinks(...)   [kindA, idA, kindB, idB, evidence] pairs
//   insertFunnel(...)  ordered stage names, as one configuration version
import type { ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type DealVersion = {
  source: string;
  deal_id: string;
  version: number;
  created_at: string;
  /** When it reached Throughline; its creation by default (a deal stored long after it arrived, for an incremental resolution). */
  received_at?: string;
  closed_at?: string;
  outcome: 'open' | 'won' | 'lost' | 'returned' | 'paused';
  amount_minor: number;
  stage?: string;
  stage_index?: number;
  stages_passed?: string[];
  lost_from_stage?: string;
  deleted?: 0 | 1;
  contact_ids?: string[];
  visitor_id?: string;
  ga_cid?: string;
  ym_uid?: string;
  email_hashes?: string[];
  phone_hashes?: string[];
};

export function dealRow(d: DealVersion): Record<string, unknown> {
  return {
    source: d.source,
    deal_id: d.deal_id,
    version: d.version,
    changed_at: d.created_at,
    received_at: d.received_at ?? d.created_at,
    created_at: d.created_at,
    closed_at: d.closed_at ?? '1970-01-01 00:00:00',
    name: `deal ${d.deal_id}`,
    pipeline_id: '1',
    status_id: '1',
    stage: d.stage ?? '',
    stage_index: d.stage_index ?? -1,
    outcome: d.outcome,
    stages_passed: d.stages_passed ?? [],
    lost_from_stage: d.lost_from_stage ?? '',
    amount_minor: d.amount_minor,
    currency: 'RUB',
    deleted: d.deleted ?? 0,
    contact_ids: d.contact_ids ?? [],
    visitor_id: d.visitor_id ?? '',
    ga_cid: d.ga_cid ?? '',
    ym_uid: d.ym_uid ?? '',
    utm_source: '',
    utm_medium: '',
    utm_campaign: '',
    utm_term: '',
    utm_content: '',
    email_hashes: d.email_hashes ?? [],
    phone_hashes: d.phone_hashes ?? [],
    field_names: [],
    field_values: [],
  };
}

export async function insertDeals(client: ClickHouseClient, deals: DealVersion[]): Promise<void> {
  await client.insert({ table: 'deals', values: deals.map(dealRow), format: 'JSONEachRow' });
}

export type Link = [kindA: string, idA: string, kindB: string, idB: string, evidence: string];

export async function insertLinks(client: ClickHouseClient, links: Link[]): Promise<void> {
  await client.insert({
    table: 'identity_links',
    values: links.map(([kind_a, id_a, kind_b, id_b, evidence]) => ({ kind_a, id_a, kind_b, id_b, evidence, linked_at: '2026-03-01 00:00:00' })),
    format: 'JSONEachRow',
  });
}

/**
 * A CRM configuration file with this funnel and no sources, for a collector's
 * CRM_CONFIG: the collector writes its funnel at start (over one inserted before
 * it), so a collector's funnel is given this way. The file is in a temporary
 * directory of its own.
 */
export function funnelConfigFile(stages: string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tl-funnel-')), 'crm.json');
  writeFileSync(file, JSON.stringify({ funnel: stages.map((stage) => ({ stage })) }));
  return file;
}

export async function insertFunnel(client: ClickHouseClient, stages: string[], version = 1): Promise<void> {
  await client.insert({
    table: 'funnel_stages',
    values: stages.map((stage, stage_index) => ({ stage, stage_index, marker: '', version })),
    format: 'JSONEachRow',
  });
}
