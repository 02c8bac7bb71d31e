// The whole loop, in real Chromium against `npm run demo` run as a user runs it
// (no sample, so the report's figures are the visitor's alone): a visitor lands
// from a paid VK campaign, browses, leaves the form; the demo's amoCRM stand-in
// creates the deal by amoCRM's webhook, carrying the hidden-field ids, and a
// second webhook wins it. The report puts the money on paid_social under every
// model; the demo's GA4 stand-in receives the purchase for the visitor's GA
// client id (the `_ga` cookie the site's gtag.js sets); and when the same
// visitor, with another deal open, comes back to the prices page, the site-visit
// trigger moves that deal forward through the amoCRM API stand-in, whose webhook
// of the move brings the new stage back to Throughline.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAMES } from '../../collector/src/attribution/models.js';
import { DEMO_AMO, DEMO_TRIGGER_PAGE } from '../../collector/src/sample/demo-crm.js';
import { launchChromiumResolving } from '../helpers/browser-hosts.js';
import { eventually } from '../helpers/clickhouse.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { signIn } from '../helpers/report-page.js';

const HOST = 'northwind.test';
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const LANDING = '?utm_source=vk&utm_medium=cpc&utm_campaign=spring';
const CHANNEL = 'paid_social';
const PRICE = '27500';
const WON_MINOR = 2_750_000;
/** The newsletter's link to the prices page (DEMO_TRIGGER_PAGE). */
const PRICES_LINK = `${DEMO_TRIGGER_PAGE}?utm_source=newsletter&utm_medium=email&utm_campaign=prices`;

/** A request a vendor stand-in received, as /sent-out lists it (newest first). */
type Received = { request: string; status: string; body: string };

