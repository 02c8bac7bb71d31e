// `npm run demo` tells the whole story on its own: run as a user runs it (its own
// ports, engine directory, database, Redis prefix and data/demo directory), it
// prints the report's URL, its tokens and the sample note; a visitor in Chromium,
// on plain HTTP under a host name, lands from a VK ad, leaves the form, sends
// the lead to the demo's CRM and marks it won; the report page, signed in with
// the printed token, then shows that money on the landing's channel under every
// model, over the sample's own; and npm run demo:clear-sample removes the
// sample's revenue and leaves the visitor's.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAMES } from '../../collector/src/attribution/models.js';
import { ROOT } from '../../collector/src/paths.js';
import { demoCrmConfig } from '../../collector/src/sample/demo-crm.js';
import { CRM_ID_FIELDS } from '../../contract/fields.js';
import { launchChromiumResolving } from '../helpers/browser-hosts.js';
import { eventually } from '../helpers/clickhouse.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';
import { signIn } from '../helpers/report-page.js';

/** The name the pages and printed URLs use (DEMO_PUBLIC_HOST): Chromium resolves it to this machine. */
const HOST = 'northwind.test';
// A visitor's Chrome (the demo keeps the bot filter on, as production does).
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
/** The landing's channel: a VK ad (utm_medium=cpc on a social network). */
const LANDING = '?utm_source=vk&utm_medium=cpc&utm_campaign=spring';
const CHANNEL = 'paid_social';
/** What the coach sold, in whole roubles as the CRM's price, and in kopecks as the report counts. */
const PRICE = '31337';
const WON_MINOR = 3_133_700;

type Row = { key: string; visits: number; revenue_minor: number };

