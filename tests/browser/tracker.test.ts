// The tracker in real Chromium against the real collector, Redis and ClickHouse.
// The demo site is served from another origin than the collector, as on a real
// site. The collector's own visit throttle is off (VISIT_THROTTLE_SECONDS=0), so
// what is held back here is held back by the tracker's rule. Every test counts
// the hits that reach the collector: what must be sent, and what must not.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSite } from '../../demo-site/serve.js';
import { launchChromium } from '../helpers/browser.js';
import { quiet, until } from '../helpers/platform-site.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { REDIS_URL } from '../helpers/env.js';

type SentHit = { s: string; k: string; e: string; t: number; u: string; r: string; g: string; y: string; v: string; p?: Record<string, string> };

/** Pages with the tracker configured otherwise than on the demo site. */
const trackerPage = (attrs: string, body = '<a id="mail" href="mailto:sales@northwind.example">sales@northwind.example</a>') =>
  `<!doctype html><script async src="{{COLLECTOR_URL}}/t.js" data-site="{{SITE_ID}}" ${attrs}></script><body>${body}</body>`;
const PAGES = {
  '/plus.html': trackerPage(
    'data-mailto="plus"',
    '<p id="text">Write to sales@northwind.example today</p><a id="mail" href="mailto:sales@northwind.example,boss@northwind.example?subject=Hi">mail</a>',
  ),
  '/dnt.html': trackerPage('data-dnt'),
  '/consent.html': trackerPage('data-consent="wait"'),
  '/plain.html': trackerPage('', '<form><input name="email"></form>'),
};