describe('the loop closed: visit, deal, win, report, GA4 purchase, and a later visit moving another deal', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];
  const printed = (name: string) => new RegExp(`^\\s*${name}=([0-9a-f]{32})$`, 'm').exec(demo.output())?.[1] ?? '';
  const collector = () => `http://${HOST}:${demo.collectorPort}`;
  const site = () => `http://${HOST}:${demo.demoPort}`;

  /** What a stand-in received, read from the demo site's /sent-out page in the browser. */
  const received = async (table: 'ga4' | 'amocrm'): Promise<Received[]> => {
    const p = await context.newPage();
    await p.goto(`${site()}/sent-out`);
    const rows = await p.$$eval(`table#${table} tr`, (trs) =>
      trs.slice(1).map((tr) => {
        const td = [...tr.querySelectorAll('td')].map((c) => c.textContent ?? '');
        return { request: td[1]!, status: td[2]!, body: td[3]! };
      }),
    );
    await p.close();
    return rows;
  };

  /** The form on the landing, left and sent to the CRM; the new deal's id. */
  const leadToCrm = async (name: string): Promise<string> => {
    await page.goto(`${site()}/`);
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('input[name=tl_vid]')?.value ?? '') !== '');
    await page.fill('input[name=name]', name);
    await page.fill('input[name=phone]', '+7 916 000-33-44');
    await Promise.all([page.waitForURL(`${site()}/thanks.html`), page.click('button[type=submit]')]);
    // A person takes a moment before the call-back: the deal comes after the visit, to the second.
    await page.waitForTimeout(1100);
    await Promise.all([page.waitForURL(`${site()}/crm/send`), page.click('#send button[type=submit]')]);
    expect(await page.textContent('#crm-status')).toBe('200');
    return (await page.textContent('#deal-id'))!;
  };

  /** The deal's stage in Throughline now, through the SQL endpoint (its newest version). */
  const stageOf = async (deal: string): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${demo.collectorPort}/sql`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`demo:${printed('SQL_TOKEN')}`).toString('base64')}` },
      body: `SELECT argMax(stage, version) FROM deals WHERE source = '${DEMO_AMO.source}' AND deal_id = '${deal}' FORMAT TabSeparated`,
    });
    expect(r.status, await r.clone().text()).toBe(200);
    return (await r.text()).trim();
  };

  beforeAll(async () => {
    demo = await startDemo('journey', 'Ctrl-C stops', () => ({ DEMO_PUBLIC_HOST: HOST, DEMO_SAMPLE: 'off', TRIGGER_SCAN_SECONDS: '2' }));
    browser = await launchChromiumResolving([HOST]);
    context = await browser.newContext({ userAgent: USER_AGENT });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && errors.push(`console: ${m.text()} (${m.location().url})`));
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  let gaClientId = '';
  let wonDeal = '';

  it('lands from a paid campaign, browses, leaves the form: the deal is created by amoCRM\'s webhook with the hidden-field ids, then won', async () => {
    await page.goto(`${site()}/${LANDING}`);
    // The site's gtag.js (a stand-in) set _ga: GA1.1.<random>.<time>; the client id is its last two parts.
    const ga = (await context.cookies()).find((c) => c.name === '_ga')?.value ?? '';
    expect(ga).toMatch(/^GA1\.1\.\d+\.\d+$/);
    gaClientId = ga.split('.').slice(2).join('.');
    await page.click('a[href="/about.html"]');
    await page.waitForURL(`${site()}/about.html`);
    await page.click('a[href="/"]');
    await page.waitForURL(`${site()}/`);
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('input[name=tl_vid]')?.value ?? '') !== '');
    await page.fill('input[name=name]', 'Olga');
    await page.fill('input[name=phone]', '+7 916 000-33-44');
    await Promise.all([page.waitForURL(`${site()}/thanks.html`), page.click('button[type=submit]')]);
    const fields = JSON.parse((await page.textContent('#received'))!) as Record<string, string>;
    expect(fields).toMatchObject({ utm_source: 'vk', utm_medium: 'cpc', utm_campaign: 'spring' });
    const vid = fields.tl_vid!;
    expect(vid).toMatch(/^[2-9A-HJKMNP-Z]{6}$/);
    await page.waitForTimeout(1100);

    await Promise.all([page.waitForURL(`${site()}/crm/send`), page.click('#send button[type=submit]')]);
    expect(await page.textContent('#crm-status')).toBe('200');
    const webhook = (await page.textContent('#webhook'))!;
    // The webhook carries the hidden fields' ids as the lead's custom fields: the visitor id and the GA client id among them.
    expect(webhook).toMatch(new RegExp(`^leads\\[add\\]\\[0\\]\\[custom_fields\\]\\[\\d+\\]\\[values\\]\\[0\\]\\[value\\]=${vid}$`, 'm'));
    expect(webhook).toMatch(new RegExp(`^leads\\[add\\]\\[0\\]\\[custom_fields\\]\\[\\d+\\]\\[values\\]\\[0\\]\\[value\\]=${gaClientId.replace('.', '\\.')}$`, 'm'));
    wonDeal = (await page.textContent('#deal-id'))!;

    await page.fill('input[name=price]', PRICE);
    await Promise.all([page.waitForURL(`${site()}/crm/won`), page.click('#won button[type=submit]')]);
    expect(await page.textContent('#crm-status')).toBe('200');
    expect(await page.textContent('#webhook')).toContain('leads[status][0][status_id]=142\n');
  }, 90_000);

  it('the report shows the revenue on the paid channel under every model', async () => {
    const report = await context.newPage();
    await report.goto(`${collector()}/reports`);
    await signIn(report, collector(), printed('REPORTS_TOKEN'));
    const cells = () =>
      report.$$eval(`table#models tr[data-key="${CHANNEL}"] td[data-model]`, (tds) => Object.fromEntries(tds.map((td) => [td.getAttribute('data-model'), Number(td.getAttribute('data-minor'))])));
    const expected = Object.fromEntries(MODEL_NAMES.map((m) => [m, WON_MINOR]));
    await eventually(
      async () => {
        await report.goto(`${collector()}/reports?view=models&from=&to=`);
        return cells();
      },
      60_000,
      (shown) => JSON.stringify(shown) === JSON.stringify(expected),
    );
    expect(await cells()).toEqual(expected);
    await report.close();
  }, 90_000);

  it('GA4 received the purchase for the visitor\'s client id, with the deal as its transaction', async () => {
    // The won page links to what was sent out.
    expect(await page.getAttribute('#sent-out', 'href')).toBe('/sent-out');
    const purchases = await eventually(() => received('ga4'), 60_000, (rows) => rows.length > 0);
    expect(purchases).toHaveLength(1);
    expect(purchases[0]!.request).toBe('POST /stand-in/ga4/mp/collect?measurement_id=G-DEMOSTANDIN&api_secret=…');
    expect(purchases[0]!.status).toBe('204');
    const body = JSON.parse(purchases[0]!.body) as { client_id: string; timestamp_micros: number; events: unknown[] };
    expect(body).toEqual({
      client_id: gaClientId,
      timestamp_micros: expect.any(Number),
      events: [{ name: 'purchase', params: { transaction_id: `${DEMO_AMO.source}:${wonDeal}`, value: Number(PRICE), currency: 'RUB' } }],
    });
    // At the win, to the second (the win's webhook carried its time).
    expect(Math.abs(body.timestamp_micros / 1e6 - Date.now() / 1000)).toBeLessThan(120);
  }, 90_000);

  it('a later visit to the prices page moves the visitor\'s other open deal forward through amoCRM\'s API, and only that deal', async () => {
    const open = await leadToCrm('Olga again');
    expect(await stageOf(open)).toBe(DEMO_AMO.statuses[DEMO_AMO.firstStatus]);
    expect(await received('amocrm')).toEqual([]);
    await page.waitForTimeout(1100);
    // The visitor comes back by the studio's newsletter, straight to the prices: a new visit (a landing
    // with a campaign is one at once; a page opened within 10 minutes of the last visit is not a visit).
    await page.goto(`${site()}${PRICES_LINK}`);

    const moves = await eventually(() => received('amocrm'), 60_000, (rows) => rows.length > 0);
    expect(moves).toEqual([
      {
        request: 'PATCH /stand-in/amocrm/api/v4/leads',
        status: '200',
        body: JSON.stringify([{ id: Number(open), status_id: Number(DEMO_AMO.proposal), pipeline_id: Number(DEMO_AMO.pipeline) }]),
      },
    ]);
    // amoCRM's webhook of the move brought the new stage back; the won deal stays won.
    expect(await eventually(() => stageOf(open), 30_000, (s) => s === '3 Proposal')).toBe('3 Proposal');
    expect(await stageOf(wonDeal)).toBe('Paid');
    // The trigger does not move it again on the next visit (it is no longer behind "3 Proposal").
    await page.goto(`${site()}${PRICES_LINK}&utm_content=again`);
    await page.waitForTimeout(5000);
    expect(await received('amocrm')).toHaveLength(1);
    expect(errors).toEqual([]);
  }, 120_000);
});
