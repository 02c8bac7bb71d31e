// The CRM setup page in Chromium, opened as an admin reaches it: plain HTTP on
// a host name (crm-setup.test, mapped to loopback), the built collector with a
// CRM_CONFIG file, the real ClickHouse and Redis. amoCRM and Zoho are local
// stand-ins answering as the vendors do; every request the collector sends them
// is asserted exactly. The scenario: sign in; each source's statuses listed from
// where they are known (amoCRM's pipelines, Zoho's Stage and Lead_Status lists,
// an import's configuration and deliveries); statuses mapped, the funnel edited,
// a filter and a calculated field added and saved, then GET /crm/config shows
// exactly that; a refused save changes nothing; a delivery to the address the
// page shows is accepted, and what it could not use is listed with a way to map
// it. A screenshot is kept in test-results/crm-setup.png.
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';
import { amoLeadPairs, amoWebhookBody } from '../helpers/amocrm-webhook.js';
import { launchChromiumResolving } from '../helpers/browser-hosts.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { shape, startStandIn, type Recorded, type StandIn } from '../integration/crm-standin.js';

const HOST = 'crm-setup.test';
const ADMIN = 'crm-setup-admin-token-0123456789';
const AMO_SECRET = 'amo_setup_secret_0123456789';
const ZOHO_SECRET = 'zoho_setup_secret_0123456789';
const SHOP_SECRET = 'shop_setup_secret_0123456789';
const SALES = '9217056';
const WHOLESALE = '9217060';
const ACCOUNT = { id: '17769199', subdomain: 'apfitness' };
const CREDENTIALS = ['amo-client-secret-value', 'amo-refresh-0', 'zoho-client-secret-value', 'zoho-refresh-0', 'amo-access-1', 'zoho-access-1'];

/** A status of GET /api/v4/leads/pipelines, as amoCRM writes it. */
const amoStatus = (pipeline: number, id: number, name: string, sort: number, type = 0) => ({
  id,
  name,
  sort,
  is_editable: id !== 142 && id !== 143 && type === 0,
  pipeline_id: pipeline,
  color: '#99ccff',
  type,
  account_id: 17769199,
  _links: { self: { href: `https://apfitness.amocrm.ru/api/v4/leads/pipelines/${pipeline}/statuses/${id}` } },
});
const amoPipeline = (id: number, name: string, sort: number, statuses: ReturnType<typeof amoStatus>[]) => ({
  id,
  name,
  sort,
  is_main: sort === 1,
  is_unsorted_on: true,
  is_archive: false,
  account_id: 17769199,
  _links: { self: { href: `https://apfitness.amocrm.ru/api/v4/leads/pipelines/${id}` } },
  _embedded: { statuses },
});
const AMO_PIPELINES = {
  _total_items: 2,
  _links: { self: { href: 'https://apfitness.amocrm.ru/api/v4/leads/pipelines' } },
  _embedded: {
    pipelines: [
      amoPipeline(9217056, 'Продажи', 1, [
        amoStatus(9217056, 20067733, 'Неразобранное', 10, 1),
        amoStatus(9217056, 20067736, 'Первичный контакт', 20),
        amoStatus(9217056, 20067739, 'Переговоры', 30),
        amoStatus(9217056, 142, 'Успешно реализовано', 10000),
        amoStatus(9217056, 143, 'Закрыто и не реализовано', 11000),
      ]),
      amoPipeline(9217060, 'Опт', 2, [amoStatus(9217060, 30000001, 'Заявка', 20), amoStatus(9217060, 142, 'Успешно реализовано', 10000), amoStatus(9217060, 143, 'Закрыто и не реализовано', 11000)]),
    ],
  },
};
/** A pick list of GET /crm/v7/settings/fields, as Zoho writes it. */
const pick = (value: string, forecast?: string) => ({ display_value: value, actual_value: value, sequence_number: 1, ...(forecast ? { forecast_type: forecast, forecast_category: { name: forecast } } : {}) });
const ZOHO_FIELDS = {
  Deals: {
    fields: [
      { api_name: 'Deal_Name', data_type: 'text' },
      { api_name: 'Stage', data_type: 'picklist', pick_list_values: [pick('Qualification', 'Open'), pick('Negotiation', 'Open'), pick('Closed Won', 'Closed Won'), pick('Closed Lost', 'Closed Lost')] },
    ],
  },
  Leads: { fields: [{ api_name: 'Lead_Status', data_type: 'picklist', pick_list_values: [pick('-None-'), pick('Contacted'), pick('Junk Lead')] }] },
};

