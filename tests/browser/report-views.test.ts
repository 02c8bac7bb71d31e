// The report page's other views in Chromium, on plain HTTP on a host name: the
// funnel (passed, refused and conversions per stage, for all channels and one
// picked) and the six models side by side, on the scenario of
// helpers/report-scenario.ts; then the empty states of a fresh installation (no
// visits: the tracker's line; visits but no deals: the CRM setup; no costs: the
// upload), reports turned off (503) and a report that fails (500), each a page.
// Screenshots at 1400 and 390 px wide in test-results/.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_NAMES } from '../../collector/src/attribution/models.js';
import { eventually, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { newEventId, newVisitorId } from '../helpers/ids.js';
import { screenshot, signIn, watchedPage, startReportStand, type ReportStand } from '../helpers/report-page.js';
import { TOKEN } from '../helpers/report-scenario.js';

const HOST = 'views.test';
const MARCH = 'from=2026-03-01&to=2026-03-31';

type Row = { key: string; revenue_minor: number; won: number };

describe('report views on the scenario', () => {
  let collector: RunningCollector;
  let browser: Browser;
  const site = () => collector.url.replace('127.0.0.1', HOST);

  let stand: ReportStand;
  beforeAll(async () => {
    stand = await startReportStand(HOST, { scenario: true });
    ({ collector, browser } = stand);
  });
  afterAll(async () => {
    await stand?.stop();
  });

  it('draws the funnel: passed, refused and conversions per stage, for all channels and for one picked', async () => {
    for (const width of [1400, 390]) {
      const { page, errors, close } = await watchedPage(browser, { width });
      await signIn(page, site(), TOKEN);
      await page.goto(`${site()}/reports?view=funnel&${MARCH}`);
      const stages = () =>
        page.locator('#funnel tbody tr').evaluateAll((rows) =>
          rows.map((r) => [r.getAttribute('data-stage'), ...['passed', 'refused', 'from_previous', 'from_first'].map((c) => r.querySelector(`td[data-col="${c}"]`)!.textContent)]),
        );
      // Last non-direct click, March: D1, D2, D4 (returned) and D5 passed every stage; D3 was lost at "qualified".
      expect(await page.locator('#funnel-view h2').innerText()).toBe('Funnel: All together');
      expect(await stages()).toEqual([
        ['lead', '5', '0', '—', '100%'],
        ['qualified', '5', '1', '100%', '100%'],
        ['proposal', '4', '0', '80%', '80%'],
        ['won', '4', '0', '100%', '80%'],
      ]);
      expect(await page.locator('#funnel tr[data-stage="proposal"] td[data-col="from_first"]').getAttribute('data-value')).toBe('0.8');
      // The drawing: one bar per stage, as wide as its share of the widest.
      const bars = await page.locator('#funnel-chart rect[data-stage]').evaluateAll((rects) => rects.map((r) => [r.getAttribute('data-stage'), r.getAttribute('width')]));
      expect(bars).toEqual([['lead', '100.00%'], ['qualified', '100.00%'], ['proposal', '80.00%'], ['won', '80.00%']]);
      expect(await page.locator('#funnel-chart text:has(.refused)').textContent()).toBe('qualified — 5 passed · 100% · 1 refused');
      await screenshot(page, `report-funnel-${width}`);

      // One channel, picked in the form: D3 came by a paid VK ad and was lost at "qualified".
      await page.selectOption('#channel', 'paid_social');
      await Promise.all([page.waitForURL(/channel=paid_social/), page.click('#apply')]);
      expect(await page.locator('#funnel-view h2').innerText()).toBe('Funnel: Paid social');
      expect(await stages()).toEqual([
        ['lead', '1', '0', '—', '100%'],
        ['qualified', '1', '1', '100%', '100%'],
        ['proposal', '0', '0', '0%', '0%'],
        ['won', '0', '0', '—', '0%'],
      ]);
      // Under linear, D3 is shared half and half with the referral visit before the ad.
      await page.selectOption('#model', 'linear');
      await Promise.all([page.waitForURL(/model=linear/), page.click('#apply')]);
      expect(await page.locator('#funnel tr[data-stage="qualified"] td[data-col="refused"]').innerText()).toBe('0.5');
      expect(errors).toEqual([]);
      await close();
    }
  });

  it('sets the six models side by side, each equal to the API of that model', async () => {
    for (const width of [1400, 390]) {
      const { page, errors, close } = await watchedPage(browser, { width });
      await signIn(page, site(), TOKEN);
      await page.goto(`${site()}/reports?view=models&${MARCH}`);
      expect(await page.locator('table#models thead th[data-model]').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-model')))).toEqual(MODEL_NAMES);
      for (const model of MODEL_NAMES) {
        const api = await fetch(`${collector.url}/api/reports/channels?model=${model}&${MARCH}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
        const body = (await api.json()) as { rows: Row[]; totals: Row };
        expect(body.rows.length).toBeGreaterThan(4);
        for (const row of [...body.rows, body.totals]) {
          const td = page.locator(`table#models tr[data-key="${row.key}"] td[data-model="${model}"]`);
          expect(await td.getAttribute('data-minor'), `${model} ${row.key}`).toBe(String(row.revenue_minor));
          expect(await td.getAttribute('data-won'), `${model} ${row.key}`).toBe(String(row.won));
        }
        expect(await page.locator(`table#models tbody td[data-model="${model}"]`).count()).toBe(body.rows.length);
      }
      // The hand-worked figures (tests/integration/report.test.ts): D1's 70 000.00 by each model.
      const text = (key: string, model: string) => page.locator(`table#models tr[data-key="${key}"] td[data-model="${model}"] .v`).innerText();
      expect(await text('paid_search', 'first_click')).toBe('₽70,000.00');
      expect(await text('direct', 'last_click')).toBe('₽70,000.00');
      expect(await text('direct', 'time_decay')).toBe('₽60,000.00');
      expect(await text('paid_search', 'position_based')).toBe('₽28,000.00');
      expect(await page.locator('table#models tr[data-key="paid_search"] th').innerText()).toBe('Paid search');
      expect(await page.locator('#model').count()).toBe(0); // every model is shown: no model to pick
      await screenshot(page, `report-models-${width}`);
      expect(errors).toEqual([]);
      await close();
    }
  });
});

describe('report pages of a fresh installation', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let browser: Browser;
  const site = () => collector.url.replace('127.0.0.1', HOST);

  let stand: ReportStand;
  beforeAll(async () => {
    stand = await startReportStand(HOST, { scenario: false });
    ({ db, collector, browser } = stand);
  });
  afterAll(async () => {
    await stand?.stop();
  });

  it('says what to do next: paste the tracker, then connect a CRM and upload costs', async () => {
    for (const width of [1400, 390]) {
      const { page, errors, close } = await watchedPage(browser, { width });
      await signIn(page, site(), TOKEN);
      // No visits at all: the tracker's one line, loaded from this collector.
      expect(await page.locator('#snippet').textContent()).toBe(`<script async src="${site()}/t.js" data-site="my-site"></script>`);
      expect(await page.locator('#hint-crm, #hint-costs, #report').count()).toBe(0);
      await screenshot(page, `report-empty-${width}`);
      // No funnel configured: the funnel view says where stages come from.
      await page.goto(`${site()}/reports?view=funnel`);
      expect(await page.locator('#hint-stages a').getAttribute('href')).toBe('/crm/setup');
      expect(errors).toEqual([]);
      await close();
    }

    // A visit arrives, as the tracker sends it.
    const hit = { s: 'shop', k: 'visit', e: newEventId(), t: Date.now(), u: 'https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=brand', r: '', g: '', y: '', v: newVisitorId() };
    expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: JSON.stringify(hit), headers: { 'Content-Type': 'text/plain' } })).status).toBe(204);
    expect(await eventually(() => db.rows<{ n: string }>('SELECT count() AS n FROM hits'), 10_000, (r) => Number(r[0]?.n) === 1)).toEqual([{ n: '1' }]);

    for (const width of [1400, 390]) {
      const { page, errors, close } = await watchedPage(browser, { width });
      await signIn(page, site(), TOKEN);
      // Visits but no deals: connect a CRM; no costs: how to upload them.
      expect(await page.locator('#hint-tracker').count()).toBe(0);
      expect(await page.locator('#crm-setup').getAttribute('href')).toBe('/crm/setup');
      expect(await page.locator('#costs-command').textContent()).toContain(`--data-binary @costs.csv ${site()}/api/costs`);
      expect(await page.locator('#report tr[data-key="paid_search"] td[data-col="visits"]').innerText()).toBe('1');
      await screenshot(page, `report-no-deals-${width}`);
      expect(errors).toEqual([]);
      await close();
    }
  });

  it('answers with a page when reports are turned off (503) and when a report fails (500)', async () => {
    const off = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100' });
    try {
      const { page, errors, close } = await watchedPage(browser, { locale: 'ru-RU', statuses: [503] });
      const r = await page.goto(`${off.url.replace('127.0.0.1', HOST)}/reports`);
      expect(r!.status()).toBe(503);
      expect(await page.getAttribute('html', 'lang')).toBe('ru');
      expect(await page.locator('#problem-page').getAttribute('data-problem')).toBe('disabled');
      expect(await page.locator('#todo').innerText()).toMatch(/REPORTS_TOKEN/);
      await screenshot(page, 'report-disabled-1400');
      expect(errors).toEqual([]);
      await close();
      const api = await fetch(`${off.url}/api/reports/channels`);
      expect(api.status).toBe(503);
      expect(await api.json()).toMatchObject({ error: 'reports_disabled' });
    } finally {
      await off.stop();
    }

    // A table the report reads is gone: the report fails, and the page says so.
    const { page, errors, close } = await watchedPage(browser, { statuses: [500, 401] });
    await signIn(page, site(), TOKEN);
    await db.client.command({ query: `DROP TABLE ${db.name}.costs` });
    const failed = await page.goto(`${site()}/reports`);
    expect(failed!.status()).toBe(500);
    expect(await page.locator('#problem-page').getAttribute('data-problem')).toBe('failed');
    expect(await page.locator('h1').innerText()).toBe('The report failed');
    expect(collector.output()).toMatch(/report failed/);
    expect(errors).toEqual([]);
    await close();
  });
});