describe('npm run demo tells the whole story', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let out = '';
  let collectorPort: number;
  let demoPort: number;
  let demoData: string;
  const printed = (name: string) => new RegExp(`^\\s*${name}=([0-9a-f]{32})$`, 'm').exec(out)?.[1] ?? '';
  const collector = () => `http://${HOST}:${collectorPort}`;
  const site = () => `http://${HOST}:${demoPort}`;

  /** Revenue per channel under `model`, from the API, over the data as it is now. */
  const revenue = async (model: string): Promise<Record<string, number>> => {
    const r = await fetch(`http://127.0.0.1:${collectorPort}/api/reports/channels?model=${model}&fresh=1`, { headers: { Authorization: `Bearer ${printed('REPORTS_TOKEN')}` } });
    expect(r.status, await r.clone().text()).toBe(200);
    const rows = ((await r.json()) as { rows: Row[] }).rows;
    return Object.fromEntries(rows.filter((x) => x.revenue_minor !== 0).map((x) => [x.key, x.revenue_minor]));
  };
  const everyModel = async () => Object.fromEntries(await Promise.all(MODEL_NAMES.map(async (m) => [m, await revenue(m)] as const)));

  beforeAll(async () => {
    demo = await startDemo('story', 'Ctrl-C stops', () => ({ DEMO_PUBLIC_HOST: HOST }));
    ({ collectorPort, demoPort, demoData } = demo);
    out = demo.output();
    browser = await launchChromiumResolving([HOST]);
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('prints the report URL, the tokens kept in its data directory, the CRM setup and the sample note', () => {
    expect(out).toContain(`report:      ${collector()}/reports`);
    expect(out).toContain(`site:        ${site()}/${LANDING}`);
    expect(out).toContain(`CRM setup:     ${collector()}/crm/setup`);
    expect(out).toContain('Sample data (loaded now): four months of visits, leads, deals and costs, marked as the sample');
    expect(out).toContain('npm run demo:clear-sample');
    expect(out).toContain(`xdg-open '${collector()}/reports'`);
    expect(out).not.toMatch(/^\s*open /m);
    // Generated once and kept: a restarted demo reads them back (scripts/demo.sh).
    const kept = readFileSync(join(demoData, 'demo.env'), 'utf8');
    for (const name of ['REPORTS_TOKEN', 'CRM_ADMIN_TOKEN', 'SQL_TOKEN']) {
      expect(printed(name)).toMatch(/^[0-9a-f]{32}$/);
      expect(kept).toContain(`\n${name}=${printed(name)}\n`);
    }
    const secret = (name: string) => new RegExp(`^${name}=(\\w+)$`, 'm').exec(kept)![1]!;
    expect(JSON.parse(readFileSync(join(demoData, 'crm.json'), 'utf8'))).toEqual(
      JSON.parse(
        JSON.stringify(
          demoCrmConfig({
            amoSecret: secret('AMO_SECRET'),
            importSecret: secret('IMPORT_SECRET'),
            // The amoCRM source reaches the demo site's API stand-in from this machine.
            amoApi: { baseUrl: `http://127.0.0.1:${demoPort}/stand-in/amocrm`, token: secret('AMO_TOKEN'), site: `http://127.0.0.1:${demoPort}` },
          }),
        ),
      ),
    );
  });

  it('turns a visit from a VK ad into revenue on its channel under every model: form, CRM, won, the report', async () => {
    const before = await everyModel();
    for (const m of MODEL_NAMES) expect([m, before[m]![CHANNEL]]).toEqual([m, expect.any(Number)]);

    const context = await browser.newContext({ userAgent: USER_AGENT });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    // The report's sign-in form is a 401 page: Chromium's line about that answer is no error.
    page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && errors.push(`console: ${m.text()} (${m.location().url})`));

    await page.goto(`${site()}/${LANDING}`);
    const landedAt = Date.now();
    // The tracker fills the form's hidden fields, the visitor id once the collector has given it.
    await page.waitForFunction(() => (document.querySelector<HTMLInputElement>('input[name=tl_vid]')?.value ?? '') !== '');
    await page.fill('input[name=name]', 'Ivan');
    await page.fill('input[name=phone]', '+7 916 000-11-22');
    await page.fill('input[name=email]', 'ivan@example.ru');
    await Promise.all([page.waitForURL(`${site()}/thanks.html`), page.click('button[type=submit]')]);
    const received = JSON.parse((await page.textContent('#received'))!) as Record<string, string>;
    const vid = received.tl_vid!;
    expect(vid).toMatch(/^[2-9A-HJKMNP-Z]{6}$/);
    expect(received).toMatchObject({ name: 'Ivan', utm_source: 'vk', utm_medium: 'cpc', utm_campaign: 'spring' });
    // The page shows the ids under the names the CRM side reads with no configuration.
    for (const id of ['visitor_id', 'utm_source', 'utm_medium', 'utm_campaign'] as const) expect(received[CRM_ID_FIELDS[id][0]!]).toBeTruthy();

    // A person takes a moment before the call-back: the deal is created after the visit, to the second.
    await new Promise((r) => setTimeout(r, Math.max(0, landedAt + 1100 - Date.now())));
    await Promise.all([page.waitForURL(`${site()}/crm/send`), page.click('#send button[type=submit]')]);
    expect(await page.textContent('#crm-status')).toBe('200');
    expect(JSON.parse((await page.textContent('#crm-answer'))!)).toMatchObject({ stored: 1, deals: 1, refused: [], unusable: [] });
    expect(await page.textContent('#webhook')).toMatch(new RegExp(`^leads\\[add\\]\\[0\\]\\[custom_fields\\]\\[\\d+\\]\\[values\\]\\[0\\]\\[value\\]=${vid}$`, 'm'));
    const deal = (await page.textContent('#deal-id'))!;

    await page.fill('input[name=price]', PRICE);
    await Promise.all([page.waitForURL(`${site()}/crm/won`), page.click('#won button[type=submit]')]);
    expect(await page.textContent('#crm-status')).toBe('200');
    expect(JSON.parse((await page.textContent('#crm-answer'))!)).toMatchObject({ stored: 1, deals: 1, refused: [], unusable: [] });
    expect(await page.textContent('#webhook')).toContain(`leads[status][0][id]=${deal}\n`);
    expect(await page.textContent('#webhook')).toContain('leads[status][0][status_id]=142\n');

    // The link to the report: its sign-in form, then the page with the printed token.
    await page.click('#report');
    await signIn(page, collector(), printed('REPORTS_TOKEN'));
    const cells = (p: Page) =>
      p.$$eval(`table#models tr[data-key="${CHANNEL}"] td[data-model]`, (tds) => Object.fromEntries(tds.map((td) => [td.getAttribute('data-model'), Number(td.getAttribute('data-minor'))])));
    const expected = Object.fromEntries(MODEL_NAMES.map((m) => [m, before[m]![CHANNEL]! + WON_MINOR]));
    await eventually(
      async () => {
        // The models side by side over all time (the page's "all time" period), as the API's figures are.
        const answer = await page.goto(`${collector()}/reports?view=models&from=&to=`);
        expect(answer!.status()).toBe(200);
        return cells(page);
      },
      60_000,
      (shown) => JSON.stringify(shown) === JSON.stringify(expected),
    );
    expect(await cells(page)).toEqual(expected);
    // The page says that sample data is among its figures.
    expect(await page.textContent('#hint-sample')).toContain('npm run demo:clear-sample');
    // The API says the same, model by model: the visit's channel gained the won amount, every other channel nothing.
    const after = await everyModel();
    for (const m of MODEL_NAMES) expect([m, after[m]]).toEqual([m, { ...before[m], [CHANNEL]: before[m]![CHANNEL]! + WON_MINOR }]);
    expect(errors).toEqual([]);
    await context.close();
  }, 150_000);

  it('npm run demo:clear-sample removes the sample and leaves the visitor\'s own revenue', async () => {
    const cleared = spawnSync('npm', ['run', '--silent', 'demo:clear-sample'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, DEMO_DATA: demoData } });
    expect(cleared.stderr).toBe('');
    expect(cleared.status).toBe(0);
    expect(cleared.stdout).toMatch(/^\[demo\] sample removed \(rows per table: \{"removed":\{"hits":\d+,"deals":\d+,"identity_links":\d+,"costs":\d+\}\}\)/);
    for (const m of MODEL_NAMES) expect([m, await revenue(m)]).toEqual([m, { [CHANNEL]: WON_MINOR }]);
    const page = await fetch(`http://127.0.0.1:${collectorPort}/reports?view=models&from=&to=`, { headers: { Authorization: `Bearer ${printed('REPORTS_TOKEN')}` } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('id="models"');
    expect(html).not.toContain('hint-sample');
    // Cleared for good: a restarted demo does not load it again.
    expect(readFileSync(join(demoData, 'demo.env'), 'utf8')).toContain('\nDEMO_SAMPLE=off\n');
  });
});
