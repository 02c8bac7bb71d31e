// Zoho CRM end to end: Notifications API callbacks (token checked, record read
// back through the API), workflow webhooks, channel subscription and renewal,
// OAuth refresh against the accounts server. Zoho's accounts server and CRM API
// are a local stand-in that records every request; the test asserts them exactly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { shape, startStandIn, type StandIn } from './crm-standin.js';
import { EMBEDDED_ENGINE } from '../helpers/env.js';

const SECRET = 'zoho_secret_0123456789abcdef';
const TOKEN = 'zoho-channel-token-0123456789';
const ADMIN = 'admin-token-0123456789';
const FORM = 'application/x-www-form-urlencoded';

const record = (over: Record<string, unknown>) => ({
  id: '5725767000003000064',
  Deal_Name: 'Website redesign',
  Stage: 'Qualification',
  Amount: 1234.5,
  Currency: 'EUR',
  Closing_Date: '2024-06-20',
  Pipeline: { name: 'Standard', id: '5725767000000091023' },
  Created_Time: '2024-06-10T10:00:00+00:00',
  Modified_Time: '2024-06-11T10:00:00+00:00',
  Contact_Name: { name: 'Ivan Petrov', id: '5725767000003000001' },
  visitor_id: 'hk7m9p',
  Lead_Source: 'Web',
  ...over,
});

