// amoCRM end to end: realistic webhook bodies through HTTP into the built
// collector and the real ClickHouse; the API v4 / OAuth calls go to a local
// stand-in that records them, and the test asserts each request exactly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEmail, hashPhone } from '../../collector/src/identity/hash.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { shape, startStandIn, type StandIn } from './crm-standin.js';
import { EMBEDDED_ENGINE } from '../helpers/env.js';

const SECRET = 'amo_secret_0123456789abcdef';
const SECRET2 = 'amo2_secret_0123456789abcdef';
const ADMIN = 'admin-token-0123456789';
const INBOUND = 'inbound_secret_0123456789';
const IDENTITY_KEY = 'test-identity-key-0123456789';
const ACCOUNT = [
  ['account[subdomain]', 'apfitness'],
  ['account[id]', '17769199'],
];
const PIPELINE = '9217056';
const S = { request: '20067736', qualified: '20067739', proposal: '20067742', contract: '20067745', invoice: '20067748', won: '142', lost: '143' };

const FUNNEL = [
  { stage: '1 Request' },
  { stage: '2 Qualified' },
  { stage: '3 Proposal' },
  { stage: '4 Contract' },
  { stage: '5 Invoice' },
  { stage: 'Won', marker: 'won' },
  { stage: 'Lost', marker: 'lost' },
];
const PIPELINES = {
  [PIPELINE]: { [S.request]: '1 Request', [S.qualified]: '2 Qualified', [S.proposal]: '3 Proposal', [S.contract]: '4 Contract', [S.invoice]: '5 Invoice', '142': 'Won', '143': 'Lost' },
};
const IDENTITY = { visitor_id: ['VISITOR_ID'], ga_cid: ['GA_CID'], ym_uid: ['YM_UID'], utm_source: ['UTM_SOURCE'], utm_campaign: ['UTM_CAMPAIGN'] };

type Lead = { id: string; status: string; price: number; modified: number; fields?: [string, string, string][] };

/** One lead in a webhook body, as amoCRM writes it: `leads[action][i][field]=…`. */
function leadPairs(action: string, i: number, l: Lead): string[][] {
  const p = `leads[${action}][${i}]`;
  const pairs = [
    [`${p}[id]`, l.id],
    [`${p}[name]`, `Deal ${l.id}`],
    [`${p}[status_id]`, l.status],
    [`${p}[old_status_id]`, S.request],
    [`${p}[price]`, String(l.price)],
    [`${p}[responsible_user_id]`, '2079676'],
    [`${p}[last_modified]`, String(l.modified)],
    [`${p}[modified_user_id]`, '2079676'],
    [`${p}[created_user_id]`, '2079676'],
    [`${p}[date_create]`, '1700000000'],
    [`${p}[pipeline_id]`, PIPELINE],
    [`${p}[account_id]`, '17769199'],
  ];
  (l.fields ?? []).forEach(([id, name, value], j) => {
    pairs.push([`${p}[custom_fields][${j}][id]`, id], [`${p}[custom_fields][${j}][name]`, name], [`${p}[custom_fields][${j}][values][0][value]`, value]);
  });
  return pairs;
}
const form = (...groups: string[][][]) => new URLSearchParams(groups.flat() as [string, string][]).toString();

const TRACKED: [string, string, string][] = [
  ['501', 'VISITOR_ID', 'hk7m9p'],
  ['502', 'GA_CID', 'GA1.2.908899769.1600020018'],
  ['503', 'YM_UID', '1551977723718998723'],
  ['504', 'UTM_SOURCE', 'yandex'],
  ['505', 'UTM_CAMPAIGN', 'brand'],
  ['506', 'Себестоимость', '6000'],
];

