// A hand-built scenario for the report tests: five people with known journeys,
// seven deals (won, lost, returned, unattributed, deleted, out of period) and
// costs. Visits go through the real collector's POST /hit; deals and links are
// written as the CRM side writes them (crm-fixtures.ts). The expected figures of
// each model are worked out by hand in the tests that use it.
import { randomBytes } from 'node:crypto';
import { hashEmail, hashPhone } from '../../collector/src/identity/hash.js';
import type { ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { eventually, type TestDatabase } from './clickhouse.js';
import { funnelConfigFile, insertDeals, insertLinks } from './crm-fixtures.js';

export const IDENTITY_KEY = 'report-scenario-identity-key';
export const TOKEN = 'report-token-0123456789abcdef';
/**
 * The scenario's visits are months old and a visitor's come minutes apart on the
 * server's clock: the collector that loads them takes old client times and has
 * no server-side visit throttle (the tracker's own 10-minute rule is tested in
 * the browser tests).
 */
export const SCENARIO_COLLECTOR_ENV = { HIT_MAX_AGE_DAYS: '3650', VISIT_THROTTLE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '0' };

const at = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);

type Visit = { v: string; t: string; u: string; r?: string; g?: string; y?: string; k?: 'visit' | 'lead' };

export const VISITS: Visit[] = [
  // A: display long ago (outside the 90-day window), paid search, then twice direct; deal D1 at the last visit.
  { v: 'AAAAAA', t: '2025-12-01 10:00:00', u: 'https://shop.example/?utm_source=yandex&utm_medium=cpm&utm_campaign=banner' },
  { v: 'AAAAAA', t: '2026-03-01 10:00:00', u: 'https://shop.example/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand&yclid=77' },
  { v: 'AAAAAA', t: '2026-03-08 10:00:00', u: 'https://shop.example/' },
  { v: 'AAAAAA', t: '2026-03-15 10:00:00', u: 'https://shop.example/price' },
  // B: organic search, then a VK post; writes an e-mail (mailto id links B to the address); deal D2.
  { v: 'BBBBBB', t: '2026-03-05 12:00:00', u: 'https://shop.example/blog', r: 'https://www.google.com/' },
  { v: 'BBBBBB', t: '2026-03-12 12:00:00', u: 'https://shop.example/', r: 'https://vk.com/wall-1' },
  // C: a blog link, then a paid VK ad, then a form with a phone; deal D3 in the CRM by that phone.
  { v: 'CCCCCC', t: '2026-03-16 09:00:00', u: 'https://shop.example/', r: 'https://blog.example.org/post' },
  { v: 'CCCCCC', t: '2026-03-18 12:00:00', u: 'https://shop.example/?utm_source=vk&utm_medium=cpc&utm_campaign=spring' },
  { v: 'CCCCCC', t: '2026-03-18 12:05:00', u: 'https://shop.example/contact', k: 'lead' },
  // D on two devices: a newsletter on the laptop (GA id), direct on the phone (Metrika id); deal D4 knows both ids.
  { v: 'DDDDD3', t: '2026-03-20 10:00:00', u: 'https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=march', g: '111.222' },
  { v: 'DDDDD4', t: '2026-03-21 10:00:00', u: 'https://shop.example/', y: '333444' },
  // F: organic search and a form, no deal: a lead on its own.
  { v: 'FFFFFF', t: '2026-03-25 10:00:00', u: 'https://shop.example/', r: 'https://yandex.ru/search/?text=shop' },
  { v: 'FFFFFF', t: '2026-03-25 10:03:00', u: 'https://shop.example/contact', k: 'lead' },
];

const FULL = ['lead', 'qualified', 'proposal', 'won'];

/** The scenario's funnel, as the collector's CRM configuration (CRM_CONFIG). */
export const scenarioFunnel = (): Record<string, string> => ({ CRM_CONFIG: funnelConfigFile(FULL) });

/**
 * The scenario's deals and links, written straight into the database before the
 * collector starts (on the embedded engine nothing but the collector writes
 * while it runs); its funnel comes with the collector (scenarioFunnel).
 */
