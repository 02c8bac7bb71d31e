// The report page in Chromium, opened as users reach it: plain HTTP on a host
// name (reports.test, mapped to loopback). The scenario of
// helpers/report-scenario.ts, a sign-in with the token, the model and period
// picked in the form, the numbers read from the table, and a screenshot kept in
// test-results/report-page.png.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';
import { launchChromiumResolving } from '../helpers/browser-hosts.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { COSTS_CSV, IDENTITY_KEY, loadScenarioCrm, loadScenarioVisits, scenarioFunnel, TOKEN, SCENARIO_COLLECTOR_ENV } from '../helpers/report-scenario.js';

const HOST = 'reports.test';

describe('report page', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let browser: Browser;
  /** The collector's address by host name: http://reports.test:<port>. */
  const site = () => collector.url.replace('127.0.0.1', HOST);

  beforeAll(async () => {
    db = await freshDatabase();
    await loadScenarioCrm(db.client);
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REPORTS_TOKEN: TOKEN, IDENTITY_KEY, ...SCENARIO_COLLECTOR_ENV, ...scenarioFunnel() });
    await loadScenarioVisits(collector.url, db);
    const up = await fetch(`${collector.url}/api/costs`, { method: 'POST', body: COSTS_CSV, headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${TOKEN}` } });
    expect(up.status).toBe(200);
    browser = await launchChromiumResolving([HOST]);
  });
  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    await db?.drop();
  });

  it('13. signs in over plain HTTP on a host name, then shows the channel table for the picked model and period, with a chart', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));

    const denied = await page.goto(`${site()}/reports`);
    expect(denied!.status()).toBe(401);
    await page.fill('#token', TOKEN);
    await Promise.all([page.waitForURL(`${site()}/reports`), page.click('#sign-in')]);
    expect(await page.locator('#model').inputValue()).toBe('last_non_direct');
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/' })]);
    expect(cookies[0]!.value).not.toContain(TOKEN);

    await page.selectOption('#model', 'linear');
    await page.fill('#from', '2026-03-01');
    await page.fill('#to', '2026-03-31');
    await Promise.all([page.waitForURL(/model=linear/), page.click('#apply')]);
    expect(page.url().startsWith(`${site()}/reports?`)).toBe(true);

    const cell = (key: string, col: string) => page.locator(`tr[data-key="${key}"] td[data-col="${col}"]`).innerText();
    expect(await page.locator('#model').inputValue()).toBe('linear');
    expect(await page.locator('#summary').innerText()).toMatch(/Linear, deals created 2026-03-01 – 2026-03-31/);
    // The resolution behind the figures, with its time and freshness.
    expect(await page.locator('#resolution').innerText()).toMatch(/^Identities resolved \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\).*: the figures include every hit, deal and link stored\.$/);
    expect(await page.locator('#resolution').getAttribute('data-current')).toBe('true');
    expect(await cell('direct', 'revenue')).toBe('46666.67');
    expect(await cell('paid_search', 'revenue')).toBe('23333.33');
    expect(await cell('organic_search', 'revenue')).toBe('15000.01');
    expect(await cell('social', 'revenue')).toBe('15000.00');
    expect(await cell('(unattributed)', 'revenue')).toBe('5000.00');
    expect(await cell('paid_search', 'cost')).toBe('3000.00');
    expect(await cell('(total)', 'revenue')).toBe('105000.01');
    expect(await cell('paid_social', 'refused:qualified')).toBe('0.5');
    expect(await page.locator('#chart rect').count()).toBeGreaterThan(4);

    // Another period: February has only the unattributed D6 and February's costs.
    await page.fill('#from', '2026-02-01');
    await page.fill('#to', '2026-02-28');
    await page.selectOption('#model', 'first_click');
    await Promise.all([page.waitForURL(/from=2026-02-01/), page.click('#apply')]);
    expect(await cell('(unattributed)', 'revenue')).toBe('10000.00');
    expect(await cell('paid_search', 'cost')).toBe('999.99');

    await page.goto(`${site()}/reports?model=linear&from=2026-03-01&to=2026-03-31`);
    // Nothing the page sent or was sent to carried the token; the page itself never held it.
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(await page.content()).not.toContain(TOKEN);
    const dir = join(ROOT, 'test-results');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'report-page.png'), fullPage: true });

    // Signing out forgets the cookie: the page asks to sign in again.
    await Promise.all([page.waitForURL(`${site()}/reports`), page.click('#sign-out')]);
    expect(await page.locator('#token').count()).toBe(1);
    expect(await page.context().cookies()).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
