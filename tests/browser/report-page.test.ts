// The report page in Chromium, opened as users reach it: plain HTTP on a host
// name (reports.test, mapped to loopback). The scenario of
// helpers/report-scenario.ts, a sign-in with the token, the model and period
// picked in the form; the overview's figures (money with its currency, channels
// by name, the chart's axis and values, the change against the previous
// period), the CSV download, an error page, and the page in Russian and in
// English. Screenshots of each at 1400 and 390 px wide in test-results/.
import type { Browser, Page } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../helpers/collector.js';
import { screenshot, signIn, watchedPage, startReportStand, type ReportStand } from '../helpers/report-page.js';
import { TOKEN } from '../helpers/report-scenario.js';

const HOST = 'reports.test';
const MARCH = 'from=2026-03-01&to=2026-03-31';
/** Intl's Russian money: a no-break space between thousands and before the sign. */
const NBSP = '\u00a0';

describe('report page', () => {
  let collector: RunningCollector;
  let browser: Browser;
  /** The collector's address by host name: http://reports.test:<port>. */
  const site = () => collector.url.replace('127.0.0.1', HOST);
  const cell = (page: Page, key: string, col: string) => page.locator(`#report tr[data-key="${key}"] td[data-col="${col}"]`);

  let stand: ReportStand;
  beforeAll(async () => {
    stand = await startReportStand(HOST, { scenario: true });
    ({ collector, browser } = stand);
  });
  afterAll(async () => {
    await stand?.stop();
  });

  it('13. signs in over plain HTTP on a host name, then shows the channel table for the picked model and period, with a chart', async () => {
    const { page, errors, close } = await watchedPage(browser);
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));

    await signIn(page, site(), TOKEN);
    expect(await page.locator('#model').inputValue()).toBe('last_non_direct');
    const cookies = await page.context().cookies();
    expect(cookies).toEqual([expect.objectContaining({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/' })]);
    expect(cookies[0]!.value).not.toContain(TOKEN);

    await page.selectOption('#model', 'linear');
    await page.fill('#from', '2026-03-01');
    await page.fill('#to', '2026-03-31');
    await Promise.all([page.waitForURL(/model=linear/), page.click('#apply')]);
    expect(page.url().startsWith(`${site()}/reports?`)).toBe(true);

    expect(await page.locator('#model').inputValue()).toBe('linear');
    expect(await page.locator('#summary').innerText()).toMatch(/^Linear, deals created Mar 1\s–\s31, 2026, look-back 90 days\.$/);
    // The resolution behind the figures, with its time and freshness.
    expect(await page.locator('#resolution').innerText()).toMatch(/^Identities resolved \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\).*: the figures include every hit, deal and link stored\.$/);
    expect(await page.locator('#resolution').getAttribute('data-current')).toBe('true');
    const revenue = (key: string) => cell(page, key, 'revenue').innerText();
    expect(await revenue('direct')).toBe('₽46,666.67');
    expect(await revenue('paid_search')).toBe('₽23,333.33');
    expect(await revenue('organic_search')).toBe('₽15,000.01');
    expect(await revenue('social')).toBe('₽15,000.00');
    expect(await revenue('(unattributed)')).toBe('₽5,000.00');
    expect(await cell(page, 'paid_search', 'cost').innerText()).toBe('₽3,000.00');
    expect(await revenue('(total)')).toBe('₽105,000.01');
    expect(await page.locator('#chart rect').count()).toBeGreaterThan(4);

    // Another period: February has only the unattributed D6 and February's costs.
    await page.fill('#from', '2026-02-01');
    await page.fill('#to', '2026-02-28');
    await page.selectOption('#model', 'first_click');
    await Promise.all([page.waitForURL(/from=2026-02-01/), page.click('#apply')]);
    expect(await revenue('(unattributed)')).toBe('₽10,000.00');
    expect(await cell(page, 'paid_search', 'cost').innerText()).toBe('₽999.99');

    await page.goto(`${site()}/reports?model=linear&${MARCH}`);
    // Nothing the page sent or was sent to carried the token; the page itself never held it.
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(await page.content()).not.toContain(TOKEN);
    await screenshot(page, 'report-page');

    // Signing out forgets the cookie: the page asks to sign in again.
    await Promise.all([page.waitForURL(`${site()}/reports`), page.click('#sign-out')]);
    expect(await page.locator('#token').count()).toBe(1);
    expect(await page.context().cookies()).toEqual([]);
    expect(errors).toEqual([]);
    await close();
  });

  it('shows the overview a marketer reads: money with its currency, channels by name, a chart with axis and values, the change against the previous period', async () => {
    for (const width of [1400, 390]) {
      const { page, errors, close } = await watchedPage(browser, { width });
      await signIn(page, site(), TOKEN);
      // Asked for no period, the page shows the last 30 days, today included (UTC).
      const today = new Date().toISOString().slice(0, 10);
      expect(await page.locator('#to').inputValue()).toBe(today);
      expect(await page.locator('#from').inputValue()).toBe(new Date(Date.parse(`${today}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10));
      expect(await page.locator('#presets a[aria-current]').getAttribute('data-preset')).toBe('30d');

      await page.goto(`${site()}/reports?model=linear&${MARCH}`);
      // Channels by name, each row keeping its key.
      const name = (key: string) => page.locator(`#report tr[data-key="${key}"] th`).innerText();
      expect(await name('paid_search')).toBe('Paid search');
      expect(await name('organic_search')).toBe('Organic search');
      expect(await name('paid_social')).toBe('Paid social');
      expect(await name('email')).toBe('Email');
      expect(await name('(unattributed)')).toBe('No visit found (unattributed)');
      expect(await name('(total)')).toBe('Total');
      expect(await page.locator('#report tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))).toEqual([
        'direct', 'paid_search', 'organic_search', 'social', '(unattributed)', 'email', 'paid_social', 'referral',
      ]);
      // The stages are the funnel view's: none of them in this table.
      expect(await page.locator('#report [data-col^="passed:"], #report [data-col^="refused:"]').count()).toBe(0);
      // Money: currency and separators in the text, exact minor units beside it.
      expect(await cell(page, '(total)', 'revenue').getAttribute('data-minor')).toBe('10500001');
      expect(await cell(page, 'paid_search', 'cpl').innerText()).toBe('₽9,000.00'); // 3 000.00 over a third of D1
      expect(await cell(page, 'paid_search', 'roi').innerText()).toBe('677.8%'); // (2 333 333 − 300 000) / 300 000
      const money = await page.locator('#report td[data-col=revenue], #report td[data-col=cost], #report td[data-col=avg_deal]').evaluateAll((tds) =>
        tds.map((td) => [td.textContent, td.getAttribute('data-minor')]),
      );
      expect(money.length).toBe(27);
      for (const [text, minor] of money) {
        if (text === '—') continue;
        expect(text).toMatch(/^₽\d{1,3}(,\d{3})*\.\d\d$/);
        expect(Number(text!.replace(/[₽,.]/g, ''))).toBe(Number(minor));
      }

      // The chart: its axis titled in the currency, round ticks, every bar's value written at it.
      expect(await page.locator('#chart .axis-title').textContent()).toBe('Revenue and cost, RUB');
      expect(await page.locator('#chart .tick').allTextContents()).toEqual(['₽0', '₽20K', '₽40K', '₽60K']);
      const barValue = (key: string, series: string) => page.locator(`#chart text.value[data-key="${key}"][data-series="${series}"]`).textContent();
      expect(await barValue('direct', 'revenue')).toBe('₽46,666.67');
      expect(await barValue('paid_search', 'revenue')).toBe('₽23,333.33');
      expect(await barValue('paid_search', 'cost')).toBe('₽3,000.00');
      expect(await barValue('paid_social', 'cost')).toBe('₽400.00');
      expect(await page.locator('#chart rect.bar').count()).toBe(await page.locator('#chart text.value').count());

      // Against the previous period of the same length (Jan 29 – Feb 28): D6 10 000.00 unattributed,
      // February's cost 999.99, no visits; March: 10 visits, 6 leads, 3 won, 105 000.01, cost 3 400.00.
      expect(await page.locator('#compare-note').innerText()).toMatch(/^Changes against the previous period, Jan 29\s–\sFeb 28, 2026\.$/);
      const kpi = (k: string) => page.locator(`#kpis [data-kpi="${k}"]`);
      expect(await kpi('revenue').locator('.value').innerText()).toBe('₽105,000.01');
      expect(await kpi('revenue').locator('.delta').innerText()).toBe('+₽95,000.01 · +950%');
      expect(await kpi('cost').locator('.delta').innerText()).toBe('+₽2,400.01 · +240%');
      expect(await kpi('leads').locator('.delta').innerText()).toBe('+5 · +500%');
      expect(await kpi('won').locator('.delta').innerText()).toBe('+2 · +200%');
      expect(await kpi('visits').locator('.delta').innerText()).toBe('+10 · new');
      const changed = (key: string, col: string) => page.locator(`#compare tr[data-key="${key}"] td[data-col="${col}"]`);
      expect(await changed('(unattributed)', 'revenue').getAttribute('data-change')).toBe('-500000');
      expect(await changed('(unattributed)', 'revenue').innerText()).toMatch(/^-₽5,000\.00\s+-50%$/);
      expect(await changed('paid_search', 'cost').innerText()).toMatch(/^\+₽2,000\.01\s+\+200%$/);
      expect(await changed('direct', 'visits').innerText()).toMatch(/^\+3\s+new$/);
      expect(await changed('(total)', 'won').getAttribute('data-pct')).toBe('2');
      // Costs are uploaded and the period holds figures: no empty-state hints.
      expect(await page.locator('.hint').count()).toBe(0);
      await screenshot(page, `report-overview-${width}`);

      // A period with nothing in it says so and offers wider ones; "all time" then shows every row.
      await page.goto(`${site()}/reports?from=2025-06-01&to=2025-06-30`);
      expect(await page.locator('#hint-period').isVisible()).toBe(true);
      expect(await page.locator('#report').count()).toBe(0);
      await Promise.all([page.waitForURL(/from=&to=/), page.click('#hint-period a[data-preset="all"]')]);
      expect(await page.locator('#presets a[aria-current]').getAttribute('data-preset')).toBe('all');
      expect(await cell(page, '(total)', 'revenue').getAttribute('data-minor')).toBe('11500001'); // March and D6
      if (width === 390) {
        // On a phone the page is no wider than the phone: wide tables scroll inside their cards.
        expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      }
      expect(errors).toEqual([]);
      await close();
    }
  });

  it('downloads the CSV of what the page shows, by the page session', async () => {
    const { page, errors, close } = await watchedPage(browser);
    await signIn(page, site(), TOKEN);
    await page.goto(`${site()}/reports?model=linear&${MARCH}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
    expect(download.suggestedFilename()).toBe('report-linear.csv');
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^key,visits,visitors,leads,deals,won,returned,lost,revenue,cost,cpl,cpo,roi,conversion,avg_deal,passed:lead,refused:lead,/);
    const api = await fetch(`${collector.url}/api/reports/channels?model=linear&${MARCH}&format=csv`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(csv).toBe(await api.text());
    // Without the session the CSV is not given.
    expect((await fetch(`${collector.url}/reports/report.csv?${MARCH}`)).status).toBe(401);
    expect(errors).toEqual([]);
    await close();
  });

  it('answers a bad option with a page in the chosen language, status 400', async () => {
    for (const width of [1400, 390]) {
      const { page, errors, close } = await watchedPage(browser, { width, locale: 'ru-RU', statuses: [400, 401] });
      await signIn(page, site(), TOKEN);
      const bad = await page.goto(`${site()}/reports?model=magic`);
      expect(bad!.status()).toBe(400);
      expect(bad!.headers()['content-type']).toMatch(/^text\/html/);
      expect(await page.getAttribute('html', 'lang')).toBe('ru');
      expect(await page.locator('#problem-page h1').innerText()).toBe('Такой отчёт составить нельзя');
      expect(await page.locator('#what').innerText()).toMatch(/model must be one of first_click, /);
      expect(await page.locator('#again').getAttribute('href')).toBe('/reports');
      await screenshot(page, `report-error-${width}`);
      for (const query of ['from=2026-03-02&to=2026-03-01', 'view=chart', 'from=a&from=b', 'token=x']) {
        const r = await page.goto(`${site()}/reports?${query}`);
        expect(r!.status(), query).toBe(400);
        expect(await page.locator('#problem-page').getAttribute('data-problem')).toBe('bad_option');
      }
      expect(errors).toEqual([]);
      await close();
    }
    // The JSON API keeps its JSON errors.
    const api = await fetch(`${collector.url}/api/reports/channels?model=magic`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(400);
    expect(await api.json()).toMatchObject({ error: 'invalid_report_options' });
  });

  it('speaks the browser language (Russian), and English after the switch, kept on the next page', async () => {
    const { page, errors, close } = await watchedPage(browser, { locale: 'ru-RU' });
    await page.goto(`${site()}/reports`);
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    expect(await page.locator('#sign-in').innerText()).toBe('Войти');
    await page.fill('#token', 'not-the-token');
    await page.click('#sign-in');
    expect(await page.locator('#problem').innerText()).toBe('Это не токен отчётов.');
    await signIn(page, site(), TOKEN);
    await page.goto(`${site()}/reports?model=linear&${MARCH}`);
    expect(await page.locator('h1').innerText()).toBe('Какой канал принёс деньги');
    expect(await page.locator('#report tr[data-key="paid_search"] th').innerText()).toBe('Контекстная реклама');
    expect(await cell(page, 'paid_search', 'revenue').innerText()).toBe(`23${NBSP}333,33${NBSP}₽`);
    expect(await page.locator('#kpis [data-kpi="revenue"] .delta').innerText()).toBe(`+95${NBSP}000,01${NBSP}₽ · +950${NBSP}%`);
    expect(await page.locator('#chart .tick').allTextContents()).toEqual([`0${NBSP}₽`, `20${NBSP}тыс.${NBSP}₽`, `40${NBSP}тыс.${NBSP}₽`, `60${NBSP}тыс.${NBSP}₽`]);
    expect(await page.locator('#summary').innerText()).toMatch(/^Линейная; сделки, созданные 1–31 мар\.\s2026\sг\.; окно атрибуции 90 дн\.$/);
    await screenshot(page, 'report-overview-ru-1400');

    await Promise.all([page.waitForURL(/lang=en/), page.click('#lang a[data-lang="en"]')]);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h1').innerText()).toBe('Which channel brought the money');
    // The switch keeps what was shown, and the choice is kept for the next pages.
    expect(await cell(page, 'paid_search', 'revenue').innerText()).toBe('₽23,333.33');
    await Promise.all([page.waitForURL(/view=funnel/), page.click('#views a[data-view="funnel"]')]);
    expect(page.url()).not.toMatch(/lang=/);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('#views a[aria-current]').innerText()).toBe('Funnel');
    expect((await page.context().cookies()).find((c) => c.name === 'tl_lang')?.value).toBe('en');
    expect(errors).toEqual([]);
    await close();
  });
});
