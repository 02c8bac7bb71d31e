// Point 3 at every door: a malformed CRM record is refused with its reason in a
// 200 reply, and the good records of the same delivery are stored. The doors are
// amoCRM webhooks, amoCRM API reads, Zoho Notifications API reads, Zoho workflow
// webhooks, JSON import and CSV import; the vendor APIs are a local stand-in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../../helpers/collector.js';
import { startStandIn, type StandIn } from '../crm-standin.js';

const AMO_SECRET = 'amo_attack_0123456789abcdef';
const ZOHO_SECRET = 'zoho_attack_0123456789abcdef';
const SHOP_SECRET = 'shop_attack_0123456789abcdef';
const ZOHO_TOKEN = 'zoho-channel-token-0123456789';
const ACCOUNT: [string, string][] = [['account[id]', '17769199']];
const LONE = '\ud800';

const now = () => Math.floor(Date.now() / 1000);
const YEAR = 365 * 86_400;

type Reply = { stored: number; deals: number; refused: { record: string; reason: string }[]; warnings: { record: string; reason: string }[] };

describe('point 3: a malformed CRM record is refused alone, at every door', () => {
  let db: TestDatabase;
  let api: StandIn;
  let collector: RunningCollector;
  let dir: string;
  const amoLeads = new Map<string, unknown>();
  const zohoDeals = new Map<string, unknown>();

  const stored = (source: string) =>
    db.rows<{ deal_id: string }>(`SELECT deal_id FROM deals_current WHERE source = '${source}' ORDER BY deal_id`).then((r) => r.map((x) => x.deal_id));
  const post = async (path: string, body: string, type: string): Promise<{ status: number; body: Reply }> => {
    const res = await fetch(`${collector.url}${path}`, { method: 'POST', body, headers: { 'Content-Type': type } });
    return { status: res.status, body: (await res.json()) as Reply };
  };
  const reasons = (r: Reply) => Object.fromEntries(r.refused.map((x) => [x.record, x.reason]));

  beforeAll(async () => {
    db = await freshDatabase();
    api = await startStandIn((r) => {
      if (r.method === 'POST' && r.path === '/oauth/v2/token') return { status: 200, json: { access_token: 'z1', api_domain: api.url, expires_in: 3600 } };
      const amo = /^\/api\/v4\/leads\/(\d+)\?with=contacts$/.exec(r.path);
      if (amo) return amoLeads.has(amo[1]!) ? { status: 200, json: amoLeads.get(amo[1]!) } : { status: 204 };
      if (r.path === '/crm/v7/settings/fields?module=Deals') {
        return { status: 200, json: { fields: [{ api_name: 'Stage', pick_list_values: [{ actual_value: 'Qualification', display_value: 'Qualification', forecast_type: 'Open' }] }] } };
      }
      const zoho = /^\/crm\/v7\/Deals\/(\d+)$/.exec(r.path);
      if (zoho) return zohoDeals.has(zoho[1]!) ? { status: 200, json: { data: [zohoDeals.get(zoho[1]!)] } } : { status: 204 };
      return { status: 404, json: {} };
    });
    dir = await mkdtemp(join(tmpdir(), 'tl-attack-crm-'));
    const common = { pipelines: { '*': { '100': 'New', '142': 'Won', Qualification: 'New' } } };
    await writeFile(
      join(dir, 'crm.json'),
      JSON.stringify({
        funnel: [{ stage: 'New' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }],
        sources: {
          amo: {
            kind: 'amocrm',
            secret: AMO_SECRET,
            account: { id: '17769199' },
            api: { baseUrl: api.url, clientId: 'c', clientSecret: 's', redirectUri: 'https://collector.example/crm/amocrm/amo/oauth', accessToken: 'amo-token' },
            ...common,
          },
          zoho: {
            kind: 'zoho',
            secret: ZOHO_SECRET,
            notificationToken: ZOHO_TOKEN,
            api: { accountsUrl: api.url, apiDomain: api.url, clientId: 'c', clientSecret: 's', refreshToken: 'r' },
            ...common,
          },
          shop: { kind: 'import', secret: SHOP_SECRET, ...common },
        },
      }),
    );
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), REDIS_PREFIX: `t_${db.name}:` });
  });
  afterAll(async () => {
    await collector?.stop();
    await api?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('3. an amoCRM webhook: a lead with a time far ahead, a control character in its status, no id or an absurd price is refused; the rest are stored', async () => {
    const lead = (action: string, i: number, fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => [`leads[${action}][${i}][${k}]`, v] as [string, string]);
    const base = { status_id: '100', pipeline_id: '9', name: 'Deal', price: '1500', date_create: String(now() - 86_400) };
    const body = new URLSearchParams([
      ...lead('add', 0, { ...base, id: '1001', last_modified: String(now() - 60) }),
      ...lead('add', 1, { ...base, id: '1002', last_modified: String(now() + 300 * YEAR) }),
      ...lead('add', 2, { ...base, name: 'no id', last_modified: String(now()) }),
      ...lead('status', 0, { ...base, id: '1003', status_id: '142\n', last_modified: String(now()) }),
      ...lead('update', 0, { ...base, id: '1004', price: '1e400', last_modified: String(now()) }),
      ...lead('update', 1, { ...base, id: '1005', last_modified: String(now() - 30), date_create: '-86400' }),
      ...lead('update', 2, { ...base, id: '1006', last_modified: String(now() - 20) }),
      ['contacts[add][0][id]', '77'],
      ['contacts[add][0][linked_leads_id][1001]', '1001'],
      ...ACCOUNT,
    ]).toString();
    const r = await post(`/crm/amocrm/amo/${AMO_SECRET}`, body, 'application/x-www-form-urlencoded');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 3, deals: 2, contacts: 1 });
    expect(reasons(r.body)).toEqual({
      '1002': expect.stringMatching(/more than a day ahead/),
      'leads[add][2]': expect.stringMatching(/no numeric id/),
      '1003': expect.stringMatching(/status.*control character/),
      '1004': expect.stringMatching(/amount/),
      '1005': expect.stringMatching(/before 1970/),
    });
    expect(await stored('amo')).toEqual(['1001', '1006']);
  });

  it('3. amoCRM API reads: a lead read back with a time far ahead or a negative price is refused, a broken field is dropped with a warning; the rest are stored', async () => {
    const lead = (id: number, over: Record<string, unknown> = {}) => ({ id, name: `Deal ${id}`, price: 100, status_id: 100, pipeline_id: 9, created_at: now() - 86_400, updated_at: now() - 60, ...over });
    amoLeads.set('2001', lead(2001));
    amoLeads.set('2002', lead(2002, { updated_at: now() + 10 * YEAR }));
    amoLeads.set('2003', lead(2003, { price: -5 }));
    amoLeads.set('2004', lead(2004, { custom_fields_values: [{ field_id: 1, field_name: 'Comment', values: 'not a list' }, { field_id: 2, field_name: 'Note', values: [{ value: `half ${LONE}` }] }] }));
    const body = new URLSearchParams([...['2001', '2002', '2003', '2004'].map((id, i) => [`leads[delete][${i}][id]`, id] as [string, string]), ...ACCOUNT]).toString();
    const r = await post(`/crm/amocrm/amo/${AMO_SECRET}`, body, 'application/x-www-form-urlencoded');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 2, deals: 2 });
    expect(reasons(r.body)).toEqual({ '2002': expect.stringMatching(/more than a day ahead/), '2003': expect.stringMatching(/amount.*below zero/) });
    expect(r.body.warnings).toEqual([{ record: '2004', reason: expect.stringMatching(/Note.*not well-formed/) }]);
    expect((await stored('amo')).filter((id) => id.startsWith('2'))).toEqual(['2001', '2004']);
  });

  it('3. Zoho notifications: a record read back with a lone surrogate in its stage or a time centuries ahead, or an id that is not one, is refused; the rest are stored', async () => {
    const rec = (id: string, over: Record<string, unknown> = {}) => ({ id, Deal_Name: `Deal ${id}`, Stage: 'Qualification', Amount: 10, Modified_Time: new Date((now() - 60) * 1000).toISOString(), ...over });
    zohoDeals.set('3001', rec('3001'));
    zohoDeals.set('3002', rec('3002', { Stage: `Qualif${LONE}` }));
    zohoDeals.set('3003', rec('3003', { Modified_Time: '2300-01-01T00:00:00+00:00' }));
    zohoDeals.set('3004', rec('3004', { Amount: 'lots' }));
    zohoDeals.set('3005', rec('3005'));
    const r = await post(
      '/crm/zoho/zoho/notify',
      JSON.stringify({ ids: ['3001', '3002', '3003', '3004', '30x5', '3005'], operation: 'update', module: 'Deals', token: ZOHO_TOKEN, channel_id: '1' }),
      'application/json',
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 2, deals: 2 });
    expect(reasons(r.body)).toEqual({
      '3002': expect.stringMatching(/status.*not well-formed/),
      '3003': expect.stringMatching(/more than a day ahead/),
      '3004': expect.stringMatching(/amount/),
      'ids[4]': expect.stringMatching(/not a record id/),
    });
    expect(await stored('zoho')).toEqual(['3001', '3005']);
  });

  it('3. a Zoho workflow webhook: records that are not objects, have no id, a control character in the id or a time ahead are refused; the rest are stored', async () => {
    const rec = (id: string, over: Record<string, unknown> = {}) => ({ id, Deal_Name: `Deal ${id}`, Stage: 'Qualification', Amount: 10, Modified_Time: new Date((now() - 60) * 1000).toISOString(), ...over });
    const data = [rec('4001'), 5, { Stage: 'Qualification' }, rec('4002\u0000'), rec('4003', { Created_Time: new Date((now() + 3 * 86_400) * 1000).toISOString() }), rec('4004', { Deal_Name: `Broken ${LONE}` }), rec('4005')];
    const r = await post(`/crm/zoho/zoho/${ZOHO_SECRET}`, JSON.stringify({ data }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 3, deals: 3 });
    expect(reasons(r.body)).toEqual({
      'data[1]': expect.stringMatching(/not an object/),
      'data[2]': expect.stringMatching(/no numeric id/),
      'data[3]': expect.stringMatching(/no numeric id/),
      '4003': expect.stringMatching(/created.*more than a day ahead/),
    });
    expect(r.body.warnings).toEqual([{ record: '4004', reason: expect.stringMatching(/name.*not well-formed/) }]);
    expect(await stored('zoho')).toEqual(['3001', '3005', '4001', '4004', '4005']);
  });

  it('3. a JSON import: a deal with a time ahead, a lone surrogate in its id, no status, an amount beyond the column or a date before 1970 is refused; the rest are stored', async () => {
    const deal = (id: unknown, over: Record<string, unknown> = {}) => ({ id, status: '100', amount: '10.50', updated_at: now() - 60, ...over });
    const deals = [
      deal('E-1'),
      deal('E-2', { updated_at: new Date((now() + 2 * 86_400) * 1000).toISOString() }),
      deal(`E-3${LONE}`),
      deal('E-4', { status: undefined }),
      deal('E-5', { amount: '1e30' }),
      deal('E-6', { amount: '99999999999999999999' }),
      deal('E-7', { created_at: '1960-01-01T00:00:00Z' }),
      deal('E-8', { fields: { visitor_id: `AB${LONE}CD` } }),
      deal('E-9'),
    ];
    const r = await post(`/crm/import/shop/${SHOP_SECRET}/deals`, JSON.stringify({ deals }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 3, deals: 3 });
    expect(reasons(r.body)).toEqual({
      'E-2': expect.stringMatching(/more than a day ahead/),
      'deals[2]': expect.stringMatching(/id.*not well-formed/),
      'E-4': expect.stringMatching(/status/),
      'E-5': expect.stringMatching(/amount/),
      'E-6': expect.stringMatching(/amount/),
      'E-7': expect.stringMatching(/before 1970/),
    });
    expect(r.body.warnings).toEqual([{ record: 'E-8', reason: expect.stringMatching(/visitor_id.*not well-formed/) }]);
    expect((await stored('shop')).filter((id) => id.startsWith('E'))).toEqual(['E-1', 'E-8', 'E-9']);
  });

  it('3. a won deal whose closing date a person set ahead is kept: closed at the time of the change, with a warning', async () => {
    const changed = now() - 60;
    const deals = [{ id: 'W-1', status: '142', amount: '99.90', updated_at: changed, closed_at: new Date((now() + 365 * 86_400) * 1000).toISOString() }];
    const r = await post(`/crm/import/shop/${SHOP_SECRET}/deals`, JSON.stringify({ deals }), 'application/json');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 1, refused: [] });
    expect(r.body.warnings).toEqual([{ record: 'W-1', reason: expect.stringMatching(/closed at.*ahead.*time of the change/) }]);
    const [row] = await db.rows<{ outcome: string; closed: string }>(`SELECT outcome, toString(toUnixTimestamp(closed_at)) AS closed FROM deals_current WHERE source = 'shop' AND deal_id = 'W-1'`);
    expect(row).toEqual({ outcome: 'won', closed: String(changed) });
  });

  it('3. a CSV import: a row with a time ahead, an unreadable time or a negative amount is refused by its line; the rest are stored', async () => {
    const csv = [
      'id,status,amount,updated_at',
      `C-1,100,10,${now() - 60}`,
      `C-2,100,10,2999-01-01T00:00:00Z`,
      `C-3,100,10,yesterday`,
      `C-4,100,-10,${now() - 60}`,
      `,100,10,${now() - 60}`,
      `C-5,100,10,${now() - 60}`,
    ].join('\n');
    const r = await post(`/crm/import/shop/${SHOP_SECRET}/deals.csv`, csv, 'text/csv');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stored: 2, deals: 2 });
    expect(reasons(r.body)).toEqual({
      'C-2': expect.stringMatching(/more than a day ahead/),
      'C-3': expect.stringMatching(/updated_at/),
      'C-4': expect.stringMatching(/amount.*below zero/),
      'line 6': expect.stringMatching(/id/),
    });
    expect((await stored('shop')).filter((id) => id.startsWith('C'))).toEqual(['C-1', 'C-5']);
  });
});
