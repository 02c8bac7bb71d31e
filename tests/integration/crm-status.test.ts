// What could not be used of a CRM delivery is said, never stored in silence:
// a status that maps to no stage, a visitor id that is none even as typed
// (crm-visitor-code.test.ts), a malformed Metrika / GA id, a deal
// with no id at all to attribute it by. Each is named in the delivery's reply,
// counted in a metric and listed by the admin GET /crm/status (with the last
// deliveries); the configuration check warns about statuses seen in deliveries
// and still missing from the mapping. Real amoCRM and import bodies through the
// built collector, the real ClickHouse and Redis.
import { describe, expect, it } from 'vitest';
import { ALPHABET } from '../../contract/ids.js';
import { amoLeadPairs, amoWebhookBody } from '../helpers/amocrm-webhook.js';
import { crmCollectorPerFile } from '../helpers/collector-per-file.js';
import { readMetrics } from '../helpers/metrics-text.js';

const AMO_SECRET = 'amo_status_secret_0123456789';
const IMPORT_SECRET = 'import_status_secret_0123456789';
const ADMIN = 'admin-status-token-0123456789';
const PIPELINE = '9217056';
const FUNNEL = [{ stage: '1 Request' }, { stage: '2 Qualified' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }];
const CONFIG = {
  funnel: FUNNEL,
  sources: {
    amo: {
      kind: 'amocrm',
      secret: AMO_SECRET,
      account: { id: '17769199', subdomain: 'apfitness' },
      pipelines: { [PIPELINE]: { '20067736': '1 Request', '20067739': '2 Qualified', '142': 'Won', '143': 'Lost' } },
      identityFields: { visitor_id: ['VISITOR_ID'], ym_uid: ['YM_UID'] },
    },
    shop: { kind: 'import', secret: IMPORT_SECRET, pipelines: { shop: { new: '1 Request', paid: 'Won' } } },
  },
};

type Unusable = { record: string; reason: string; detail: string; pipeline?: string; status?: string };
type Reply = { stored: number; refused: { record: string; reason: string }[]; unusable: Unusable[] };

/** A lead of an amoCRM webhook (helpers/amocrm-webhook.ts), its status changed from stage 1. */
const lead = (action: string, i: number, id: string, status: string, fields: [string, string, string][]) =>
  amoLeadPairs(action, i, { id, status, pipeline: PIPELINE, oldStatus: '20067736', fields });

