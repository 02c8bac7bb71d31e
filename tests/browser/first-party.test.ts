// First-party mode in real Chromium: the demo site forwards its own /_tl/ to
// the collector (demo-site/first-party.ts) and its pages load /_tl/t.js. The
// mode changes where the cookies come from (the collector's answers) and
// nothing else: hidden fields, mailto tags, the visit throttle and consent
// behave as in the default mode. And a visitor whose tl_vid cookie is lost gets
// the same id back by its GA id. (tests/browser/webkit-first-party.test.ts
// shows, in WebKit, what the mode is for: lifetimes Safari does not cap.)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../collector/src/paths.js';
import type { Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSite } from '../../demo-site/serve.js';
import { launchChromiumResolving } from '../helpers/browser-hosts.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { quiet, until } from '../helpers/platform-site.js';

/** Each visitor's own GA client id, as in real browsers (the collector gives a lost id back by it). */
let visitors = 0;
const gaId = () => `${908899769 + visitors++}.1600020018`;
const DAY = 86_400;
type Sent = { k: string; v: string; u: string };

describe('first-party mode in Chromium', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  let sites: Server[] = [];
  let browser: Browser;
  let fp: string;
  let plain: string;

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, REDIS_PREFIX: `fp_${randomBytes(4).toString('hex')}:`, TRUSTED_PROXIES: 'loopback' });
    const consent = '<!doctype html><script async src="{{COLLECTOR_URL}}/t.js" data-site="{{SITE_ID}}" data-consent="wait"></script><form id="lead"><input name="email"></form>';
    const [fpPort, plainPort] = await Promise.all([freePort(), freePort()]);
    sites = await Promise.all([
      startDemoSite({ collectorUrl: collector.url, siteId: 'demo', port: fpPort, firstParty: true, pages: { '/consent.html': consent } }),
      startDemoSite({ collectorUrl: collector.url, siteId: 'demo', port: plainPort }),
    ]);
    fp = `http://www.shop.test:${fpPort}`;
    plain = `http://www.plain.test:${plainPort}`;
    browser = await launchChromiumResolving(['www.shop.test', 'www.plain.test']);
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of sites) s.close();
    await collector?.stop();
    await db?.drop();
  });

  async function visitor(site: string, ga = gaId()): Promise<BrowserContext> {
    const context = await browser.newContext();
    await context.addCookies([{ name: '_ga', value: `GA1.2.${ga}`, url: site }]);
    return context;
  }
  /** The tracker's requests of a page, by path below the collector's root or /_tl/. */
  function watch(page: Page) {
    const hits: Sent[] = [];
    const paths: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/_tl/') || r.url().startsWith(collector.url)) paths.push(path.replace(/^\/_tl\//, '/').split('?')[0]!);
      if (path.endsWith('/hit')) hits.push(JSON.parse(r.postData() ?? '{}') as Sent);
    });
    return { hits, paths, errors };
  }
  const fields = (page: Page) => page.evaluate(() => Object.fromEntries(new FormData(document.getElementById('lead') as HTMLFormElement)) as Record<string, string>);
  const LANDING = '/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand&yclid=5501';

  it('the same hidden fields, mailto tag and visits as the default mode; the ids and touches are the collector\'s cookies at their full lifetime', async () => {
    const seen: Record<string, Record<string, string>> = {};
    for (const site of [plain, fp]) {
      const ga = gaId();
      const context = await visitor(site, ga);
      const page = await context.newPage();
      const w = watch(page);
      await page.goto(site + LANDING);
      await until(() => w.hits.filter((h) => h.k === 'visit').length === 1);
      const vid = w.hits[0]!.v;
      // The touch fields come once the tracker (default) or the hit's answer (first-party) wrote them.
      await until(async () => (await fields(page)).utm_campaign === 'brand' && (await fields(page)).tl_first_landing !== undefined);
      const { tl_vid, tl_landing, tl_first_landing, ...rest } = await fields(page);
      expect(tl_vid).toBe(vid);
      expect(tl_landing).toBe(site + LANDING);
      expect(tl_first_landing).toBe(site + LANDING);
      seen[site] = { ...rest, tl_ga: rest.tl_ga === ga ? 'its own' : rest.tl_ga! };
      await until(async () => (await page.getAttribute('#mail', 'href')) === `mailto:sales@northwind.example?subject=%5B${vid}%5D%20Training`);
      // A second page within the visit window: no visit.
      await page.goto(`${site}/about.html`);
      await quiet();
      expect(w.hits.filter((h) => h.k === 'visit')).toHaveLength(1);
      expect(w.errors).toEqual([]);
      const cookies = Object.fromEntries((await context.cookies(site)).map((c) => [c.name, c]));
      expect(cookies.tl_vid!.value).toBe(vid);
      if (site === fp) {
        // The first-party build and the paths under the site's own /_tl/.
        expect(w.paths).toEqual(expect.arrayContaining(['/t.js', '/vid', '/hit', '/c.js']));
        const served = await (await fetch(`http://127.0.0.1:${new URL(fp).port}/_tl/t.js`)).text();
        expect(served).toBe(readFileSync(join(ROOT, 'dist', 'tracker', 'f.js'), 'utf8'));
        expect(served).not.toBe(readFileSync(join(ROOT, 'dist', 'tracker', 't.js'), 'utf8'));
        expect(w.paths.some((p) => p.startsWith('/fp/') || p.includes('/fp/'))).toBe(false);
        const inDays = (name: string) => (cookies[name]!.expires - Date.now() / 1000) / DAY;
        expect(inDays('tl_vid')).toBeGreaterThan(399);
        expect(inDays('tl_ft')).toBeGreaterThan(89);
        expect(inDays('tl_lt')).toBeGreaterThan(89);
        expect(cookies.utm_source!.value).toBe('yandex');
        for (const c of [cookies.tl_vid!, cookies.tl_lt!]) expect(c).toMatchObject({ domain: '.shop.test', path: '/', sameSite: 'Lax', httpOnly: false, secure: false });
      }
      // A landing from another site without a campaign, within the window: a new last touch and no
      // new visit. The first-party build sends it (the collector's answer sets the touch); the
      // collector's throttle drops that visit: one visit stored in both modes.
      await page.goto(`${site}/about.html?from=partner`, { referer: 'https://partner.example/' });
      await quiet();
      expect(w.hits.filter((h) => h.k === 'visit')).toHaveLength(site === fp ? 2 : 1);
      expect((await context.cookies(site)).find((c) => c.name === 'tl_lt')!.value).toBe(
        encodeURIComponent(`${site}/about.html?from=partner https://partner.example/`),
      );
      const stored = await eventually(() => db.rows<{ n: string }>(`SELECT count() AS n FROM hits WHERE kind = 'visit' AND visitor_id = '${vid}'`), 5_000, (r) => r[0]?.n === '1');
      expect(stored[0]!.n).toBe('1');
      await context.close();
    }
    // Everything but the ids the two visitors got is the same.
    expect(seen[fp]).toEqual(seen[plain]);
    expect(seen[fp]).toMatchObject({ utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'brand', yclid: '5501', tl_ga: 'its own' });
  });

  it('waits for consent as the default mode does: no request and no cookie before it', async () => {
    const context = await visitor(fp);
    const page = await context.newPage();
    const w = watch(page);
    await page.goto(`${fp}/consent.html`);
    await quiet();
    expect(w.paths).toEqual(['/t.js']);
    expect((await context.cookies(fp)).map((c) => c.name)).toEqual(['_ga']);
    await page.evaluate(() => (window as unknown as { throughline(c: string): void }).throughline('consent'));
    await until(() => w.hits.some((h) => h.k === 'visit'));
    await until(async () => (await context.cookies(fp)).some((c) => c.name === 'tl_vid'));
    await context.close();
  });

  it('a visitor whose tl_vid cookie was lost gets the same id back (by the GA id the hits carried)', async () => {
    const context = await visitor(fp);
    const page = await context.newPage();
    const w = watch(page);
    await page.goto(fp + LANDING);
    await until(() => w.hits.length === 1);
    const vid = w.hits[0]!.v;
    // Give the hit's Redis call its few milliseconds.
    await quiet();
    await context.clearCookies({ name: 'tl_vid' });
    await context.clearCookies({ name: 'tl_vt' });
    await page.goto(`${fp}/about.html`);
    await until(() => w.hits.length === 2);
    expect(w.paths.filter((p) => p === '/vid')).toHaveLength(2);
    expect(w.hits[1]!.v).toBe(vid);
    expect((await context.cookies(fp)).find((c) => c.name === 'tl_vid')!.value).toBe(vid);
    await context.close();
  });
});