describe('amoCRM webhooks into ClickHouse', () => {
  let db: TestDatabase;
  let api: StandIn;
  let collector: RunningCollector;
  let dir: string;
  let env: Record<string, string>;
  const tokens = { access: 'a1', refresh: 'r1' };
  const leads = new Map<string, Record<string, unknown>>();

  const post = (body: string, secret = SECRET, source = 'amo', type = 'application/x-www-form-urlencoded') =>
    fetch(`${collector.url}/crm/amocrm/${source}/${secret}`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': type, 'User-Agent': 'amoCRM-WebHook-client/1.0' },
    });
  const current = (id: string, source = 'amo') =>
    db.rows<Record<string, unknown>>(`SELECT * FROM deals_current WHERE source = '${source}' AND deal_id = '${id}'`).then((r) => r[0]);
  const versions = (id: string, source = 'amo') =>
    db.rows<{ n: string; v: string }>(`SELECT count() AS n, uniqExact(version) AS v FROM deals FINAL WHERE source = '${source}' AND deal_id = '${id}'`).then((r) => ({
      rows: Number(r[0]!.n),
      versions: Number(r[0]!.v),
    }));

  beforeAll(async () => {
    db = await freshDatabase();
    api = await startStandIn((r) => {
      if (r.method === 'POST' && r.path === '/oauth2/access_token') {
        return { status: 200, json: { token_type: 'Bearer', expires_in: 86400, access_token: tokens.access, refresh_token: tokens.refresh } };
      }
      if (r.headers.authorization !== `Bearer ${tokens.access}`) return { status: 401, json: { title: 'Unauthorized' } };
      const m = /^\/api\/v4\/leads\/(\d+)\?with=contacts$/.exec(r.path);
      const lead = m ? leads.get(m[1]!) : undefined;
      return lead ? { status: 200, json: lead } : { status: 204 };
    });
    dir = await mkdtemp(join(tmpdir(), 'tl-crm-'));
    const config = {
      funnel: FUNNEL,
      sources: {
        amo: {
          kind: 'amocrm',
          secret: SECRET,
          account: { id: '17769199', subdomain: 'apfitness' },
          api: { baseUrl: api.url, clientId: 'client-1', clientSecret: 'client-secret-1', redirectUri: 'https://collector.example/crm/amocrm/amo/oauth', refreshToken: 'r0' },
          pipelines: PIPELINES,
          identityFields: IDENTITY,
          calculated: [{ name: 'margin', formula: 'amount - cost', variables: { cost: 'Себестоимость' } }],
        },
        amo2: {
          kind: 'amocrm',
          secret: SECRET2,
          account: { subdomain: 'apfitness' },
          pipelines: PIPELINES,
          filters: [{ field: 'LANDING', equals: 'site-1' }],
          keepFields: ['LANDING'],
        },
      },
    };
    await writeFile(join(dir, 'crm.json'), JSON.stringify(config));
    env = {
      CLICKHOUSE_DATABASE: db.name,
      CRM_CONFIG: join(dir, 'crm.json'),
      CRM_ADMIN_TOKEN: ADMIN,
      INBOUND_EMAIL_SECRET: INBOUND,
      IDENTITY_KEY,
      REDIS_PREFIX: `t_${db.name}:`,
    };
    collector = await startCollector(env);
  });
  afterAll(async () => {
    await collector?.stop();
    await api?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the funnel stages when the configuration is loaded', async () => {
    const rows = await db.rows<{ stage: string; stage_index: number; marker: string }>(
      `SELECT stage, stage_index, marker FROM funnel_stages WHERE version = (SELECT max(version) FROM funnel_stages) ORDER BY stage_index`,
    );
    expect(rows.map((r) => [r.stage, r.stage_index, r.marker])).toEqual(FUNNEL.map((s, i) => [s.stage, i + 1, s.marker ?? '']));
  });

  it('stores a new lead with its stage, money in minor units, ids, UTM tags and calculated fields', async () => {
    const r = await post(form(leadPairs('add', 0, { id: '1001', status: S.request, price: 10000, modified: 1700000100, fields: TRACKED }), ACCOUNT));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ deals: 1, links: 3 });
    expect(await current('1001')).toMatchObject({
      stage: '1 Request',
      stage_index: 1,
      outcome: 'open',
      stages_passed: ['1 Request'],
      amount_minor: '1000000',
      currency: 'RUB',
      deleted: 0,
      visitor_id: 'HK7M9P',
      ga_cid: '908899769.1600020018',
      ym_uid: '1551977723718998723',
      utm_source: 'yandex',
      utm_campaign: 'brand',
      created_at: '2023-11-14 22:13:20',
      changed_at: '2023-11-14 22:15:00',
    });
    const c = (await current('1001'))!;
    const fields = Object.fromEntries((c.field_names as string[]).map((n, i) => [n, (c.field_values as string[])[i]]));
    expect(fields).toMatchObject({ VISITOR_ID: 'hk7m9p', Себестоимость: '6000', margin: '4000' });
    const links = await db.rows(`SELECT kind_a, id_a, kind_b, id_b, evidence FROM identity_links FINAL WHERE id_a = 'amo:1001' ORDER BY kind_b`);
    expect(links).toEqual([
      { kind_a: 'deal', id_a: 'amo:1001', kind_b: 'ga', id_b: '908899769.1600020018', evidence: 'crm' },
      { kind_a: 'deal', id_a: 'amo:1001', kind_b: 'visitor', id_b: 'HK7M9P', evidence: 'crm' },
      { kind_a: 'deal', id_a: 'amo:1001', kind_b: 'ym', id_b: '1551977723718998723', evidence: 'crm' },
    ]);
  });

  it('keeps the history when the price changes; the current state has the new price', async () => {
    const r = await post(form(leadPairs('update', 0, { id: '1001', status: S.request, price: 15000, modified: 1700000200, fields: TRACKED }), ACCOUNT));
    expect(r.status).toBe(200);
    expect(await current('1001')).toMatchObject({ amount_minor: '1500000', stage: '1 Request' });
    const history = await db.rows<{ amount_minor: string }>(`SELECT toString(amount_minor) AS amount_minor FROM deals FINAL WHERE deal_id = '1001' ORDER BY version`);
    expect(history.map((h) => h.amount_minor)).toEqual(['1000000', '1500000']);
  });

  it('moves through statuses and, once won from stage 2, counts every earlier stage as passed', async () => {
    expect((await post(form(leadPairs('status', 0, { id: '1001', status: S.qualified, price: 15000, modified: 1700000300 }), ACCOUNT))).status).toBe(200);
    expect(await current('1001')).toMatchObject({ stage: '2 Qualified', outcome: 'open', stages_passed: ['1 Request', '2 Qualified'] });
    const won = form(leadPairs('status', 0, { id: '1001', status: S.won, price: 15000, modified: 1700000400 }), ACCOUNT);
    expect((await post(won)).status).toBe(200);
    expect(await current('1001')).toMatchObject({
      stage: 'Won',
      stage_index: 6,
      outcome: 'won',
      stages_passed: ['1 Request', '2 Qualified', '3 Proposal', '4 Contract', '5 Invoice', 'Won'],
      closed_at: '2023-11-14 22:20:00',
    });
    expect(await versions('1001')).toEqual({ rows: 4, versions: 4 });

    // The same delivery again changes nothing.
    const again = await post(won);
    expect(again.status).toBe(200);
    expect(await versions('1001')).toEqual({ rows: 4, versions: 4 });
  });

  it('an older change delivered late does not override the newer state', async () => {
    const late = form(leadPairs('update', 0, { id: '1001', status: S.qualified, price: 1, modified: 1700000250 }), ACCOUNT);
    expect((await post(late)).status).toBe(200);
    expect(await current('1001')).toMatchObject({ outcome: 'won', amount_minor: '1500000' });
  });

  it('a status change delivered late adds its stage to the newest version, once', async () => {
    await post(form(leadPairs('add', 0, { id: '1003', status: S.request, price: 100, modified: 1700000100 }), ACCOUNT));
    await post(form(leadPairs('status', 0, { id: '1003', status: S.proposal, price: 100, modified: 1700000300 }), ACCOUNT));
    const late = form(leadPairs('status', 0, { id: '1003', status: S.qualified, price: 100, modified: 1700000200 }), ACCOUNT);
    expect((await post(late)).status).toBe(200);
    expect(await current('1003')).toMatchObject({ stage: '3 Proposal', stages_passed: ['1 Request', '2 Qualified', '3 Proposal'] });
    expect(await versions('1003')).toEqual({ rows: 4, versions: 4 });
    expect((await post(late)).status).toBe(200);
    expect(await versions('1003')).toEqual({ rows: 4, versions: 4 });
  });

  it('a deal lost from stage 2 keeps only the stages it went through', async () => {
    await post(form(leadPairs('add', 0, { id: '1002', status: S.qualified, price: 5000, modified: 1700001000 }), ACCOUNT));
    await post(form(leadPairs('status', 0, { id: '1002', status: S.lost, price: 5000, modified: 1700001100 }), ACCOUNT));
    expect(await current('1002')).toMatchObject({ stage: 'Lost', outcome: 'lost', stages_passed: ['2 Qualified', 'Lost'], lost_from_stage: '2 Qualified' });
  });

  it('a delete with only an id reads the lead back through API v4 (refreshing the OAuth token first)', async () => {
    api.requests.length = 0;
    leads.set('1001', {
      id: 1001,
      name: 'Deal 1001',
      price: 15000,
      status_id: 142,
      pipeline_id: Number(PIPELINE),
      created_at: 1700000000,
      updated_at: 1700002000,
      closed_at: 1700000400,
      is_deleted: true,
      account_id: 17769199,
      custom_fields_values: [{ field_id: 501, field_name: 'VISITOR_ID', field_code: null, field_type: 'text', values: [{ value: 'hk7m9p' }] }],
      _embedded: { contacts: [{ id: 7001 }] },
    });
    const r = await post(form([['leads[delete][0][id]', '1001']], ACCOUNT));
    expect(r.status).toBe(200);
    expect(api.requests.map((q) => shape(q))).toEqual([
      {
        method: 'POST',
        path: '/oauth2/access_token',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: 'client-1',
          client_secret: 'client-secret-1',
          grant_type: 'refresh_token',
          refresh_token: 'r0',
          redirect_uri: 'https://collector.example/crm/amocrm/amo/oauth',
        }),
      },
      { method: 'GET', path: '/api/v4/leads/1001?with=contacts', headers: { authorization: 'Bearer a1' }, body: '' },
    ]);
    expect(await current('1001')).toMatchObject({ deleted: 1, outcome: 'won', amount_minor: '1500000', changed_at: '2023-11-14 22:46:40', contact_ids: ['7001'] });
    // The stored tokens, where the test can read them: the SQL endpoint, its only way into a running
    // embedded collector, never gives them out (sql/guard.ts). The next test uses the stored refresh token.
    if (!EMBEDDED_ENGINE) {
      const stored = await db.rows(`SELECT access_token, refresh_token FROM crm_oauth_tokens WHERE source = 'amo' ORDER BY version DESC LIMIT 1`);
      expect(stored).toEqual([{ access_token: 'a1', refresh_token: 'r1' }]);
    }
  });

  it('a restore reads the lead back; an expired token is refreshed with the stored refresh token and the call repeated', async () => {
    api.requests.length = 0;
    tokens.access = 'a2';
    tokens.refresh = 'r2';
    leads.set('1001', { ...leads.get('1001')!, is_deleted: false, updated_at: 1700003000 });
    const r = await post(form([['leads[restore][0][id]', '1001']], ACCOUNT));
    expect(r.status).toBe(200);
    expect(api.requests.map((q) => shape(q))).toEqual([
      { method: 'GET', path: '/api/v4/leads/1001?with=contacts', headers: { authorization: 'Bearer a1' }, body: '' },
      {
        method: 'POST',
        path: '/oauth2/access_token',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: 'client-1',
          client_secret: 'client-secret-1',
          grant_type: 'refresh_token',
          refresh_token: 'r1',
          redirect_uri: 'https://collector.example/crm/amocrm/amo/oauth',
        }),
      },
      { method: 'GET', path: '/api/v4/leads/1001?with=contacts', headers: { authorization: 'Bearer a2' }, body: '' },
    ]);
    expect(await current('1001')).toMatchObject({ deleted: 0, outcome: 'won', amount_minor: '1500000' });
  });

  it('without API credentials a delete repeats the last known fields; a repeated delete changes nothing', async () => {
    const landing: [string, string, string][] = [['601', 'LANDING', 'site-1'], ['602', 'Comment', 'dropped']];
    expect((await post(form(leadPairs('add', 0, { id: '2001', status: S.proposal, price: 700, modified: 1700004000, fields: landing }), ACCOUNT), SECRET2, 'amo2')).status).toBe(200);
    const other: [string, string, string][] = [['601', 'LANDING', 'site-2']];
    const filtered = await post(form(leadPairs('add', 0, { id: '2002', status: S.proposal, price: 700, modified: 1700004000, fields: other }), ACCOUNT), SECRET2, 'amo2');
    expect(await filtered.json()).toMatchObject({ deals: 0, filtered: 1 });
    expect(await current('2002', 'amo2')).toBeUndefined();
    expect(await current('2001', 'amo2')).toMatchObject({ field_names: ['LANDING'], field_values: ['site-1'] });

    const del = form([['leads[delete][0][id]', '2001']], ACCOUNT);
    expect(await (await post(del, SECRET2, 'amo2')).json()).toMatchObject({ deals: 1 });
    expect(await current('2001', 'amo2')).toMatchObject({ deleted: 1, stage: '3 Proposal', amount_minor: '70000', field_values: ['site-1'] });
    expect(await (await post(del, SECRET2, 'amo2')).json()).toMatchObject({ deals: 0, repeated: 1 });
    expect(await versions('2001', 'amo2')).toEqual({ rows: 2, versions: 2 });
    const restore = form([['leads[restore][0][id]', '2001']], ACCOUNT);
    expect(await (await post(restore, SECRET2, 'amo2')).json()).toMatchObject({ deals: 1 });
    expect(await current('2001', 'amo2')).toMatchObject({ deleted: 0, stage: '3 Proposal' });
  });

  it('takes a mixed POST: a lead added and moved, a contact with phone and e-mail, a task', async () => {
    const body = form(
      leadPairs('add', 0, { id: '3001', status: S.request, price: 100, modified: 1700005000 }),
      leadPairs('status', 0, { id: '3001', status: S.contract, price: 100, modified: 1700005000 }),
      [
        ['contacts[add][0][id]', '7001'],
        ['contacts[add][0][name]', 'Ivan'],
        ['contacts[add][0][type]', 'contact'],
        ['contacts[add][0][custom_fields][0][id]', '90'],
        ['contacts[add][0][custom_fields][0][name]', 'Телефон'],
        ['contacts[add][0][custom_fields][0][code]', 'PHONE'],
        ['contacts[add][0][custom_fields][0][values][0][value]', '8 (916) 123-45-67'],
        ['contacts[add][0][custom_fields][0][values][0][enum]', '1'],
        ['contacts[add][0][custom_fields][1][id]', '91'],
        ['contacts[add][0][custom_fields][1][name]', 'Email'],
        ['contacts[add][0][custom_fields][1][code]', 'EMAIL'],
        ['contacts[add][0][custom_fields][1][values][0][value]', 'Ivan.Petrov@Mail.ru'],
        ['contacts[add][0][linked_leads_id][3001]', '3001'],
        ['task[add][0][id]', '55'],
        ['task[add][0][text]', 'call back'],
      ],
      ACCOUNT,
    );
    const r = await post(body);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ deals: 2, contacts: 1, ignored: 1 });
    expect(await current('3001')).toMatchObject({ stage: '4 Contract', stages_passed: ['1 Request', '4 Contract'] });
    const links = await db.rows(`SELECT kind_a, id_a, kind_b, id_b FROM identity_links FINAL WHERE id_a IN ('amo:7001', 'amo:3001') ORDER BY kind_a, kind_b`);
    expect(links).toEqual([
      { kind_a: 'contact', id_a: 'amo:7001', kind_b: 'email', id_b: hashEmail('ivan.petrov@mail.ru', IDENTITY_KEY) },
      { kind_a: 'contact', id_a: 'amo:7001', kind_b: 'phone', id_b: hashPhone('+79161234567', IDENTITY_KEY) },
      { kind_a: 'deal', id_a: 'amo:3001', kind_b: 'contact', id_b: 'amo:7001' },
    ]);
    const raw = await db.rows(`SELECT count() AS n FROM identity_links WHERE id_b LIKE '%916%' OR id_b LIKE '%@%'`);
    expect(raw).toEqual([{ n: '0' }]);
  });

  it('a delete of a lead the API no longer returns repeats its last known fields', async () => {
    api.requests.length = 0;
    const r = await post(form([['leads[delete][0][id]', '3001']], ACCOUNT));
    expect(await r.json()).toMatchObject({ deals: 1 });
    expect(api.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /api/v4/leads/3001?with=contacts']);
    expect(await current('3001')).toMatchObject({ deleted: 1, stage: '4 Contract', amount_minor: '10000' });
  });

  it('refuses a bad secret, a body that is not amoCRM’s and another account, storing nothing', async () => {
    const before = await db.rows(`SELECT count() AS n FROM deals`);
    const good = form(leadPairs('add', 0, { id: '9001', status: S.request, price: 1, modified: 1700006000 }), ACCOUNT);
    const bad = await post(good, 'wrong_secret_0123456789abcdef');
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'bad_secret' });

    const json = await post(JSON.stringify({ leads: { add: [{ id: 9001 }] } }), SECRET, 'amo', 'application/json');
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({ error: 'not_amocrm', reason: 'amoCRM webhooks are application/x-www-form-urlencoded' });

    const other = await post('name=Ivan&phone=%2B79161234567');
    expect(other.status).toBe(400);
    expect((await other.json()).reason).toMatch(/no amoCRM entity/);

    // A lead without an id is refused alone (the lead beside it is stored in the point 3 attack tests).
    const half = await post(form([['leads[add][1][name]', 'no id']], ACCOUNT));
    expect(half.status).toBe(200);
    expect(await half.json()).toMatchObject({ stored: 0, refused: [{ record: 'leads[add][0]', reason: 'leads[add][0] has no numeric id' }] });

    const foreign = await post(form(leadPairs('add', 0, { id: '9003', status: S.request, price: 1, modified: 1700006000 }), [['account[subdomain]', 'intruder']]));
    expect(foreign.status).toBe(403);

    const unknown = await post(good, SECRET, 'nosuch');
    // An unknown source is answered as a wrong secret, so source names cannot be probed.
    expect(unknown.status).toBe(401);
    expect(await db.rows(`SELECT count() AS n FROM deals`)).toEqual(before);
  });

  it('exchanges the OAuth code amoCRM sends to the redirect URI', async () => {
    api.requests.length = 0;
    tokens.access = 'a3';
    tokens.refresh = 'r3';
    const bad = await fetch(`${collector.url}/crm/amocrm/amo/oauth?code=abc&state=nope`);
    expect(bad.status).toBe(401);
    const r = await fetch(`${collector.url}/crm/amocrm/amo/oauth?code=auth-code-1&state=${SECRET}&referer=apfitness.amocrm.ru`);
    expect(r.status).toBe(200);
    expect(api.requests.map((q) => shape(q))).toEqual([
      {
        method: 'POST',
        path: '/oauth2/access_token',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: 'client-1',
          client_secret: 'client-secret-1',
          grant_type: 'authorization_code',
          code: 'auth-code-1',
          redirect_uri: 'https://collector.example/crm/amocrm/amo/oauth',
        }),
      },
    ]);
    if (!EMBEDDED_ENGINE) {
      // (Secret to the SQL endpoint, the tests' way into a running embedded collector.)
      expect(await db.rows(`SELECT refresh_token FROM crm_oauth_tokens WHERE source = 'amo' ORDER BY version DESC LIMIT 1`)).toEqual([{ refresh_token: 'r3' }]);
    }
  });

  it('links visitor, e-mail and deal from an inbound e-mail notice', async () => {
    const send = (body: unknown, secret = INBOUND) =>
      fetch(`${collector.url}/inbound-email/${secret}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    const plus = await send({ recipient: 'Sales <sales+hk7m9p@site.ru>', sender: 'Ivan <Ivan.Petrov@mail.ru>', subject: 'Question', deal: 'amo:3001' });
    expect(plus.status).toBe(200);
    expect(await plus.json()).toEqual({ visitor_id: 'HK7M9P', links: 3 });
    const tag = await send({ to: ['sales@site.ru'], from: 'olga@mail.ru', subject: 'Re: [xy45zq] Delivery' });
    expect(await tag.json()).toEqual({ visitor_id: 'XY45ZQ', links: 1 });
    const email = hashEmail('ivan.petrov@mail.ru', IDENTITY_KEY)!;
    const links = await db.rows(`SELECT kind_a, id_a, kind_b, id_b FROM identity_links FINAL WHERE evidence = 'inbound_email' ORDER BY kind_a, id_a, kind_b`);
    expect(links).toEqual([
      { kind_a: 'deal', id_a: 'amo:3001', kind_b: 'email', id_b: email },
      { kind_a: 'deal', id_a: 'amo:3001', kind_b: 'visitor', id_b: 'HK7M9P' },
      { kind_a: 'visitor', id_a: 'HK7M9P', kind_b: 'email', id_b: email },
      { kind_a: 'visitor', id_a: 'XY45ZQ', kind_b: 'email', id_b: hashEmail('olga@mail.ru', IDENTITY_KEY) },
    ]);
    expect((await send({ recipient: 'sales@site.ru', sender: 'nobody', subject: '' })).status).toBe(400);
    expect((await send({ recipient: 'sales@site.ru', sender: 'a@b.co' }, 'wrong_secret_0123456789')).status).toBe(401);
  });

  it('reads and replaces the mapping through the admin API, refusing a bad one, and keeps it across a restart', async () => {
    const url = `${collector.url}/crm/config`;
    const auth = { Authorization: `Bearer ${ADMIN}` };
    expect((await fetch(url)).status).toBe(401);
    const got = await fetch(url, { headers: auth });
    expect(got.status).toBe(200);
    const config = (await got.json()) as { funnel: { stage: string; marker?: string }[] };
    expect(config.funnel).toEqual(FUNNEL);

    const twoWon = { ...config, funnel: [...config.funnel, { stage: 'Paid', marker: 'won' }] };
    const refused = await fetch(url, { method: 'PUT', body: JSON.stringify(twoWon), headers: auth });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual({
      error: 'invalid_config',
      reason: 'funnel.7: marker "won" is already on stage "Won"; each marker may be on one stage only',
    });

    const next = { ...config, funnel: [{ stage: '1 Request' }, { stage: '2 Qualified' }, { stage: '3 Proposal' }, { stage: '4 Contract' }, { stage: '5 Invoice' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }, { stage: 'On hold', marker: 'paused' }] };
    const put = await fetch(url, { method: 'PUT', body: JSON.stringify(next), headers: auth });
    expect(put.status).toBe(200);
    const stages = () => db.rows<{ stage: string }>(`SELECT stage FROM funnel_stages FINAL WHERE version = (SELECT max(version) FROM funnel_stages) ORDER BY stage_index`);
    expect((await stages()).map((s) => s.stage)).toEqual(next.funnel.map((s) => s.stage));

    await collector.stop();
    collector = await startCollector(env);
    const after = await fetch(`${collector.url}/crm/config`, { headers: auth });
    expect(((await after.json()) as { funnel: unknown[] }).funnel).toEqual(next.funnel);
  });
});
