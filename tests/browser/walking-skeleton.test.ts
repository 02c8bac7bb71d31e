// A first visit from a real browser: Chromium opens the demo landing with UTM
// tags and preset _ga/_ym_uid cookies; the tracker served by the real collector
// sends the visit, and the test finds it in ClickHouse.
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startDemoSite } from '../../demo-site/serve.js';
import { launchChromium } from '../helpers/browser.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';

describe('walking skeleton: browser -> tracker -> collector -> ClickHouse', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100' });
    const port = await freePort();
    site = await startDemoSite({ collectorUrl: collector.url, siteId: 'demo', port });
    siteUrl = `http://localhost:${port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    site?.close();
    await collector?.stop();
    await db?.drop();
  });

  it('finds the visit with its UTM tags and client ids in ClickHouse', async () => {
    const context = await browser.newContext();
    await context.addCookies([
      { name: '_ga', value: 'GA1.2.908899769.1600020018', domain: 'localhost', path: '/' },
      { name: '_ym_uid', value: '1551977723718998723', domain: 'localhost', path: '/' },
    ]);
    const page = await context.newPage();
    await page.goto(`${siteUrl}/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand`);
    type Row = { site_id: string; kind: string; url: string; utm_source: string; utm_medium: string; utm_campaign: string; ga_cid: string; ym_uid: string; user_agent: string };
    const rows = await eventually(() => db.rows<Row>(`SELECT * FROM hits WHERE kind = 'visit'`), 10_000);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      site_id: 'demo',
      utm_source: 'yandex',
      utm_medium: 'cpc',
      utm_campaign: 'brand',
      ga_cid: '908899769.1600020018',
      ym_uid: '1551977723718998723',
    });
    expect(rows[0]!.url).toBe(`${siteUrl}/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand`);
    expect(rows[0]!.user_agent).toMatch(/Chrome/);
    await context.close();
  });
});