describe('tracker in Chromium', () => {
  const prefix = `t_${randomBytes(4).toString('hex')}:`;
  let db: TestDatabase;
  let collector: RunningCollector;
  let site: Server;
  let siteUrl: string;
  let browser: Browser;
  let redis: Redis;

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REDIS_PREFIX: prefix, VISIT_THROTTLE_SECONDS: '0' });
    const port = await freePort();
    site = await startDemoSite({ collectorUrl: collector.url, siteId: 'demo', port, pages: PAGES });
    siteUrl = `http://localhost:${port}`;
    browser = await launchChromium();
    redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  });
  afterAll(async () => {
    const keys = (await redis?.keys(`${prefix}*`)) ?? [];
    if (keys.length) await new Redis(REDIS_URL).del(...keys);
    redis?.disconnect();
    await browser?.close();
    site?.close();
    await collector?.stop();
    await db?.drop();
  });

  /** A browser context as a visitor (the browser runs without its automation flag: helpers/browser.ts), cookies of other tools set. */
  async function visitor(): Promise<BrowserContext> {
    const context = await browser.newContext();
    await context.addCookies([
      { name: '_ga', value: 'GA1.2.908899769.1600020018', domain: 'localhost', path: '/' },
      { name: '_ym_uid', value: '1551977723718998723', domain: 'localhost', path: '/' },
    ]);
    return context;
  }

  /** Every hit the page sends to the collector, parsed. */
  function hitsOf(page: Page): SentHit[] {
    const hits: SentHit[] = [];
    page.on('request', (req) => {
      if (req.url() === `${collector.url}/hit`) hits.push(JSON.parse(req.postData() ?? '{}') as SentHit);
    });
    return hits;
  }
  const kind = (hits: SentHit[], k: string) => hits.filter((h) => h.k === k);
  const formFields = (page: Page) =>
    page.evaluate(() => Object.fromEntries(new FormData(document.getElementById('lead') as HTMLFormElement).entries()) as Record<string, string>);

  it('lands with UTM + yclid, fills the form, tags mailto with the issued id, and sends visits by the 10-minute rule', async () => {
    const context = await visitor();
    const page = await context.newPage();
    await page.clock.install({ time: new Date() });
    const hits = hitsOf(page);
    const vidResponse = page.waitForResponse((r) => r.url().startsWith(`${collector.url}/vid?`));
    const landing = `${siteUrl}/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand&utm_term=%D1%82%D1%80%D0%B5%D0%BD%D0%B5%D1%80&yclid=5501`;
    await page.goto(landing);
    const vid = await (await vidResponse).text();
    expect(vid).toMatch(/^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/);
    await until(() => kind(hits, 'visit').length === 1);

    // The visit carries every id.
    expect(kind(hits, 'visit')[0]).toMatchObject({ s: 'demo', u: landing, v: vid, g: '908899769.1600020018', y: '1551977723718998723' });
    // The form's hidden fields hold every id and the touch.
    const fields = await formFields(page);
    expect(fields).toMatchObject({
      tl_vid: vid,
      tl_ga: '908899769.1600020018',
      tl_ym: '1551977723718998723',
      utm_source: 'yandex',
      utm_medium: 'cpc',
      utm_campaign: 'brand',
      utm_term: 'тренер',
      yclid: '5501',
      tl_landing: landing,
      tl_first_landing: landing,
    });
    expect(await page.locator('#lead input[name=utm_campaign]').count()).toBe(1);
    // The mailto link carries the id the collector issued (once c.js, which the
    // core loads on seeing the link, has run), and Redis holds that id.
    await until(async () => (await page.getAttribute('#mail', 'href')) == `mailto:sales@northwind.example?subject=%5B${vid}%5D%20Training`);
    expect(await redis.get(`vid:${vid}`)).toMatch(/^\d+$/);

    // A reload within 10 minutes sends no second visit, and asks no new id.
    let vidRequests = 0;
    page.on('request', (r) => void (r.url().startsWith(`${collector.url}/vid?`) && vidRequests++));
    await page.reload();
    await page.goto(`${siteUrl}/about.html`);
    await quiet();
    expect(kind(hits, 'visit')).toHaveLength(1);
    expect(vidRequests).toBe(0);

    // A landing with a new campaign is sent at once.
    const google = `${siteUrl}/?utm_source=google&utm_medium=cpc&gclid=EAIa`;
    await page.goto(google);
    await until(() => kind(hits, 'visit').length === 2);
    expect(kind(hits, 'visit')[1]).toMatchObject({ u: google, v: vid });
    await page.reload();
    await quiet();
    expect(kind(hits, 'visit')).toHaveLength(2);

    // A direct visit does not erase the campaign: the fields still hold the last one.
    await page.goto(`${siteUrl}/`);
    expect(await formFields(page)).toMatchObject({ utm_source: 'google', gclid: 'EAIa', tl_first_landing: landing });
    expect((await formFields(page)).yclid).toBeUndefined();

    // After 10 minutes (browser clock moved), a visit is sent again.
    await page.clock.fastForward('10:01');
    await page.goto(`${siteUrl}/about.html`);
    await until(() => kind(hits, 'visit').length === 3);
    expect(kind(hits, 'visit')[2]).toMatchObject({ u: `${siteUrl}/about.html`, v: vid });

    // ClickHouse holds exactly those three visits.
    type Row = { url: string; visitor_id: string; utm_source: string; click_id_name: string };
    const rows = await eventually(
      () => db.rows<Row>(`SELECT url, visitor_id, utm_source, click_id_name FROM hits WHERE kind = 'visit' AND visitor_id = '${vid}' ORDER BY ts`),
      10_000,
      (r) => r.length >= 3,
    );
    expect(rows.map((r) => [r.utm_source, r.click_id_name])).toEqual([
      ['yandex', 'yclid'],
      ['google', 'gclid'],
      ['', ''],
    ]);
    await context.close();
  });

  it('reports a submitted form as a lead, and the CRM receives the hidden fields', async () => {
    const context = await visitor();
    const page = await context.newPage();
    const hits = hitsOf(page);
    await page.goto(`${siteUrl}/?utm_source=vk&utm_campaign=spring&vkclid=77`);
    await until(() => kind(hits, 'visit').length === 1);
    const vid = kind(hits, 'visit')[0]!.v;
    await page.fill('input[name=name]', 'Ivan');
    await page.fill('input[name=phone]', '+7 916 000-11-22');
    await page.fill('input[name=email]', 'ivan@example.ru');
    await page.click('button[type=submit]');
    await page.waitForURL(`${siteUrl}/thanks.html`);
    const received = JSON.parse((await page.textContent('#received'))!) as Record<string, string>;
    expect(received).toMatchObject({ name: 'Ivan', tl_vid: vid, utm_source: 'vk', utm_campaign: 'spring', vkclid: '77', tl_ga: '908899769.1600020018' });
    await until(() => kind(hits, 'lead').length === 1);
    expect(kind(hits, 'lead')[0]).toMatchObject({ v: vid, p: { id: 'lead', name: '', action: '/thanks.html', email: 'ivan@example.ru', phone: '+7 916 000-11-22' } });
    type Row = { prop_keys: string[] };
    const rows = await eventually(() => db.rows<Row>(`SELECT prop_keys FROM hits WHERE kind = 'lead' AND visitor_id = '${vid}'`));
    expect(rows).toHaveLength(1);
    await context.close();
  });

  it('fills a form added after load and reports its programmatic form.submit()', async () => {
    const context = await visitor();
    const page = await context.newPage();
    const hits = hitsOf(page);
    await page.goto(`${siteUrl}/about.html?utm_source=newsletter`);
    await until(() => kind(hits, 'visit').length === 1);
    const vid = kind(hits, 'visit')[0]!.v;
    await page.evaluate(() => {
      const form = document.createElement('form');
      form.id = 'late';
      form.method = 'post';
      form.action = '/thanks.html';
      form.innerHTML = '<input name="phone" value="8 800 555-35-35">';
      document.body.append(form);
    });
    await page.waitForFunction(() => (document.querySelector('#late input[name=tl_vid]') as HTMLInputElement | null)?.value.length === 6);
    await page.evaluate(() => (document.getElementById('late') as HTMLFormElement).submit());
    await page.waitForURL(`${siteUrl}/thanks.html`);
    const received = JSON.parse((await page.textContent('#received'))!) as Record<string, string>;
    expect(received).toMatchObject({ phone: '8 800 555-35-35', tl_vid: vid, utm_source: 'newsletter' });
    await until(() => kind(hits, 'lead').length === 1);
    expect(kind(hits, 'lead')[0]!.p).toEqual({ id: 'late', name: '', action: '/thanks.html', phone: '8 800 555-35-35' });
    await context.close();
  });

  it('reports tel: clicks and counts single-page-app navigation by the same rule', async () => {
    const context = await visitor();
    const page = await context.newPage();
    await page.clock.install({ time: new Date() });
    const hits = hitsOf(page);
    await page.goto(`${siteUrl}/`);
    await until(() => kind(hits, 'visit').length === 1);
    // tel: clicks are c.js's, loaded after the core sees a contact link: it has run once the mailto link carries the id.
    const vid = kind(hits, 'visit')[0]!.v;
    await until(async () => (await page.getAttribute('#mail', 'href'))!.includes(vid));
    await page.evaluate(() => document.querySelector('a[href^="tel:"]')!.addEventListener('click', (e) => e.preventDefault()));
    await page.click('a[href^="tel:"]');
    await until(() => kind(hits, 'tel').length === 1);
    expect(kind(hits, 'tel')[0]!.p).toEqual({ tel: '+74950000000' });

    await page.evaluate(() => history.pushState(null, '', '/pricing'));
    await quiet();
    expect(kind(hits, 'visit')).toHaveLength(1);
    await page.evaluate(() => history.pushState(null, '', '/pricing?utm_source=spa&utm_campaign=retarget'));
    await until(() => kind(hits, 'visit').length === 2);
    expect(kind(hits, 'visit')[1]).toMatchObject({ u: `${siteUrl}/pricing?utm_source=spa&utm_campaign=retarget`, r: `${siteUrl}/pricing` });
    await page.clock.fastForward('10:01');
    await page.evaluate(() => history.replaceState(null, '', '/contacts'));
    await until(() => kind(hits, 'visit').length === 3);
    await page.goBack();
    await quiet();
    expect(kind(hits, 'visit')).toHaveLength(3);
    await context.close();
  });

  it('plus mode tags mailto links and e-mail addresses copied from the page', async () => {
    const context = await visitor();
    const page = await context.newPage();
    const hits = hitsOf(page);
    await page.goto(`${siteUrl}/plus.html`);
    await until(() => kind(hits, 'visit').length === 1);
    const vid = kind(hits, 'visit')[0]!.v.toLowerCase();
    await page.waitForFunction(() => document.getElementById('mail')!.getAttribute('href')!.includes('+'));
    expect(await page.getAttribute('#mail', 'href')).toBe(`mailto:sales+${vid}@northwind.example,boss+${vid}@northwind.example?subject=Hi`);
    const copied = await page.evaluate(() => {
      let data = '';
      addEventListener('copy', (e) => (data = e.clipboardData!.getData('text/plain')));
      getSelection()!.selectAllChildren(document.getElementById('text')!);
      document.execCommand('copy');
      return data;
    });
    expect(copied).toBe(`Write to sales+${vid}@northwind.example today`);
    await context.close();
  });

  it('loads each file where it is needed: the core alone for plain forms, c.js once for contact links, h.js once for a platform', async () => {
    const context = await visitor();
    const page = await context.newPage();
    const files: string[] = [];
    page.on('request', (r) => void (r.url().startsWith(collector.url) && r.url().endsWith('.js') && files.push(r.url().slice(collector.url.length))));
    const hits = hitsOf(page);
    await page.goto(`${siteUrl}/plain.html`);
    await until(() => kind(hits, 'visit').length === 1);
    await quiet();
    expect(files).toEqual(['/t.js']);
    // Links added later: c.js at the next scan, once, and nothing else.
    await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<a href="tel:+74950000000">call</a><a href="mailto:a@b.example">write</a>'));
    await until(() => files.includes('/c.js'));
    await quiet();
    expect(files).toEqual(['/t.js', '/c.js']);
    // A platform (a frame) shown later: h.js, once.
    await page.evaluate(() => document.body.append(document.createElement('iframe')));
    await until(() => files.includes('/h.js'));
    await quiet();
    expect(files).toEqual(['/t.js', '/c.js', '/h.js']);
    await context.close();
  });

  it('sends nothing from an automated browser, under a honoured privacy signal, before consent or after opt-out', async () => {
    // A Chromium that keeps its automation flag (navigator.webdriver): nothing at all.
    const bot = await launchChromium({ automated: true });
    const robot = await bot.newContext();
    const page = await robot.newPage();
    let requests = 0;
    page.on('request', (r) => void (r.url().startsWith(collector.url) && !r.url().endsWith('/t.js') && requests++));
    await page.goto(`${siteUrl}/?utm_source=robot`);
    await quiet();
    expect(requests).toBe(0);
    expect(await page.getAttribute('#mail', 'href')).toBe('mailto:sales@northwind.example?subject=Training');
    expect(await page.evaluate(() => navigator.webdriver)).toBe(true);
    await bot.close();

    // Global Privacy Control, the site asks to honour it: nothing.
    const gpc = await visitor();
    await gpc.addInitScript("Object.defineProperty(navigator, 'globalPrivacyControl', { get: () => true })");
    const gpcPage = await gpc.newPage();
    const gpcHits = hitsOf(gpcPage);
    await gpcPage.goto(`${siteUrl}/dnt.html`);
    await quiet();
    expect(gpcHits).toHaveLength(0);
    await gpc.close();

    // Consent mode: nothing until the page says so, then the visit.
    const consent = await visitor();
    const consentPage = await consent.newPage();
    const consentHits = hitsOf(consentPage);
    await consentPage.goto(`${siteUrl}/consent.html`);
    await quiet();
    expect(consentHits).toHaveLength(0);
    expect(await consent.cookies()).not.toContainEqual(expect.objectContaining({ name: 'tl_vid' }));
    await consentPage.evaluate(() => (window as unknown as { throughline(c: string): void }).throughline('consent'));
    await until(() => kind(consentHits, 'visit').length === 1);

    // Opt-out: remembered for the next pages.
    await consentPage.evaluate(() => (window as unknown as { throughline(c: string): void }).throughline('optout'));
    const after = await consent.newPage();
    const afterHits = hitsOf(after);
    await after.goto(`${siteUrl}/?utm_source=new`);
    await quiet();
    expect(afterHits).toHaveLength(0);
    await consent.close();
  });
});
