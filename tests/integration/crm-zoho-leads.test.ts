// Zoho CRM Leads: taken by workflow webhook and by Notifications API callback
// (read back from the Leads module), mapped into the funnel by their own
// Lead_Status mapping, and a converted lead's ids carried to the deal it became,
// so that a deal converted from a web-form lead is credited to the lead's
// channel. Zoho's accounts server and CRM API are a local stand-in.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { newVisitorId } from '../helpers/ids.js';
import { SCENARIO_COLLECTOR_ENV } from '../helpers/report-scenario.js';
import { shape, startStandIn, type StandIn } from './crm-standin.js';

const SECRET = 'zoho_leads_secret_0123456789';
const TOKEN = 'zoho-leads-token-0123456789';
const REPORTS = 'leads-reports-token-0123456789';
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('Zoho CRM Leads', () => {
  let db: TestDatabase;
  let zoho: StandIn;
  let collector: RunningCollector;
  let dir: string;
  const leads = new Map<string, Record<string, unknown>>();
  const deals = new Map<string, Record<string, unknown>>();
  const now = Date.now();

  const post = (path: string, body: unknown) =>
    fetch(`${collector.url}/crm/zoho/zoho/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  const notify = (module: string, ids: string[], operation = 'update') =>
    post('notify', { server_time: now, module, resource_uri: `${zoho.url}/crm/v2/${module}`, ids, affected_fields: [], operation, channel_id: '1000000068001', token: TOKEN });
  const current = (id: string) => db.rows<Record<string, unknown>>(`SELECT * FROM deals_current WHERE source = 'zoho' AND deal_id = '${id}'`).then((r) => r[0]);
  const lead = (id: string, over: Record<string, unknown>) => ({
    id,
    First_Name: 'Anna',
    Last_Name: 'Ivanova',
    Email: 'anna@example.com',
    Lead_Status: 'Not Contacted',
    Lead_Source: 'Web Download',
    Created_Time: iso(now - 2 * DAY),
    Modified_Time: iso(now - 2 * DAY),
    $converted: false,
    $converted_detail: {},
    ...over,
  });

  beforeAll(async () => {
    db = await freshDatabase();
    zoho = await startStandIn((r) => {
      if (r.method === 'POST' && r.path === '/oauth/v2/token') return { status: 200, json: { access_token: 'zl1', api_domain: zoho.url, expires_in: 3600 } };
      if (r.method === 'GET' && r.path === '/crm/v7/settings/fields?module=Deals') {
        return { status: 200, json: { fields: [{ api_name: 'Stage', pick_list_values: [{ display_value: 'Closed Won', actual_value: 'Closed Won', forecast_type: 'Closed Won' }] }] } };
      }
      const m = /^\/crm\/v7\/(Leads|Deals)\/(\d+)$/.exec(r.path);
      const rec = m ? (m[1] === 'Leads' ? leads : deals).get(m[2]!) : undefined;
      return rec ? { status: 200, json: { data: [rec] } } : { status: 204 };
    });
    dir = await mkdtemp(join(tmpdir(), 'tl-zoho-leads-'));
    await writeFile(
      join(dir, 'crm.json'),
      JSON.stringify({
        funnel: [{ stage: 'Lead' }, { stage: 'Qualified' }, { stage: 'Proposal' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }],
        sources: {
          zoho: {
            kind: 'zoho',
            secret: SECRET,
            notificationToken: TOKEN,
            api: { accountsUrl: zoho.url, clientId: 'zoho-client', clientSecret: 'zoho-client-secret', refreshToken: 'zr0' },
            leadStatuses: { 'Not Contacted': 'Lead', Contacted: 'Lead', Qualified: 'Qualified' },
            pipelines: { Standard: { Qualification: 'Qualified', 'Closed Won': 'Won' } },
          },
        },
      }),
    );
    collector = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      CRM_CONFIG: join(dir, 'crm.json'),
      REPORTS_TOKEN: REPORTS,
      BATCH_MAX_MS: '100',
      REDIS_PREFIX: `t_${db.name}:`,
      ...SCENARIO_COLLECTOR_ENV,
    });
  });
  afterAll(async () => {
    await collector?.stop();
    await zoho?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a Lead_Status mapping onto a stage the funnel does not have', async () => {
    const { loadCrmConfig } = await import('../../collector/src/crm/config/schema.js');
    const bad = { funnel: [{ stage: 'Lead' }], sources: { z: { kind: 'zoho', secret: SECRET, leadStatuses: { Qualified: 'Nowhere' } } } };
    expect(() => loadCrmConfig(bad)).toThrow(/sources\.z\.leadStatuses\.Qualified: no stage "Nowhere"/);
  });

  it('takes a lead by workflow webhook and maps its Lead_Status through leadStatuses', async () => {
    const visitor = newVisitorId();
    const r = await post(`${SECRET}/leads`, { data: [lead('5725767000005000001', { visitor_id: visitor.toLowerCase() })] });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ deals: 1, refused: [] });
    expect(await current('lead-5725767000005000001')).toMatchObject({
      pipeline_id: 'Leads',
      status_id: 'Not Contacted',
      stage: 'Lead',
      outcome: 'open',
      name: 'Anna Ivanova',
      visitor_id: visitor,
      deleted: 0,
    });
    // A lead is not a deal: no deal of its id, and a lead without an id is refused alone.
    expect(await current('5725767000005000001')).toBeUndefined();
    const bad = await post(`${SECRET}/leads`, { data: [{ Lead_Status: 'Contacted' }] });
    expect(await bad.json()).toMatchObject({ stored: 0, refused: [{ record: 'data[0]', reason: 'no numeric id' }] });
  });

  it('reads a lead back from the Leads module after a Leads notification', async () => {
    leads.set('5725767000005000002', lead('5725767000005000002', { Lead_Status: 'Qualified', Modified_Time: iso(now - DAY) }));
    zoho.requests.length = 0;
    const r = await notify('Leads', ['5725767000005000002'], 'insert');
    expect(r.status).toBe(200);
    expect(zoho.requests.map((q) => shape(q)).filter((q) => q.path.startsWith('/crm/'))).toEqual([
      { method: 'GET', path: '/crm/v7/Leads/5725767000005000002', headers: { authorization: 'Zoho-oauthtoken zl1' }, body: '' },
    ]);
    expect(await current('lead-5725767000005000002')).toMatchObject({ pipeline_id: 'Leads', status_id: 'Qualified', stage: 'Qualified', stages_passed: ['Qualified'] });
    const del = await notify('Leads', ['5725767000005000002'], 'delete');
    expect(await del.json()).toMatchObject({ deals: 1 });
    expect(await current('lead-5725767000005000002')).toMatchObject({ deleted: 1 });
  });

  it('credits a deal converted from a web-form lead to the lead\'s channel', async () => {
    const visitor = newVisitorId();
    const visit = { s: 'zoho-site', k: 'visit', e: randomBytes(8).toString('hex'), t: now - 3 * DAY, u: 'https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=spring', r: '', g: '', y: '', v: visitor };
    expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: JSON.stringify(visit), headers: { 'Content-Type': 'text/plain' } })).status).toBe(204);
    await eventually(() => db.rows(`SELECT 1 FROM hits WHERE visitor_id = '${visitor}'`));

    // The web form's lead carries the visitor id; the deal it is converted into carries none.
    const leadId = '5725767000005000003';
    const dealId = '5725767000005000900';
    expect((await post(`${SECRET}/leads`, lead(leadId, { visitor_id: visitor }))).status).toBe(200);
    leads.set(leadId, lead(leadId, {
      Modified_Time: iso(now - DAY),
      $converted: true,
      $converted_detail: { convert_date: date(now - DAY), converted_by: { name: 'Sales', id: '5725767000000300001' }, deal: { name: 'Anna: order', id: dealId }, contact: { name: 'Anna Ivanova', id: '5725767000005000500' } },
    }));
    const conv = await notify('Leads', [leadId]);
    expect(await conv.json()).toMatchObject({ deals: 1, contacts: 1, refused: [] });
    // The lead lives on as its deal: counted once.
    expect(await current(`lead-${leadId}`)).toMatchObject({ deleted: 1 });
    const deal = { id: dealId, Deal_Name: 'Anna: order', Stage: 'Closed Won', Amount: 5000.01, Pipeline: { name: 'Standard', id: '1' }, Closing_Date: date(now - DAY), Created_Time: iso(now - DAY), Modified_Time: iso(now - DAY) };
    expect((await post(SECRET, deal)).status).toBe(200);
    expect(await current(dealId)).toMatchObject({ outcome: 'won', visitor_id: '', amount_minor: '500001' });

    const r = await fetch(`${collector.url}/api/reports/channels?from=${date(now - 10 * DAY)}&to=${date(now)}&model=last_non_direct&fresh=1`, {
      headers: { Authorization: `Bearer ${REPORTS}` },
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { rows: { key: string; won: number; revenue_minor: number }[] };
    expect(body.rows.find((x) => x.key === 'paid_search')).toMatchObject({ won: 1, revenue_minor: 500_001 });
    expect(body.rows.find((x) => x.key === '(unattributed)')?.revenue_minor ?? 0).toBe(0);
  });

  it('does not ignore a Leads notification (the channel subscribes Leads.all as well: crm-zoho.test.ts)', async () => {
    const r = await notify('Leads', ['5725767000005000099']);
    expect(await r.json()).toMatchObject({ ignored: 0 });
  });
});