export async function loadScenarioCrm(client: ClickHouseClient): Promise<void> {
  const email = hashEmail('Buyer@Example.com', IDENTITY_KEY)!;
  const phoneForm = hashPhone('+7 999 123-45-67', IDENTITY_KEY)!;
  const phoneCrm = hashPhone('8 (999) 123-45-67', IDENTITY_KEY)!;
  await insertDeals(client, [
    // D1: opened at 60 000.00, won at 70 000.00 (the newer version counts).
    { source: 'amo', deal_id: '101', version: 1, created_at: '2026-03-15 10:00:00', outcome: 'open', amount_minor: 6_000_000, stages_passed: ['lead'] },
    { source: 'amo', deal_id: '101', version: 2, created_at: '2026-03-15 10:00:00', outcome: 'won', amount_minor: 7_000_000, stages_passed: FULL },
    { source: 'amo', deal_id: '102', version: 1, created_at: '2026-03-12 12:00:00', outcome: 'won', amount_minor: 3_000_001, stages_passed: FULL, email_hashes: [email] },
    { source: 'zoho', deal_id: '201', version: 1, created_at: '2026-03-18 13:00:00', outcome: 'lost', amount_minor: 5_000_000, stages_passed: ['lead', 'qualified'], lost_from_stage: 'qualified', phone_hashes: [phoneCrm] },
    { source: 'amo', deal_id: '103', version: 1, created_at: '2026-03-21 11:00:00', outcome: 'returned', amount_minor: 1_000_000, stages_passed: FULL, ga_cid: '111.222', ym_uid: '333444' },
    { source: 'amo', deal_id: '104', version: 1, created_at: '2026-03-22 09:00:00', outcome: 'won', amount_minor: 500_000, stages_passed: FULL },
    // Deleted in the CRM: gone from every report.
    { source: 'amo', deal_id: '105', version: 1, created_at: '2026-03-10 10:00:00', outcome: 'won', amount_minor: 9_999_900, visitor_id: 'AAAAAA' },
    { source: 'amo', deal_id: '105', version: 2, created_at: '2026-03-10 10:00:00', outcome: 'won', amount_minor: 9_999_900, visitor_id: 'AAAAAA', deleted: 1 },
    // Created in February: outside a March report.
    { source: 'amo', deal_id: '106', version: 1, created_at: '2026-02-20 10:00:00', outcome: 'won', amount_minor: 1_000_000, visitor_id: 'BBBBBB' },
  ]);
  await insertLinks(client, [
    ['deal', 'amo:101', 'visitor', 'AAAAAA', 'crm'],
    ['visitor', 'BBBBBB', 'email', email, 'inbound_email'],
    ['visitor', 'cccccc', 'phone', phoneForm, 'form'],
  ]);
}

/** The scenario's visits, sent to the running collector as the tracker would; returns once all are stored. */
export async function loadScenarioVisits(collectorUrl: string, db: TestDatabase): Promise<void> {
  for (const x of VISITS) {
    const body = JSON.stringify({ s: 'shop', k: x.k ?? 'visit', e: randomBytes(8).toString('hex'), t: at(x.t), u: x.u, r: x.r ?? '', g: x.g ?? '', y: x.y ?? '', v: x.v });
    const res = await fetch(`${collectorUrl}/hit`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
    if (res.status !== 204) throw new Error(`hit refused: ${res.status} ${await res.text()}`);
  }
  await eventually(() => db.rows<{ n: string }>('SELECT count() AS n FROM hits'), 10_000, (r) => Number(r[0]?.n) === VISITS.length);
}

export const COSTS_CSV = `date,source,medium,campaign,cost
2026-03-01,yandex,cpc,brand,1500.00
2026-03-02,Yandex,CPC,brand,1500
2026-03-18,vk,cpc,spring,400.00
2026-02-15,yandex,cpc,brand,999.99
`;

/** Replaces the VK cost of 2026-03-18 (400.00 -> 500.50). */
export const COSTS_JSON = JSON.stringify([{ date: '2026-03-18', source: 'vk', medium: 'cpc', campaign: 'spring', cost: 500.5 }]);
