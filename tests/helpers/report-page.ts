// The report pages in Chromium, as the report tests open them: a page in a
// context of its own (its cookies, its browser language), every script error and
// console error kept, signing in with the reports token, and screenshots into
// test-results/ (gitignored) to look at.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT } from '../../collector/src/paths.js';
import { launchChromiumResolving } from './browser-hosts.js';
import { freshDatabase, type TestDatabase } from './clickhouse.js';
import { startCollector, type RunningCollector } from './collector.js';
import { COSTS_CSV, IDENTITY_KEY, loadScenarioCrm, loadScenarioVisits, scenarioFunnel, SCENARIO_COLLECTOR_ENV, TOKEN } from './report-scenario.js';

export type WatchedPage = { page: Page; errors: string[]; close(): Promise<void> };

/**
 * A new page `width` wide whose browser asks for `locale` (Accept-Language).
 * A document answered with one of `statuses` (the sign-in page's 401, an error
 * page's 400) is the answer under test: Chromium's console line about it is not
 * counted as an error.
 */
export async function watchedPage(browser: Browser, { width = 1400, locale = 'en-US', statuses = [401] }: { width?: number; locale?: string; statuses?: number[] } = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, locale, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const status = /the server responded with a status of (\d{3})/.exec(m.text())?.[1];
    if (status && statuses.includes(Number(status))) return;
    errors.push(`console: ${m.text()}`);
  });
  return { page, errors, close: () => context.close() };
}

/** Signs in on the page's sign-in form, which `/reports` shows without a session. */
export async function signIn(page: Page, site: string, token: string): Promise<void> {
  const denied = await page.goto(`${site}/reports`);
  if (denied!.status() !== 401) throw new Error(`expected the sign-in form, got ${denied!.status()}`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${site}/reports`), page.click('#sign-in')]);
}

/** A whole-page screenshot as test-results/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = join(ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** A collector with the reports on, a database of its own and Chromium resolving `host` to this machine. */
export type ReportStand = { db: TestDatabase; collector: RunningCollector; browser: Browser; stop(): Promise<void> };

/**
 * The stand of a report page test: with `scenario`, the scenario of
 * report-scenario.ts loaded (deals and links, visits, costs); without, a fresh
 * installation whose collector stores every visit it is sent (no server-side
 * visit throttle or rate limit, whatever an earlier run left in Redis).
 */
export async function startReportStand(host: string, { scenario }: { scenario: boolean }): Promise<ReportStand> {
  const db = await freshDatabase();
  if (scenario) await loadScenarioCrm(db.client);
  const env = scenario ? { IDENTITY_KEY, ...SCENARIO_COLLECTOR_ENV, ...scenarioFunnel() } : { VISIT_THROTTLE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '0' };
  const collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REPORTS_TOKEN: TOKEN, ...env });
  if (scenario) {
    await loadScenarioVisits(collector.url, db);
    const up = await fetch(`${collector.url}/api/costs`, { method: 'POST', body: COSTS_CSV, headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${TOKEN}` } });
    if (up.status !== 200) throw new Error(`costs refused: ${up.status} ${await up.text()}`);
  }
  const browser = await launchChromiumResolving([host]);
  return {
    db,
    collector,
    browser,
    stop: async () => {
      await browser.close();
      await collector.stop();
      await db.drop();
    },
  };
}