describe('Zoho CRM into ClickHouse', () => {
  let db: TestDatabase;
  let zoho: StandIn;
  let collector: RunningCollector;
  let dir: string;
  let validToken = 'z1';
  const records = new Map<string, Record<string, unknown>>();
  /** The Stage pick list as Zoho answers it now: an admin may add a stage at any time. */
  const stages = [
    { display_value: 'Qualification', actual_value: 'Qualification', forecast_type: 'Open' },
    { display_value: 'Closed Won', actual_value: 'Closed Won', forecast_type: 'Closed Won' },
    { display_value: 'Paid in full', actual_value: 'Paid in full', forecast_type: 'Closed Won' },
    { display_value: 'Closed Lost', actual_value: 'Closed Lost', forecast_type: 'Closed Lost' },
  ];

  const notify = (body: Record<string, unknown>) =>
    fetch(`${collector.url}/crm/zoho/zoho/notify`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  const current = (id: string) => db.rows<Record<string, unknown>>(`SELECT * FROM deals_current WHERE source = 'zoho' AND deal_id = '${id}'`).then((r) => r[0]);
  const tokenRequest = () => ({
    method: 'POST',
    path: '/oauth/v2/token',
    headers: { 'content-type': FORM },
    body: 'refresh_token=zr0&client_id=zoho-client&client_secret=zoho-client-secret&grant_type=refresh_token',
  });

  beforeAll(async () => {
    db = await freshDatabase();
    zoho = await startStandIn((r) => {
      if (r.method === 'POST' && r.path === '/oauth/v2/token') {
        return { status: 200, json: { access_token: validToken, api_domain: zoho.url, token_type: 'Bearer', expires_in: 3600 } };
      }
      if (r.headers.authorization !== `Zoho-oauthtoken ${validToken}`) return { status: 401, json: { code: 'INVALID_TOKEN', status: 'error' } };
      if (r.method === 'POST' && r.path === '/crm/v7/actions/watch') {
        return { status: 200, json: { watch: [{ code: 'SUCCESS', status: 'success', message: 'Successfully subscribed for actions-watch of the given module', details: {} }] } };
      }
      if (r.method === 'GET' && r.path === '/crm/v7/settings/fields?module=Deals') {
        return {
          status: 200,
          json: {
            fields: [
              { api_name: 'Deal_Name', data_type: 'text' },
              {
                api_name: 'Stage',
                data_type: 'picklist',
                pick_list_values: stages,
              },
            ],
          },
        };
      }
      const m = /^\/crm\/v7\/Deals\/(\d+)$/.exec(r.path);
      const rec = m ? records.get(m[1]!) : undefined;
      return rec ? { status: 200, json: { data: [rec] } } : { status: 204 };
    });
    dir = await mkdtemp(join(tmpdir(), 'tl-zoho-'));
    await writeFile(
      join(dir, 'crm.json'),
      JSON.stringify({
        funnel: [{ stage: 'New' }, { stage: 'Qualified' }, { stage: 'Proposal' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }],
        sources: {
          zoho: {
            kind: 'zoho',
            secret: SECRET,
            currency: 'USD',
            notificationToken: TOKEN,
            api: { accountsUrl: zoho.url, clientId: 'zoho-client', clientSecret: 'zoho-client-secret', refreshToken: 'zr0' },
            watch: { notifyUrl: 'https://collector.example/crm/zoho/zoho/notify', channelId: '1000000068001', renewHours: 12 },
            pipelines: { Standard: { Qualification: 'Qualified', 'Closed Won': 'Won', 'Closed Lost': 'Lost' } },
          },
          // Workflow webhooks only, no API access: forecast types cannot be read.
          hook: { kind: 'zoho', secret: SECRET, pipelines: { '*': { 'Предоплата 100%': 'Won' } } },
        },
      }),
    );
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), CRM_ADMIN_TOKEN: ADMIN, REDIS_PREFIX: `t_${db.name}:` });
  });
  afterAll(async () => {
    await collector?.stop();
    await zoho?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function expectWatch(req: ReturnType<typeof shape>, authorization: string) {
    expect({ ...req, body: '' }).toEqual({ method: 'POST', path: '/crm/v7/actions/watch', headers: { authorization, 'content-type': 'application/json' }, body: '' });
    const body = JSON.parse(req.body) as { watch: Record<string, unknown>[] };
    expect(body).toEqual({
      watch: [
        {
          channel_id: '1000000068001',
          events: ['Deals.all', 'Leads.all'],
          channel_expiry: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/),
          token: TOKEN,
          notify_url: 'https://collector.example/crm/zoho/zoho/notify',
          return_affected_field_values: true,
        },
      ],
    });
    const expiry = Date.parse(String(body.watch[0]!.channel_expiry));
    expect(Math.abs(expiry - (Date.now() + 24 * 3_600_000))).toBeLessThan(120_000);
  }

  it('subscribes the notification channel at start, after getting a token from the accounts server', async () => {
    await eventually(async () => zoho.requests.length >= 2, 10_000, Boolean);
    const [token, watch] = zoho.requests.map((r) => shape(r));
    expect(token).toEqual(tokenRequest());
    expectWatch(watch!, 'Zoho-oauthtoken z1');
    // The stored tokens, where the test can read them (the SQL endpoint, the tests' way into a running
    // embedded collector, never gives them out: sql/guard.ts).
    if (!EMBEDDED_ENGINE) {
      const stored = await db.rows(`SELECT access_token, refresh_token, api_domain FROM crm_oauth_tokens WHERE source = 'zoho'`);
      expect(stored).toEqual([{ access_token: 'z1', refresh_token: 'zr0', api_domain: zoho.url }]);
    }
  });

  it('reads the record back after a verified callback and maps its stage', async () => {
    zoho.requests.length = 0;
    records.set('5725767000003000064', record({}));
    const r = await notify({
      server_time: 1718117126473,
      module: 'Deals',
      resource_uri: `${zoho.url}/crm/v2/Deals`,
      ids: ['5725767000003000064'],
      affected_fields: [],
      operation: 'insert',
      channel_id: '1000000068001',
      token: TOKEN,
    });
    expect(r.status).toBe(200);
    expect(zoho.requests.map((q) => shape(q))).toEqual([
      { method: 'GET', path: '/crm/v7/Deals/5725767000003000064', headers: { authorization: 'Zoho-oauthtoken z1' }, body: '' },
      { method: 'GET', path: '/crm/v7/settings/fields?module=Deals', headers: { authorization: 'Zoho-oauthtoken z1' }, body: '' },
    ]);
    expect(await current('5725767000003000064')).toMatchObject({
      pipeline_id: 'Standard',
      status_id: 'Qualification',
      stage: 'Qualified',
      outcome: 'open',
      amount_minor: '123450',
      currency: 'EUR',
      visitor_id: 'HK7M9P',
      contact_ids: ['5725767000003000001'],
      changed_at: '2024-06-11 10:00:00',
    });
  });

  it('refuses a callback with the wrong token and fetches nothing', async () => {
    zoho.requests.length = 0;
    const r = await notify({ module: 'Deals', ids: ['5725767000003000064'], operation: 'update', channel_id: '1000000068001', token: 'forged-token-0123456789' });
    expect(r.status).toBe(401);
    const junk = await notify({ module: 'Deals', ids: ['drop table'], operation: 'update', token: TOKEN });
    expect(junk.status).toBe(200);
    expect(await junk.json()).toMatchObject({ stored: 0, refused: [{ record: 'ids[0]', reason: 'not a record id' }] });
    expect((await notify({ module: 'Deals', ids: 'drop table', operation: 'update', token: TOKEN })).status).toBe(400);
    expect(zoho.requests).toEqual([]);
  });

  it('uses the Stage forecast type for an unmapped pipeline, refreshing an expired token on the way', async () => {
    zoho.requests.length = 0;
    validToken = 'z2';
    records.set('5725767000003000099', record({ id: '5725767000003000099', Pipeline: { name: 'Partners', id: '9' }, Stage: 'Paid in full', Amount: '990' }));
    const r = await notify({ server_time: 1718117200000, module: 'Deals', ids: ['5725767000003000099'], operation: 'update', channel_id: '1000000068001', token: TOKEN });
    expect(r.status).toBe(200);
    expect(zoho.requests.map((q) => shape(q))).toEqual([
      { method: 'GET', path: '/crm/v7/Deals/5725767000003000099', headers: { authorization: 'Zoho-oauthtoken z1' }, body: '' },
      tokenRequest(),
      { method: 'GET', path: '/crm/v7/Deals/5725767000003000099', headers: { authorization: 'Zoho-oauthtoken z2' }, body: '' },
    ]);
    expect(await current('5725767000003000099')).toMatchObject({
      stage: 'Won',
      outcome: 'won',
      stages_passed: ['New', 'Qualified', 'Proposal', 'Won'],
      amount_minor: '99000',
      closed_at: '2024-06-20 00:00:00',
    });
  });

  it('a delete callback marks the deal deleted with its last known fields; the same callback again changes nothing', async () => {
    zoho.requests.length = 0;
    const del = { server_time: 1718117300000, module: 'Deals', ids: ['5725767000003000064'], operation: 'delete', channel_id: '1000000068001', token: TOKEN };
    expect(await (await notify(del)).json()).toMatchObject({ deals: 1 });
    expect(await current('5725767000003000064')).toMatchObject({ deleted: 1, stage: 'Qualified', amount_minor: '123450', changed_at: '2024-06-11 14:48:20' });
    expect(await (await notify(del)).json()).toMatchObject({ deals: 0, repeated: 1 });
    expect(zoho.requests).toEqual([]);
  });

  it('takes workflow webhooks (JSON and form) authenticated by the URL secret', async () => {
    const post = (body: string, secret = SECRET, type = 'application/json') =>
      fetch(`${collector.url}/crm/zoho/zoho/${secret}`, { method: 'POST', body, headers: { 'Content-Type': type } });
    const lost = await post(JSON.stringify(record({ id: '5725767000003000111', Stage: 'Closed Lost', Modified_Time: '2024-06-12T10:00:00+00:00' })));
    expect(lost.status).toBe(200);
    expect(await current('5725767000003000111')).toMatchObject({ stage: 'Lost', outcome: 'lost', stages_passed: ['Lost'] });

    const form = new URLSearchParams({ id: '5725767000003000112', Deal_Name: 'Form deal', Stage: 'Closed Won', Amount: '10.5', Modified_Time: '2024-06-12T11:00:00+00:00', utm_source: 'google' });
    expect((await post(form.toString(), SECRET, FORM)).status).toBe(200);
    expect(await current('5725767000003000112')).toMatchObject({ stage: 'Won', amount_minor: '1050', currency: 'USD', utm_source: 'google' });

    expect((await post(JSON.stringify(record({})), 'wrong_secret_0123456789abcdef')).status).toBe(401);
    const notDeal = await post(JSON.stringify({ id: '5725767000003000113', Deal_Name: 'x' }));
    expect(notDeal.status).toBe(200);
    expect(await notDeal.json()).toMatchObject({ stored: 0, refused: [{ record: 'data[0]', reason: 'no Stage' }] });
    expect(await current('5725767000003000113')).toBeUndefined();
  });

  it('re-reads the Stage list for a closing stage added in Zoho since, at most once a minute', async () => {
    zoho.requests.length = 0;
    stages.push({ display_value: 'Предоплата 100%', actual_value: 'Предоплата 100%', forecast_type: 'Closed Won' });
    records.set('5725767000003000201', record({ id: '5725767000003000201', Pipeline: { name: 'Partners', id: '9' }, Stage: 'Предоплата 100%', Amount: '700' }));
    const r = await notify({ server_time: 1718117400000, module: 'Deals', ids: ['5725767000003000201'], operation: 'update', channel_id: '1000000068001', token: TOKEN });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ deals: 1, warnings: [] });
    expect(zoho.requests.map((q) => shape(q))).toEqual([
      { method: 'GET', path: '/crm/v7/Deals/5725767000003000201', headers: { authorization: 'Zoho-oauthtoken z2' }, body: '' },
      { method: 'GET', path: '/crm/v7/settings/fields?module=Deals', headers: { authorization: 'Zoho-oauthtoken z2' }, body: '' },
    ]);
    expect(await current('5725767000003000201')).toMatchObject({ stage: 'Won', outcome: 'won', amount_minor: '70000', status_id: 'Предоплата 100%' });

    // Another stage Zoho does not have, within the minute: not read again, and named in the reply.
    zoho.requests.length = 0;
    records.set('5725767000003000202', record({ id: '5725767000003000202', Pipeline: { name: 'Partners', id: '9' }, Stage: 'Mystery' }));
    const again = await notify({ server_time: 1718117500000, module: 'Deals', ids: ['5725767000003000202'], operation: 'update', channel_id: '1000000068001', token: TOKEN });
    expect(await again.json()).toMatchObject({ deals: 1, warnings: [{ record: '5725767000003000202', reason: expect.stringMatching(/Stage "Mystery" is not in Zoho's Stage list/) }] });
    expect(zoho.requests.map((q) => q.path)).toEqual(['/crm/v7/Deals/5725767000003000202']);
  });

  it('a webhook-only source takes its closing stages from the mapping and names an unmapped stage in the reply', async () => {
    const post = (body: unknown) => fetch(`${collector.url}/crm/zoho/hook/${SECRET}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    const mapped = await post(record({ id: '5725767000003000301', Stage: 'Предоплата 100%', Amount: '300' }));
    expect(await mapped.json()).toMatchObject({ deals: 1, warnings: [] });
    expect(await db.rows(`SELECT stage, outcome FROM deals_current WHERE source = 'hook' AND deal_id = '5725767000003000301'`)).toEqual([{ stage: 'Won', outcome: 'won' }]);
    const unmapped = await post(record({ id: '5725767000003000302', Stage: 'Оплачено' }));
    expect(await unmapped.json()).toMatchObject({
      deals: 1,
      warnings: [{ record: '5725767000003000302', reason: expect.stringMatching(/Stage "Оплачено" is not mapped: a source without API access cannot read Zoho's forecast types/) }],
    });
    // Zoho's own closing stage names still say it.
    const own = await post(record({ id: '5725767000003000303', Stage: 'Closed Won' }));
    expect(await own.json()).toMatchObject({ deals: 1, warnings: [] });
    expect(await db.rows(`SELECT outcome FROM deals_current WHERE source = 'hook' AND deal_id = '5725767000003000303'`)).toEqual([{ outcome: 'won' }]);
  });

  it('keeps 19-digit ids sent as bare JSON numbers exactly, in webhooks and callbacks', async () => {
    // Zoho's template `"id": ${Deals.Deal Id}` without quotes: JSON.parse would make both ids 5725767000004318000.
    const body = `{"data":[{"id":5725767000004318061,"Stage":"Qualification","Amount":10,"Modified_Time":"2024-06-12T10:00:00+00:00"},
      {"id":5725767000004318062,"Stage":"Qualification","Amount":20,"Modified_Time":"2024-06-12T10:00:00+00:00"}]}`;
    const r = await fetch(`${collector.url}/crm/zoho/zoho/${SECRET}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    expect(await r.json()).toMatchObject({ deals: 2, refused: [] });
    expect(await current('5725767000004318061')).toMatchObject({ amount_minor: '1000' });
    expect(await current('5725767000004318062')).toMatchObject({ amount_minor: '2000' });
    expect(await current('5725767000004318000')).toBeUndefined();

    zoho.requests.length = 0;
    records.set('5725767000004318063', record({ id: '5725767000004318063' }));
    const cb = `{"server_time":1718117600000,"module":"Deals","ids":[5725767000004318063],"operation":"update","token":"${TOKEN}"}`;
    const n = await fetch(`${collector.url}/crm/zoho/zoho/notify`, { method: 'POST', body: cb, headers: { 'Content-Type': 'application/json' } });
    expect(await n.json()).toMatchObject({ deals: 1 });
    expect(zoho.requests.map((q) => q.path)).toEqual(['/crm/v7/Deals/5725767000004318063']);
  });

  it('renews the channel through the admin API', async () => {
    zoho.requests.length = 0;
    const url = `${collector.url}/crm/zoho/zoho/watch`;
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
    const r = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN}` } });
    expect(r.status).toBe(200);
    expect(zoho.requests).toHaveLength(1);
    expectWatch(shape(zoho.requests[0]!), 'Zoho-oauthtoken z2');
  });
});
