// The tracker's cookies live on the site's registrable domain, found by the
// browser's own public-suffix list: www., the bare domain and every subdomain
// share one visitor id and one set of touches, and the last touch's UTM tags are
// also the utm_* cookies other tools read. Real Chromium resolves the site's
// names to loopback (a .co.uk site: its registrable domain has three labels).
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumResolving } from '../helpers/browser-hosts.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { until } from '../helpers/platform-site.js';

const HOSTS = ['www.shop.co.uk', 'shop.co.uk', 'blog.shop.co.uk', 'collector.test'];

describe('cookies on the registrable domain', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let site: Server;
  let port: number;
  let browser: Browser;

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REDIS_PREFIX: `cd_${randomBytes(4).toString('hex')}:`, VISIT_THROTTLE_SECONDS: '0' });
    const collectorPort = new URL(collector.url).port;
    const app = express();
    app.get(/\.html$/, (_req, res) => {
      res.type('html').send(`<!doctype html><script async src="http://collector.test:${collectorPort}/t.js"></script><form id="f"><input name="email"></form>`);
    });
    port = await freePort();
    site = await new Promise<Server>((resolve) => {
      const s = createServer(app).listen(port, '127.0.0.1', () => resolve(s));
    });
    browser = await launchChromiumResolving(HOSTS);
  });
  afterAll(async () => {
    await browser?.close();
    site?.close();
    await collector?.stop();
    await db?.drop();
  });

  async function visitor(): Promise<BrowserContext> {
    const context = await browser.newContext();
    return context;
  }
  const cookiesOf = async (context: BrowserContext, host: string) => await context.cookies(`http://${host}:${port}/`);
  const named = async (context: BrowserContext, host: string, name: string) => (await cookiesOf(context, host)).filter((c) => c.name === name);

  it('www., the bare domain and a subdomain share one visitor id and the touches; utm_* cookies hold the last touch', async () => {
    const context = await visitor();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    let vids = 0;
    page.on('request', (r) => void (new URL(r.url()).pathname === '/vid' && vids++));
    await page.goto(`http://www.shop.co.uk:${port}/a.html?utm_source=google&utm_medium=cpc&utm_campaign=spring`);
    await until(async () => (await named(context, 'www.shop.co.uk', 'tl_vid')).length === 1);
    const [vid] = await named(context, 'www.shop.co.uk', 'tl_vid');
    expect(vid!.domain).toBe('.shop.co.uk');
    for (const name of ['tl_lt', 'tl_ft', 'tl_vt', 'utm_source', 'utm_medium', 'utm_campaign']) {
      const [c] = await named(context, 'www.shop.co.uk', name);
      expect(c?.domain, name).toBe('.shop.co.uk');
    }
    expect((await named(context, 'www.shop.co.uk', 'utm_source'))[0]!.value).toBe('google');
    expect(await named(context, 'www.shop.co.uk', 'utm_term')).toEqual([]);

    // The bare domain and a subdomain: the same id, no new one asked for.
    for (const host of ['shop.co.uk', 'blog.shop.co.uk']) {
      await page.goto(`http://${host}:${port}/b.html`);
      await until(async () => (await page.inputValue('#f [name=tl_vid]').catch(() => '')) === vid!.value);
      expect(await page.inputValue('#f [name=utm_source]')).toBe('google');
    }
    expect(vids).toBe(1);
    // One cookie per name: nothing per host.
    expect((await cookiesOf(context, 'blog.shop.co.uk')).filter((c) => c.name === 'tl_vid')).toHaveLength(1);

    // A new campaign on a subdomain moves the utm_* cookies for all; a tag the new touch lacks is removed.
    await page.goto(`http://blog.shop.co.uk:${port}/c.html?utm_source=yandex`);
    await until(async () => (await named(context, 'www.shop.co.uk', 'utm_source'))[0]?.value === 'yandex');
    expect(await named(context, 'www.shop.co.uk', 'utm_medium')).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("a host's own cookie that an earlier version wrote gives way to the registrable domain's", async () => {
    const context = await visitor();
    await context.addCookies([
      { name: 'tl_vid', value: 'HK7M9P', domain: 'www.shop.co.uk', path: '/' },
      { name: 'tl_lt', value: 'http://www.shop.co.uk/?utm_source=old%20', domain: 'www.shop.co.uk', path: '/' },
    ]);
    const page = await context.newPage();
    await page.goto(`http://www.shop.co.uk:${port}/a.html?utm_source=fresh`);
    await until(async () => (await named(context, 'www.shop.co.uk', 'tl_lt')).every((c) => c.domain === '.shop.co.uk'));
    const vid = await named(context, 'www.shop.co.uk', 'tl_vid');
    // The id it had is kept, now for the whole domain.
    expect(vid.map((c) => [c.domain, c.value])).toEqual([['.shop.co.uk', 'HK7M9P']]);
    expect((await named(context, 'www.shop.co.uk', 'tl_lt'))[0]!.value).toContain('utm_source%3Dfresh');
    await context.close();
  });
});