describe('what could not be used of a CRM delivery', () => {
  const f = crmCollectorPerFile(CONFIG, () => ({ CRM_ADMIN_TOKEN: ADMIN, IDENTITY_KEY: 'test-identity-key-0123456789' }));
  const auth = { Authorization: `Bearer ${ADMIN}` };

  const amo = (...leads: [string, string][][]) =>
    fetch(`${f.c.url}/crm/amocrm/amo/${AMO_SECRET}`, {
      method: 'POST',
      body: amoWebhookBody(CONFIG.sources.amo.account, ...leads),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
  const status = async () => {
    const res = await fetch(`${f.c.url}/crm/status`, { headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      unusable: Record<string, Record<string, number>>;
      unmapped_statuses: { source: string; pipeline: string; status: string; seen: number }[];
      config_warnings: string[];
      deliveries: { source: string; door: string; stored: number; unusable: Unusable[]; refused: unknown[] }[];
    };
  };

  it('names each record whose status maps to no stage, whose ids are malformed or which has no id at all, and stores the rest as before', async () => {
    const res = await amo(
      lead('status', 0, '7001', '20067799', [['501', 'VISITOR_ID', 'HK7M9P']]), // a status the mapping does not know
      lead('status', 1, '7002', '20067739', [['501', 'VISITOR_ID', 'ab12cd!'], ['503', 'YM_UID', 'not-a-metrika-id']]), // malformed ids, nothing else
      lead('status', 2, '7003', '20067739', []), // no id at all
      lead('status', 3, '7004', '20067739', [['501', 'VISITOR_ID', 'XY45ZQ']]), // usable
    );
    expect(res.status).toBe(200);
    const reply = (await res.json()) as Reply;
    expect(reply.stored).toBe(4);
    expect(reply.unusable).toEqual([
      { record: '7001', reason: 'unmapped_status', detail: `status "20067799" of pipeline "${PIPELINE}" maps to no funnel stage; stored with stage ""`, pipeline: PIPELINE, status: '20067799' },
      { record: '7002', reason: 'visitor_id_invalid', detail: `visitor_id "ab12cd!" is not a visitor id (6 of ${ALPHABET}, spaces and dashes aside); dropped` },
      { record: '7002', reason: 'malformed_id', detail: 'ym_uid "not-a-metrika-id" is not a Metrika id; dropped' },
      { record: '7002', reason: 'no_identity', detail: 'no visitor, GA or Metrika id, e-mail, phone or contact: the deal cannot be attributed' },
      { record: '7003', reason: 'no_identity', detail: 'no visitor, GA or Metrika id, e-mail, phone or contact: the deal cannot be attributed' },
    ]);
    const rows = await f.db.rows<{ deal_id: string; stage: string }>(`SELECT deal_id, stage FROM deals_current WHERE source = 'amo' ORDER BY deal_id`);
    expect(rows).toEqual([
      { deal_id: '7001', stage: '' },
      { deal_id: '7002', stage: '2 Qualified' },
      { deal_id: '7003', stage: '2 Qualified' },
      { deal_id: '7004', stage: '2 Qualified' },
    ]);

    const csv = 'id,status,updated_at,pipeline,amount,email\nA-1,paid,2024-06-02T09:00:00Z,shop,100.00,\nA-2,paid,2024-06-02T09:00:00Z,shop,200.00,buyer@example.com\n';
    const imported = await fetch(`${f.c.url}/crm/import/shop/${IMPORT_SECRET}/deals.csv`, { method: 'POST', body: csv, headers: { 'Content-Type': 'text/csv' } });
    expect(imported.status).toBe(200);
    expect(((await imported.json()) as Reply).unusable).toEqual([
      { record: 'A-1', reason: 'no_identity', detail: 'no visitor, GA or Metrika id, e-mail, phone or contact: the deal cannot be attributed' },
    ]);
  });

  it('counts them in a metric, by source and reason', async () => {
    const m = await readMetrics(f.c.url);
    expect(m.get('throughline_crm_records_unusable_total{source="amo",reason="unmapped_status"}')).toBe(1);
    expect(m.get('throughline_crm_records_unusable_total{source="amo",reason="visitor_id_invalid"}')).toBe(1);
    expect(m.get('throughline_crm_records_unusable_total{source="amo",reason="malformed_id"}')).toBe(1);
    expect(m.get('throughline_crm_records_unusable_total{source="amo",reason="no_identity"}')).toBe(2);
    expect(m.get('throughline_crm_records_unusable_total{source="shop",reason="no_identity"}')).toBe(1);
  });

  it('lists them with the last deliveries at the admin GET /crm/status', async () => {
    expect((await fetch(`${f.c.url}/crm/status`)).status).toBe(401);
    expect((await fetch(`${f.c.url}/crm/status`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const s = await status();
    expect(s.unusable).toEqual({ amo: { unmapped_status: 1, visitor_id_invalid: 1, malformed_id: 1, no_identity: 2 }, shop: { no_identity: 1 } });
    expect(s.unmapped_statuses).toMatchObject([{ source: 'amo', pipeline: PIPELINE, status: '20067799', seen: 1 }]);
    expect(s.deliveries.map((d) => [d.source, d.door, d.stored, d.unusable.length])).toEqual([
      ['shop', 'import', 2, 1],
      ['amo', 'amocrm', 4, 5],
    ]);
  });

  it('warns, at PUT /crm/config and in the status, of a status seen in deliveries that the mapping still leaves out', async () => {
    const put = (config: unknown) => fetch(`${f.c.url}/crm/config`, { method: 'PUT', body: JSON.stringify(config), headers: auth });
    const warning = `sources.amo.pipelines.${PIPELINE}: status "20067799" was seen in 1 delivered record and maps to no funnel stage`;
    expect((await status()).config_warnings).toEqual([warning]);
    const same = await put(CONFIG);
    expect(same.status).toBe(200);
    expect(same.headers.get('warning')).toContain('1 status seen in deliveries maps to no funnel stage');
    const mapped = structuredClone(CONFIG);
    (mapped.sources.amo.pipelines[PIPELINE] as Record<string, string>)['20067799'] = '2 Qualified';
    const fixed = await put(mapped);
    expect(fixed.status).toBe(200);
    expect(fixed.headers.get('warning')).toBeNull();
    expect((await status()).config_warnings).toEqual([]);
  });
});
