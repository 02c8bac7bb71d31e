// The visitor id as a promo code for phone sales (issue #15, point 6): a caller
// reads out the id the site shows, a manager types it into the CRM's visitor-id
// field as it comes (`ab 23-cd`, en/em dashes, lower case), and the deal joins
// that visitor's visits in the report. A code that is no id (`AB23C0`: there is
// no 0 in the alphabet) is named, not dropped in silence: reason
// `visitor_id_invalid` in the delivery's reply, the metric and GET /crm/status,
// while the deal is stored with its other ids. Through every door a manager's
// typing reaches: the amoCRM webhook (form-encoded custom fields), a Zoho
// workflow webhook, the CSV and JSON import. The built collector, the real
// ClickHouse and Redis.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALPHABET } from '../../contract/ids.js';
import { amoLeadPairs, amoWebhookBody } from '../helpers/amocrm-webhook.js';
import { eventually } from '../helpers/clickhouse.js';
import { crmCollectorPerFile } from '../helpers/collector-per-file.js';
import { readMetrics } from '../helpers/metrics-text.js';
import { SCENARIO_COLLECTOR_ENV } from '../helpers/report-scenario.js';

const AMO_SECRET = 'amo_code_secret_0123456789';
const ZOHO_SECRET = 'zoho_code_secret_0123456789';
const IMPORT_SECRET = 'import_code_secret_0123456789';
const ADMIN = 'admin-code-token-0123456789';
const REPORTS = 'reports-code-token-0123456789';
const PIPELINE = '9217056';
const OPEN = '20067739';
const WON = '142';
const DAY = 86_400_000;
const now = Date.now();
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const seconds = (ms: number) => String(Math.floor(ms / 1000));

const CONFIG = {
  funnel: [{ stage: 'Request' }, { stage: 'Qualified' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }],
  sources: {
    // The owner added a "Promo code" field to the deal card for phone sales; the form's tl_vid is read after it.
    amo: {
      kind: 'amocrm',
      secret: AMO_SECRET,
      account: { id: '17769199', subdomain: 'apfitness' },
      pipelines: { [PIPELINE]: { '20067736': 'Request', [OPEN]: 'Qualified', [WON]: 'Won', '143': 'Lost' } },
      identityFields: { visitor_id: ['Promo code'] },
    },
    zoho: { kind: 'zoho', secret: ZOHO_SECRET, pipelines: { '*': { Qualification: 'Qualified', 'Closed Won': 'Won' } } },
    shop: { kind: 'import', secret: IMPORT_SECRET, pipelines: { shop: { new: 'Request', paid: 'Won' } } },
  },
};

/** Three callers, each with a visit from a channel of its own. */
const CALLERS = [
  { id: 'AB23CD', url: 'https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=calls', channel: 'paid_search' },
  { id: 'HK7M9P', url: 'https://shop.example/?utm_source=mailchimp&utm_medium=email&utm_campaign=june', channel: 'email' },
  { id: 'QW34RT', url: 'https://shop.example/blog', referrer: 'https://www.google.com/', channel: 'organic_search' },
];

type Unusable = { record: string; reason: string; detail: string };
type Reply = { stored: number; deals: number; refused: unknown[]; unusable: Unusable[] };

const invalid = (record: string, typed: string): Unusable => ({
  record,
  reason: 'visitor_id_invalid',
  detail: `visitor_id ${JSON.stringify(typed)} is not a visitor id (6 of ${ALPHABET}, spaces and dashes aside); dropped`,
});

/** A lead of an amoCRM webhook (helpers/amocrm-webhook.ts) created yesterday, its status changed from the first stage. */
const lead = (i: number, id: string, status: string, price: string, fields: [string, string, string][]) =>
  amoLeadPairs('status', i, { id, status, pipeline: PIPELINE, oldStatus: '20067736', price, name: `Call ${id}`, created: Math.floor((now - DAY) / 1000), fields });