const CONFIG = (amoUrl: string, zohoUrl: string) => ({
  funnel: [{ stage: 'Request' }, { stage: 'Qualified' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }],
  sources: {
    amo: {
      kind: 'amocrm',
      secret: AMO_SECRET,
      account: ACCOUNT,
      api: { baseUrl: amoUrl, clientId: 'amo-client', clientSecret: 'amo-client-secret-value', redirectUri: 'https://collector.example/crm/amocrm/amo/oauth', refreshToken: 'amo-refresh-0' },
      pipelines: { [SALES]: { '20067736': 'Request' } },
    },
    zoho: {
      kind: 'zoho',
      secret: ZOHO_SECRET,
      api: { accountsUrl: zohoUrl, clientId: 'zoho-client', clientSecret: 'zoho-client-secret-value', refreshToken: 'zoho-refresh-0' },
      pipelines: { Standard: { Qualification: 'Qualified' } },
    },
    shop: { kind: 'import', secret: SHOP_SECRET, pipelines: { shop: { new: 'Request', paid: 'Won' } } },
  },
});

describe('CRM setup page', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let browser: Browser;
  let amo: StandIn;
  let zoho: StandIn;
  let dir: string;
  let page: Page;
  const errors: string[] = [];
  let amoPipelinesStatus = 200;
  /** The collector's address by host name: http://crm-setup.test:<port>. */
  const site = () => collector.url.replace('127.0.0.1', HOST);
  const auth = { Authorization: `Bearer ${ADMIN}` };
  const config = async () => {
    const res = await fetch(`${collector.url}/crm/config`, { headers: auth });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, any>;
  };
  const rows = (source: string) =>
    page.$$eval(`tr[data-source="${source}"][data-status]`, (trs) =>
      trs.map((tr) => [tr.getAttribute('data-pipeline'), tr.getAttribute('data-status'), tr.querySelector('td')!.innerText.split('\n')[0], tr.querySelector('td.from')!.textContent, tr.querySelector('td.seen')!.textContent]),
    );
  const row = (source: string, pipeline: string, status: string) => page.locator(`tr[data-source="${source}"][data-pipeline="${pipeline}"][data-status="${status}"]`);
  const chooseStage = (source: string, pipeline: string, status: string, stage: string) => row(source, pipeline, status).locator('select').selectOption({ label: stage });
  const save = async () => {
    const [res] = await Promise.all([page.waitForResponse((r) => r.url() === `${site()}/crm/setup` && r.request().method() === 'POST'), page.waitForNavigation(), page.click('#save')]);
    return res.status();
  };
  /** A POST from the page itself, to an address it shows: what a CRM does with the address pasted. */
  const postFromPage = (url: string, body: string, type: string) =>
    page.evaluate(
      async ([u, b, t]) => {
        const res = await fetch(u, { method: 'POST', body: b, headers: { 'Content-Type': t } });
        return { status: res.status, body: await res.json() };
      },
      [url, body, type] as const,
    );
  const requests = (s: StandIn) => s.requests.splice(0).map((r: Recorded) => shape(r));
  /** The page errors and console errors since the last call. */
  const takeErrors = () => errors.splice(0);
  /** What Chromium logs for a page served with an error status: the only console error a test expects. */
  const refusedPage = (status: string) => `console: Failed to load resource: the server responded with a status of ${status}`;

  beforeAll(async () => {
    db = await freshDatabase();
    amo = await startStandIn((r) => {
      if (r.method === 'POST' && r.path === '/oauth2/access_token') return { status: 200, json: { token_type: 'Bearer', expires_in: 86400, access_token: 'amo-access-1', refresh_token: 'amo-refresh-1' } };
      if (r.headers.authorization !== 'Bearer amo-access-1') return { status: 401, json: { title: 'Unauthorized', status: 401 } };
      if (r.method === 'GET' && r.path === '/api/v4/leads/pipelines') return amoPipelinesStatus === 200 ? { status: 200, json: AMO_PIPELINES } : { status: amoPipelinesStatus, json: { title: 'Service Unavailable' } };
      return { status: 404, json: { title: 'Not Found' } };
    });
    zoho = await startStandIn((r) => {
      if (r.method === 'POST' && r.path === '/oauth/v2/token') return { status: 200, json: { access_token: 'zoho-access-1', api_domain: zoho.url, token_type: 'Bearer', expires_in: 3600 } };
      if (r.headers.authorization !== 'Zoho-oauthtoken zoho-access-1') return { status: 401, json: { code: 'INVALID_TOKEN', status: 'error' } };
      const m = /^\/crm\/v7\/settings\/fields\?module=(Deals|Leads)$/.exec(r.path);
      return m ? { status: 200, json: ZOHO_FIELDS[m[1] as 'Deals' | 'Leads'] } : { status: 404, json: { code: 'INVALID_URL_PATTERN' } };
    });
    dir = await mkdtemp(join(tmpdir(), 'tl-crm-setup-'));
    await writeFile(join(dir, 'crm.json'), JSON.stringify(CONFIG(amo.url, zoho.url)));
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, CRM_CONFIG: join(dir, 'crm.json'), CRM_ADMIN_TOKEN: ADMIN, REDIS_PREFIX: `t_${db.name}:` });
    browser = await launchChromiumResolving([HOST]);
    page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
  });
  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    await Promise.all([amo?.close(), zoho?.close()]);
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('without CRM_ADMIN_TOKEN, says how to turn the page on', async () => {
    const bare = await freshDatabase();
    const off = await startCollector({ CLICKHOUSE_DATABASE: bare.name, REDIS_PREFIX: `t_${bare.name}:` });
    try {
      const res = await page.goto(`${off.url.replace('127.0.0.1', HOST)}/crm/setup`);
      expect(res!.status()).toBe(403);
      expect(await page.locator('#disabled').innerText()).toContain('Set CRM_ADMIN_TOKEN');
      const post = await fetch(`${off.url}/crm/setup`, { method: 'POST', body: 'x=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      expect(post.status).toBe(403);
      expect(takeErrors()).toEqual([refusedPage('403 (Forbidden)')]);
    } finally {
      await off.stop();
      await bare.drop();
    }
  });

  it('signs in with the token, then lists each source’s statuses from the CRM’s API, the deliveries and the configuration', async () => {
    const denied = await page.goto(`${site()}/crm/setup`);
    expect(denied!.status()).toBe(401);
    await page.fill('#token', 'not-the-admin-token-0123');
    await Promise.all([page.waitForURL(`${site()}/crm/setup/sign-in`), page.click('#sign-in')]);
    expect(await page.locator('#problem').innerText()).toBe('That is not the CRM admin token.');
    await page.fill('#token', ADMIN);
    await Promise.all([page.waitForURL(`${site()}/crm/setup`), page.click('#sign-in')]);
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'tl_crm_setup', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' })]);
    expect(cookies[0]!.value).not.toContain(ADMIN);

    // amoCRM: the token refreshed once, the pipelines read with it.
    expect(requests(amo)).toEqual([
      {
        method: 'POST',
        path: '/oauth2/access_token',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: 'amo-client', client_secret: 'amo-client-secret-value', grant_type: 'refresh_token', refresh_token: 'amo-refresh-0', redirect_uri: 'https://collector.example/crm/amocrm/amo/oauth' }),
      },
      { method: 'GET', path: '/api/v4/leads/pipelines', headers: { authorization: 'Bearer amo-access-1' }, body: '' },
    ]);
    expect(await page.locator('#source-amo .lists-note').innerText()).toBe('Pipelines and statuses read from amoCRM’s API just now.');
    expect(await rows('amo')).toEqual([
      [SALES, '20067733', 'Неразобранное', 'API', ''],
      [SALES, '20067736', 'Первичный контакт', 'API, configuration', ''],
      [SALES, '20067739', 'Переговоры', 'API', ''],
      [SALES, '142', 'Успешно реализовано', 'API', ''],
      [SALES, '143', 'Закрыто и не реализовано', 'API', ''],
      [WHOLESALE, '30000001', 'Заявка', 'API', ''],
      [WHOLESALE, '142', 'Успешно реализовано', 'API', ''],
      [WHOLESALE, '143', 'Закрыто и не реализовано', 'API', ''],
    ]);
    expect(await page.locator('table[data-pipeline="9217056"]').evaluate((t) => t.previousElementSibling!.textContent)).toBe('Pipeline “Продажи” (9217056)');
    expect(await row('amo', SALES, '142').locator('small').innerText()).toBe('won in the CRM: unmapped, it lands on the won stage');
    expect(await row('amo', SALES, '20067736').locator('select option:checked').innerText()).toBe('Request');

    // Zoho: the token, then the Stage list of Deals and the Lead_Status list of Leads.
    const zohoToken = { method: 'POST', path: '/oauth/v2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'refresh_token=zoho-refresh-0&client_id=zoho-client&client_secret=zoho-client-secret-value&grant_type=refresh_token' };
    const zohoField = (module: string) => ({ method: 'GET', path: `/crm/v7/settings/fields?module=${module}`, headers: { authorization: 'Zoho-oauthtoken zoho-access-1' }, body: '' });
    expect(requests(zoho)).toEqual([zohoToken, zohoField('Deals'), zohoField('Leads')]);
    expect(await page.locator('#source-zoho .lists-note').innerText()).toBe('Stages and lead statuses read from Zoho’s field lists (API) just now.');
    expect(await rows('zoho')).toEqual([
      ['Standard', 'Qualification', 'Qualification', 'API, configuration', ''],
      ['Standard', 'Negotiation', 'Negotiation', 'API', ''],
      ['Standard', 'Closed Won', 'Closed Won', 'API', ''],
      ['Standard', 'Closed Lost', 'Closed Lost', 'API', ''],
      ['Leads', '-None-', '-None-', 'API', ''],
      ['Leads', 'Contacted', 'Contacted', 'API', ''],
      ['Leads', 'Junk Lead', 'Junk Lead', 'API', ''],
    ]);

    // The import: what the configuration names, nothing delivered yet.
    expect(await page.locator('#source-shop .lists-note').innerText()).toBe('Listed are the statuses seen in this source’s deliveries and those in the configuration.');
    expect(await rows('shop')).toEqual([
      ['shop', 'new', 'new', 'configuration', ''],
      ['shop', 'paid', 'paid', 'configuration', ''],
    ]);
    expect(await page.locator('#deliveries').innerText()).toContain('No deliveries yet.');

    // The addresses to paste, built on the address the browser used; no secret is a field of the form.
    expect(await page.inputValue('#webhook-amo-amocrm')).toBe(`${site()}/crm/amocrm/amo/${AMO_SECRET}`);
    expect(await page.inputValue('#webhook-zoho-zohoDeals')).toBe(`${site()}/crm/zoho/zoho/${ZOHO_SECRET}`);
    expect(await page.inputValue('#webhook-zoho-zohoLeads')).toBe(`${site()}/crm/zoho/zoho/${ZOHO_SECRET}/leads`);
    expect(await page.inputValue('#webhook-zoho-zohoNotify')).toBe(`${site()}/crm/zoho/zoho/notify`);
    expect(await page.inputValue('#webhook-shop-importJson')).toBe(`${site()}/crm/import/shop/${SHOP_SECRET}/deals`);
    expect(await page.inputValue('#webhook-shop-importCsv')).toBe(`${site()}/crm/import/shop/${SHOP_SECRET}/deals.csv`);
    const form = await page.locator('#setup').evaluate((f) => f.outerHTML);
    for (const secret of [AMO_SECRET, ZOHO_SECRET, SHOP_SECRET, ADMIN]) expect(form).not.toContain(secret);
    const html = await page.content();
    for (const secret of [...CREDENTIALS, ADMIN]) expect(html).not.toContain(secret);
    expect(takeErrors()).toEqual([refusedPage('401 (Unauthorized)'), refusedPage('401 (Unauthorized)')]);
  });

  it('maps statuses, edits the funnel, adds a filter and a calculated field; the save is in force at once, exactly as entered', async () => {
    const before = await config();
    await chooseStage('amo', SALES, '20067739', 'Qualified');
    await chooseStage('amo', SALES, '142', 'Won');
    await chooseStage('amo', SALES, '143', 'Lost');
    await chooseStage('amo', WHOLESALE, '30000001', 'Request');
    await chooseStage('zoho', 'Standard', 'Negotiation', 'Qualified');
    await chooseStage('zoho', 'Leads', 'Contacted', 'Request');
    // A stage added in the same save is offered by its funnel row.
    await chooseStage('amo', WHOLESALE, '143', 'the new stage of funnel row 5');
    await page.fill('[name="stages.0.name"]', '1 Request');
    await page.fill('[name="stages.4.name"]', 'Refund');
    await page.selectOption('[name="stages.4.marker"]', 'returned');
    await page.fill('[name="stages.4.order"]', '3');
    await page.fill('[name="src.amo.filter.0.field"]', 'LANDING');
    await page.fill('[name="src.amo.filter.0.equals"]', 'site-1');
    await page.fill('[name="src.amo.calc.0.name"]', 'margin');
    await page.fill('[name="src.amo.calc.0.formula"]', 'amount - cost');
    await page.fill('[name="src.amo.calc.0.variables"]', 'cost = Себестоимость');
    await page.fill('[name="src.amo.keep"]', 'Source\nProduct');
    expect(await save()).toBe(303);
    expect(page.url()).toBe(`${site()}/crm/setup?saved=1`);
    expect(await page.locator('#saved').innerText()).toBe('Saved: the new configuration is in force.');

    const expected = structuredClone(before);
    expected.funnel = [{ stage: '1 Request' }, { stage: 'Qualified' }, { stage: 'Refund', marker: 'returned' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }];
    expected.sources.amo.pipelines = { [SALES]: { '20067736': '1 Request', '20067739': 'Qualified', '142': 'Won', '143': 'Lost' }, [WHOLESALE]: { '30000001': '1 Request', '143': 'Refund' } };
    expected.sources.amo.filters = [{ field: 'LANDING', equals: 'site-1' }];
    expected.sources.amo.keepFields = ['Source', 'Product'];
    expected.sources.amo.calculated = [{ name: 'margin', formula: 'amount - cost', variables: { cost: 'Себестоимость' } }];
    expected.sources.zoho.pipelines = { Standard: { Qualification: 'Qualified', Negotiation: 'Qualified' } };
    expected.sources.zoho.leadStatuses = { Contacted: '1 Request' };
    // The renamed stage takes its statuses along, in every source.
    expected.sources.shop.pipelines = { shop: { new: '1 Request', paid: 'Won' } };
    expect(await config()).toEqual(expected);
    // The page shows what is now in force.
    expect(await row('amo', SALES, '20067739').locator('select option:checked').innerText()).toBe('Qualified');
    expect(await page.inputValue('[name="stages.2.name"]')).toBe('Refund');

    // The amoCRM address shown is the one that answers, and the new mapping is in force for it at once.
    requests(amo);
    const webhook = await page.inputValue('#webhook-amo-amocrm');
    const lead = amoLeadPairs('status', 0, { id: '7001', status: '20067739', pipeline: SALES, oldStatus: '20067736', fields: [['501', 'LANDING', 'site-1'], ['502', 'tl_vid', 'HK7M9P']] });
    const delivered = await postFromPage(webhook, amoWebhookBody(ACCOUNT, lead), 'application/x-www-form-urlencoded');
    expect(delivered.status).toBe(200);
    expect(delivered.body).toMatchObject({ stored: 1, deals: 1, filtered: 0, refused: [], unusable: [] });
    expect(await db.rows(`SELECT stage, outcome FROM deals_current WHERE source = 'amo' AND deal_id = '7001'`)).toEqual([{ stage: 'Qualified', outcome: 'open' }]);
    expect(requests(amo)).toEqual([]);

    // So are Zoho's two workflow addresses: a deal's Stage and a lead's Lead_Status map as saved.
    const times = { Created_Time: '2026-03-01T09:00:00+03:00', Modified_Time: '2026-03-02T09:00:00+03:00' };
    const zohoDeal = { id: '5725767000003000064', Deal_Name: 'Deal Z', Stage: 'Negotiation', Pipeline: { name: 'Standard', id: '5725767000000091023' }, Amount: '1200.00', tl_vid: 'HK7M9P', ...times };
    const zohoLead = { id: '5725767000003000100', Lead_Status: 'Contacted', Last_Name: 'Ivanov', Email: 'lead@example.com', ...times };
    for (const [field, record] of [['#webhook-zoho-zohoDeals', zohoDeal], ['#webhook-zoho-zohoLeads', zohoLead]] as const) {
      const posted = await postFromPage(await page.inputValue(field), JSON.stringify({ data: [record] }), 'application/json');
      expect(posted.status).toBe(200);
      expect(posted.body).toMatchObject({ stored: 1, refused: [], warnings: [], unusable: [] });
    }
    expect(await db.rows(`SELECT deal_id, stage FROM deals_current WHERE source = 'zoho' ORDER BY deal_id`)).toEqual([
      { deal_id: '5725767000003000064', stage: 'Qualified' },
      { deal_id: 'lead-5725767000003000100', stage: '1 Request' },
    ]);
    expect(takeErrors()).toEqual([]);
  });

  it('refuses a save with two stages of one name and a formula that does not parse, showing why and keeping what was entered; nothing changes', async () => {
    const before = await config();
    await page.goto(`${site()}/crm/setup`);
    await page.fill('[name="stages.1.name"]', 'Won');
    await page.fill('[name="src.amo.calc.1.name"]', 'bad');
    await page.fill('[name="src.amo.calc.1.formula"]', 'amount +');
    expect(await save()).toBe(422);
    const problems = await page.locator('#problems li').allInnerTexts();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe('funnel.3: stage "Won" appears twice');
    expect(problems[1]).toMatch(/^sources\.amo\.calculated\.1: formula of "bad" does not parse: /);
    expect(await page.locator('#problems > p').innerText()).toBe('Not saved: the configuration in force stays as it was. What to fix:');
    expect(await page.inputValue('[name="stages.1.name"]')).toBe('Won');
    expect(await page.inputValue('[name="src.amo.calc.1.name"]')).toBe('bad');
    expect(await page.inputValue('[name="src.amo.calc.1.formula"]')).toBe('amount +');
    expect(await page.inputValue('[name="src.amo.calc.0.formula"]')).toBe('amount - cost');
    expect(await row('amo', SALES, '20067739').locator('select option:checked').innerText()).toBe('Won');
    expect(await config()).toEqual(before);
    expect(takeErrors()).toEqual([refusedPage('422 (Unprocessable Entity)')]);
  });

  it('lists a status an import delivered that the mapping lacks, shows the delivery’s unmapped record with a link to it, and maps it', async () => {
    await page.goto(`${site()}/crm/setup`);
    const json = await page.inputValue('#webhook-shop-importJson');
    const deal = { id: 'A-1', name: 'Order A-1', pipeline: 'shop', status: 'refunded', amount: '2499.90', updated_at: '2026-03-02T09:00:00Z', emails: ['buyer@example.com'] };
    const delivered = await postFromPage(json, JSON.stringify({ deals: [deal] }), 'application/json');
    expect(delivered.status).toBe(200);
    expect(delivered.body.unusable).toEqual([
      { record: 'A-1', reason: 'unmapped_status', detail: 'status "refunded" of pipeline "shop" maps to no funnel stage; stored with stage ""', pipeline: 'shop', status: 'refunded' },
    ]);
    const csv = await page.inputValue('#webhook-shop-importCsv');
    const csvDelivered = await postFromPage(csv, 'id,status,updated_at,pipeline,amount,email\nA-2,paid,2026-03-02T09:00:00Z,shop,100.00,b@example.com\n', 'text/csv');
    expect(csvDelivered.status).toBe(200);
    expect(csvDelivered.body).toMatchObject({ stored: 1, unusable: [] });

    await page.goto(`${site()}/crm/setup`);
    expect(await rows('shop')).toEqual([
      ['shop', 'new', 'new', 'configuration', ''],
      ['shop', 'paid', 'paid', 'configuration, deliveries', '1'],
      ['shop', 'refunded', 'refunded', 'deliveries', '1'],
    ]);
    expect(await row('shop', 'shop', 'refunded').getAttribute('class')).toBe('unseen-stage');
    // The deliveries, newest first: the CSV, the JSON with its unmapped record, Zoho's lead and deal, the amoCRM webhook.
    const deliveries = await page.$$eval('#deliveries-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1, 7).map((td) => td.textContent)));
    expect(deliveries).toEqual([
      ['shop', 'import', '1', '0', '0', '0'],
      ['shop', 'import', '1', '0', '0', '0'],
      ['zoho', 'zoho', '1', '0', '0', '0'],
      ['zoho', 'zoho', '1', '0', '0', '0'],
      ['amo', 'amocrm', '1', '0', '0', '0'],
    ]);
    const unmapped = page.locator('#deliveries-table tbody tr').nth(1).locator('li[data-reason="unmapped_status"]');
    expect(await unmapped.innerText()).toContain('A-1: unmapped_status — status "refunded" of pipeline "shop" maps to no funnel stage');
    await unmapped.locator('a.map-it').click();
    const target = await row('shop', 'shop', 'refunded').getAttribute('id');
    expect(page.url()).toBe(`${site()}/crm/setup#${target}`);
    await chooseStage('shop', 'shop', 'refunded', 'Refund');
    expect(await save()).toBe(303);
    expect((await config()).sources.shop.pipelines).toEqual({ shop: { new: '1 Request', paid: 'Won', refunded: 'Refund' } });
    expect(await row('shop', 'shop', 'refunded').getAttribute('class')).toBeNull();

    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-results', 'crm-setup.png'), fullPage: true });
    expect(takeErrors()).toEqual([]);
  });

  it('says why the CRM’s API could not be read, and lists the statuses seen in deliveries instead', async () => {
    amoPipelinesStatus = 503;
    requests(amo);
    try {
      await page.goto(`${site()}/crm/setup`);
      expect(requests(amo)).toEqual([{ method: 'GET', path: '/api/v4/leads/pipelines', headers: { authorization: 'Bearer amo-access-1' }, body: '' }]);
      expect(await page.locator('#source-amo .lists-note').innerText()).toBe(
        'The CRM’s API could not be read (amoCRM GET /api/v4/leads/pipelines answered 503). Listed instead: the statuses seen in deliveries and those in the configuration.',
      );
      // In the configuration's order (JSON keys that are numbers come in numeric order).
      expect(await rows('amo')).toEqual([
        [SALES, '142', '142', 'configuration', ''],
        [SALES, '143', '143', 'configuration', ''],
        [SALES, '20067736', '20067736', 'configuration', ''],
        [SALES, '20067739', '20067739', 'configuration, deliveries', '1'],
        [WHOLESALE, '143', '143', 'configuration', ''],
        [WHOLESALE, '30000001', '30000001', 'configuration', ''],
      ]);
      expect(takeErrors()).toEqual([]);
    } finally {
      amoPipelinesStatus = 200;
    }
  });

  it('refuses a save that is not from this session’s page, takes the Bearer token, speaks Russian, and signs out', async () => {
    const before = await config();
    const cookie = (await page.context().cookies()).find((c) => c.name === 'tl_crm_setup')!;
    const body = new URLSearchParams([['stages.0.name', 'Hijacked'], ['form_token', 'not-the-form-token']]).toString();
    const forged = await fetch(`${collector.url}/crm/setup`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `tl_crm_setup=${cookie.value}` } });
    expect(forged.status).toBe(403);
    const without = await fetch(`${collector.url}/crm/setup`, { method: 'POST', body: 'stages.0.name=Hijacked', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `tl_crm_setup=${cookie.value}` } });
    expect(without.status).toBe(403);
    expect(await config()).toEqual(before);
    const unsigned = await fetch(`${collector.url}/crm/setup`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(unsigned.status).toBe(401);

    const byHeader = await fetch(`${collector.url}/crm/setup`, { headers: auth });
    expect(byHeader.status).toBe(200);
    expect(byHeader.headers.get('cache-control')).toBe('no-store');
    expect(await byHeader.text()).toContain('id="setup"');

    await page.goto(`${site()}/crm/setup?lang=ru`);
    expect(await page.locator('h1').innerText()).toBe('Настройка CRM');
    expect(await page.locator('#save').innerText()).toBe('Сохранить');
    await page.goto(`${site()}/crm/setup`);
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    await page.goto(`${site()}/crm/setup?lang=en`);

    await Promise.all([page.waitForURL(`${site()}/crm/setup`), page.click('#sign-out')]);
    expect(await page.locator('#token').count()).toBe(1);
    expect((await page.context().cookies()).filter((c) => c.name === 'tl_crm_setup')).toEqual([]);
    expect(takeErrors()).toEqual([refusedPage('401 (Unauthorized)')]);
  });
});