describe('the visitor id typed into the CRM as a promo code', () => {
  const f = crmCollectorPerFile(CONFIG, () => ({
    CRM_ADMIN_TOKEN: ADMIN,
    REPORTS_TOKEN: REPORTS,
    IDENTITY_KEY: 'test-identity-key-0123456789',
    BATCH_MAX_MS: '100',
    ...SCENARIO_COLLECTOR_ENV,
  }));
  const admin = { Authorization: `Bearer ${ADMIN}` };

  const amo = async (...leads: [string, string][][]) => {
    const body = amoWebhookBody(CONFIG.sources.amo.account, ...leads);
    const res = await fetch(`${f.c.url}/crm/amocrm/amo/${AMO_SECRET}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    return (await res.json()) as Reply;
  };
  const zoho = async (rec: Record<string, unknown>) => {
    const res = await fetch(`${f.c.url}/crm/zoho/zoho/${ZOHO_SECRET}`, { method: 'POST', body: JSON.stringify({ data: [rec] }), headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(200);
    return (await res.json()) as Reply;
  };
  const imported = async (path: 'deals' | 'deals.csv', body: string) => {
    const type = path === 'deals' ? 'application/json' : 'text/csv';
    const res = await fetch(`${f.c.url}/crm/import/shop/${IMPORT_SECRET}/${path}`, { method: 'POST', body, headers: { 'Content-Type': type } });
    expect(res.status).toBe(200);
    return (await res.json()) as Reply;
  };
  const current = (source: string, id: string) =>
    f.db.rows<{ visitor_id: string; ga_cid: string; email_hashes: string[] }>(`SELECT visitor_id, ga_cid, email_hashes FROM deals_current WHERE source = '${source}' AND deal_id = '${id}'`).then((r) => r[0]);

  beforeAll(async () => {
    for (const c of CALLERS) {
      const visit = { s: 'shop', k: 'visit', e: randomBytes(8).toString('hex'), t: now - 3 * DAY, u: c.url, r: c.referrer ?? '', g: '', y: '', v: c.id };
      const res = await fetch(`${f.c.url}/hit`, { method: 'POST', body: JSON.stringify(visit), headers: { 'Content-Type': 'text/plain' } });
      expect(res.status).toBe(204);
    }
    await eventually(() => f.db.rows<{ n: string }>('SELECT count() AS n FROM hits'), 10_000, (r) => Number(r[0]?.n) === CALLERS.length);
  });

  it('amoCRM: a code typed `ab 23-cd` into the deal card is the visitor AB23CD', async () => {
    const reply = await amo(lead(0, '8001', WON, '15000', [['701', 'Promo code', 'ab 23-cd']]));
    expect(reply).toMatchObject({ stored: 1, refused: [], unusable: [] });
    expect(await current('amo', '8001')).toMatchObject({ visitor_id: 'AB23CD' });
  });

  it('amoCRM: a code that is no id is named, and the deal kept with its other ids', async () => {
    const reply = await amo(
      lead(0, '8002', OPEN, '900', [['701', 'Promo code', 'AB23C0'], ['702', 'tl_ga', 'GA1.2.908899769.1600020018']]),
      // The form gave the deal its visitor; the manager's mistyped code on top of it is named all the same.
      lead(1, '8003', OPEN, '900', [['701', 'Promo code', 'HK-7M-9O'], ['703', 'tl_vid', 'HK7M9P']]),
    );
    expect(reply).toMatchObject({ stored: 2, refused: [] });
    expect(reply.unusable).toEqual([invalid('8002', 'AB23C0'), invalid('8003', 'HK-7M-9O')]);
    expect(await current('amo', '8002')).toMatchObject({ visitor_id: '', ga_cid: '908899769.1600020018' });
    expect(await current('amo', '8003')).toMatchObject({ visitor_id: 'HK7M9P' });
  });

  it('Zoho: a workflow webhook’s visitor_id `hk 7m–9p` (en dash) is the visitor HK7M9P; `HK7M9O` is named', async () => {
    const deal = (id: string, stage: string, code: string) => ({
      id,
      Deal_Name: `Call ${id}`,
      Stage: stage,
      Amount: 700,
      Pipeline: { name: 'Standard', id: '5725767000000091023' },
      Created_Time: new Date(now - DAY).toISOString(),
      Modified_Time: new Date(now - 60_000).toISOString(),
      Contact_Name: { name: 'Ivan Petrov', id: '5725767000003000001' },
      visitor_id: code,
    });
    expect(await zoho(deal('5725767000003000401', 'Closed Won', 'hk 7m\u20139p'))).toMatchObject({ stored: 1, refused: [], unusable: [] });
    expect(await current('zoho', '5725767000003000401')).toMatchObject({ visitor_id: 'HK7M9P' });
    const bad = await zoho(deal('5725767000003000402', 'Qualification', 'HK7M9O'));
    expect(bad).toMatchObject({ stored: 1, refused: [] });
    expect(bad.unusable).toEqual([invalid('5725767000003000402', 'HK7M9O')]);
  });

  it('import: a CSV column typed with en and em dashes is read; a JSON deal’s broken code is named in the reply', async () => {
    const csv = `id,status,updated_at,pipeline,amount,tl_vid\nS-1,paid,${new Date(now - DAY).toISOString()},shop,100.00,qw\u201334\u2014rt\n`;
    expect(await imported('deals.csv', csv)).toMatchObject({ stored: 1, refused: [], unusable: [] });
    expect(await current('shop', 'S-1')).toMatchObject({ visitor_id: 'QW34RT' });
    const json = { deals: [{ id: 'S-2', status: 'new', pipeline: 'shop', updated_at: seconds(now - DAY), emails: ['buyer@example.com'], fields: { tl_vid: 'QW34R' } }] };
    const reply = await imported('deals', JSON.stringify(json));
    expect(reply).toMatchObject({ stored: 1, refused: [] });
    expect(reply.unusable).toEqual([invalid('S-2', 'QW34R')]);
    expect((await current('shop', 'S-2'))?.email_hashes).toHaveLength(1);
  });

  it('joins each code’s deal to its visitor’s visit in the report', async () => {
    const res = await fetch(`${f.c.url}/api/reports/channels?from=${date(now - 10 * DAY)}&to=${date(now)}&model=last_non_direct&fresh=1`, {
      headers: { Authorization: `Bearer ${REPORTS}` },
    });
    expect(res.status).toBe(200);
    const rows = ((await res.json()) as { rows: { key: string; won: number; revenue_minor: number }[] }).rows;
    const row = (key: string) => rows.find((r) => r.key === key);
    // AB23CD's amoCRM deal (15 000.00), HK7M9P's Zoho deal (700.00), QW34RT's imported one (100.00).
    expect(CALLERS.map((c) => row(c.channel))).toMatchObject([{ won: 1, revenue_minor: 1_500_000 }, { won: 1, revenue_minor: 70_000 }, { won: 1, revenue_minor: 10_000 }]);
    expect(row('(unattributed)')?.revenue_minor ?? 0).toBe(0);
  });

  it('counts the codes that are no id in the metric and GET /crm/status, under their own reason', async () => {
    const m = await readMetrics(f.c.url);
    const counted = (source: string, reason: string) => m.get(`throughline_crm_records_unusable_total{source="${source}",reason="${reason}"}`);
    // [visitor_id_invalid, malformed_id] per source: each code once, under its own reason only.
    expect(['amo', 'zoho', 'shop'].map((s) => [counted(s, 'visitor_id_invalid'), counted(s, 'malformed_id')])).toEqual([[2, 0], [1, 0], [1, 0]]);
    const res = await fetch(`${f.c.url}/crm/status`, { headers: admin });
    expect(res.status).toBe(200);
    const s = (await res.json()) as { unusable: Record<string, Record<string, number>>; deliveries: { source: string; unusable: Unusable[] }[] };
    expect(s.unusable).toEqual({ amo: { visitor_id_invalid: 2 }, zoho: { visitor_id_invalid: 1 }, shop: { visitor_id_invalid: 1 } });
    expect(s.deliveries.flatMap((d) => d.unusable)).toEqual([invalid('S-2', 'QW34R'), invalid('5725767000003000402', 'HK7M9O'), invalid('8002', 'AB23C0'), invalid('8003', 'HK-7M-9O')]);
  });
});
