// Throughline's cookies in Safari's Intelligent Tracking Prevention, measured in
// WebKitGTK (Debian's MiniBrowser, ITP on: tests/helpers/webkit.ts) against the
// real collector and the real demo site, the site at www.shop.test:
//   - default mode (the page loads http://collector.test/t.js): the tracker
//     writes tl_vid, tl_ft, tl_lt and utm_* with document.cookie, and ITP caps
//     them at 7 days, at 24 hours after an ad click (a decorated link from a
//     domain ITP classified as a tracker). The limitation first-party mode lifts.
//   - first-party mode (the page loads /_tl/t.js, which the site's own server
//     forwards to the collector's /fp/): the collector's answers set those cookies
//     by Set-Cookie on the site's registrable domain, and they keep their full
//     lifetime (400 days for tl_vid, the touches' 90), on a direct visit and after
//     the ad click; an internal page (no hit within the visit window) writes no
//     tl_vid, so nothing caps it again.
// Controls: on every first-party page a cookie the page's own script writes
// (`probe`) IS capped, so the landing was of the capped kind and the full
// lifetimes are the header's doing; in default mode the same decorated landing
// from a domain ITP has not classified keeps 7 days, so the 24 hours are the
// classification's doing. Each mode's result is the other's control too: a
// harness that capped everything (or nothing) fails one of them.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSite } from '../../demo-site/serve.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { launchWebKit, webkitMissing, WEBKIT_AVAILABLE, type SeenRequest, type StoredCookie, type WebKitBrowser } from '../helpers/webkit.js';
import { dropRedisPrefix } from '../helpers/redis.js';

const DAY = 86_400;
const SLACK = 120; // seconds between a write and our read, and rounding
const VID_DAYS = 400; // what tl_vid asks for (tracker and collector alike)
const TOUCH_DAYS = 90; // the touches' and utm_* cookies' lifetime (default)
const SHOP = 'www.shop.test';
const LANDING = `http://${SHOP}/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQ-fp-test`;

// A cookie written by the page's own script after load (as in webkit-itp.test.ts:
// after load, so ITP already knows how the page was reached), asking 400 days;
// the request after it tells the test it is written.
const probe = (name: string) =>
  `<script>addEventListener('load',function(){setTimeout(function(){document.cookie='${name}=1; max-age=${400 * DAY}; path=/';fetch('/written?${name}')},300)})</script>`;

/** Default mode: the tracker from the collector's own host. */
const DEFAULT_PAGES = {
  '/': `<!doctype html><title>shop</title><script async src="http://collector.test/t.js" data-site="{{SITE_ID}}"></script><body><p>shop</p></body>`,
};
/** First-party mode: the tracker from the site's own path, forwarded to the collector's /fp/. */
const fpPage = (extra: string) => `<!doctype html><title>shop</title><script async src="/_tl/t.js" data-site="{{SITE_ID}}"></script><body>${extra}</body>`;
const FP_PAGES = {
  '/': fpPage(`<p>shop</p>${probe('probe')}`),
  // An internal page: its mailto link makes the core load c.js (after its visit
  // step), which tells the test the tracker has run on it.
  '/next.html': fpPage(`<a href="mailto:sales@shop.test">mail</a>${probe('probe2')}`),
};

const nowSeconds = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cookie `name` of the site's registrable domain (as the store writes it: .shop.test). */
function cookie(cookies: StoredCookie[], name: string): StoredCookie {
  const found = cookies.filter((c) => c.name === name);
  expect(found, `one cookie ${name} in ${JSON.stringify(cookies)}`).toHaveLength(1);
  return found[0]!;
}
/** Seconds left to live of the cookie `name`. */
const lifetime = (cookies: StoredCookie[], name: string) => cookie(cookies, name).expires - nowSeconds();

/** Waits for a request after `since` (an index in browser.requests) that satisfies `test` (and, with `answered`, whose answer has been passed on). */
async function request(browser: WebKitBrowser, since: number, test: (r: SeenRequest) => boolean, answered = false, timeoutMs = 10_000): Promise<SeenRequest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = browser.requests.slice(since).find((x) => test(x) && (!answered || x.answer));
    if (r) return r;
    if (Date.now() > deadline) throw new Error(`no ${answered ? 'answered ' : ''}request matching ${String(test)} (saw ${browser.requests.slice(since).map((x) => x.url).join(', ')})`);
    await sleep(50);
  }
}

const isPost = (url: string) => (r: SeenRequest) => r.method === 'POST' && r.url === url;
const isGet = (url: string) => (r: SeenRequest) => r.method === 'GET' && r.url.startsWith(url);

/**
 * Opens `url` and waits until the tracker's hit to `hitUrl` has been answered
 * (its Set-Cookie, if any, reached the browser), the page's probe cookie, if it
 * has one, is written, and the store has had a moment; returns the hit.
 */
async function land(browser: WebKitBrowser, url: string, hitUrl: string, opts: { from?: string; probe?: string } = {}): Promise<SeenRequest> {
  const since = browser.requests.length;
  await browser.open(url, { from: opts.from, until: isPost(hitUrl) });
  const hit = await request(browser, since, isPost(hitUrl), true);
  if (opts.probe) await request(browser, since, (r) => r.url.endsWith(`/written?${opts.probe}`));
  await sleep(400);
  return hit;
}

/** WEBKIT_REPORT=1 prints what each case measured: seconds left per cookie, and the Set-Cookie the hit's answer carried. */
function report(label: string, cookies: StoredCookie[], hit?: SeenRequest): void {
  if (!process.env.WEBKIT_REPORT) return;
  const now = nowSeconds();
  const left = cookies.filter((c) => c.name !== 'tl_d').map((c) => `${c.name}@${c.domain}=${c.expires - now}`);
  console.log(`[webkit-fp] ${label}: ${left.join(' ')}${hit ? `\n  ${hit.url} → ${hit.answer?.status} Set-Cookie ${JSON.stringify(hit.answer?.setCookie)}` : ''}`);
}

/** The names a hit's answer set, for the evidence. */
const setNames = (hit: SeenRequest) => (hit.answer?.setCookie ?? []).map((c) => c.split(/[=;]/, 1)[0]);

const missing = webkitMissing();
if (!WEBKIT_AVAILABLE) {
  const why = `WebKitGTK first-party tests skipped: missing ${missing.join(', ')}; run scripts/webkit-deps.sh`;
  console.warn(why);
  it.skip(why, () => {});
}

describe.runIf(WEBKIT_AVAILABLE)('first-party mode in Safari ITP (WebKitGTK, real collector)', () => {
  const prefix = `wfp_${randomBytes(4).toString('hex')}:`;
  let db: TestDatabase;
  let collector: RunningCollector;
  let defaultSite: Server;
  let fpSite: Server;
  let collectorPort: number;
  let defaultPort: number;
  let fpPort: number;
  let browser: WebKitBrowser | undefined;

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REDIS_PREFIX: prefix, TRUSTED_PROXIES: 'loopback' });
    collectorPort = Number(new URL(collector.url).port);
    defaultPort = await freePort();
    defaultSite = await startDemoSite({ collectorUrl: collector.url, siteId: 'demo', port: defaultPort, pages: DEFAULT_PAGES });
    fpPort = await freePort();
    fpSite = await startDemoSite({ collectorUrl: collector.url, siteId: 'demo', port: fpPort, pages: FP_PAGES });
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    defaultSite?.close();
    fpSite?.close();
    await collector?.stop();
    await db?.drop();
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });

  describe('default mode (the tracker writes the cookies): the limitation', () => {
    const HIT = 'http://collector.test/hit';
    const hosts = () => ({ [SHOP]: defaultPort, 'www.other.test': defaultPort, 'collector.test': collectorPort });

    it('caps tl_vid and the touches at 7 days on a direct visit, and after a landing from a site ITP has not classified', async () => {
      browser = await launchWebKit({ hosts: hosts() });
      let hit = await land(browser, `http://${SHOP}/`, HIT);
      let cookies = await browser.cookies();
      report('default, direct', cookies, hit);
      for (const name of ['tl_vid', 'tl_ft']) {
        const left = lifetime(cookies, name);
        expect(left, name).toBeLessThanOrEqual(7 * DAY + SLACK);
        expect(left, name).toBeGreaterThan(6 * DAY);
      }
      // A direct visit is no touch (contract/touches.ts): no last touch yet.
      expect(cookies.filter((c) => c.name === 'tl_lt')).toEqual([]);

      // A campaign landing from a site ITP has not classified: the last touch, 7 days too.
      hit = await land(browser, `http://${SHOP}/?utm_source=newsletter&utm_medium=email`, HIT, { from: 'http://news.test' });
      cookies = await browser.cookies();
      report('default, campaign from news.test', cookies, hit);
      for (const name of ['tl_vid', 'tl_ft', 'tl_lt', 'utm_source']) {
        const left = lifetime(cookies, name);
        expect(left, name).toBeLessThanOrEqual(7 * DAY + SLACK);
        expect(left, name).toBeGreaterThan(6 * DAY);
      }
      expect(cookie(cookies, 'tl_vid').domain).toMatch(/^\.?shop\.test$/);
    });

    it('caps them at 24 hours after an ad click from a domain ITP classified as a tracker', async () => {
      browser = await launchWebKit({ hosts: hosts() });
      await browser.classifyAsTracker('tracker.test');
      const since = browser.requests.length;
      const hit = await land(browser, LANDING, HIT, { from: 'http://tracker.test' });
      expect(browser.requests.slice(since).find((r) => r.url === LANDING)?.referer).toBe('http://tracker.test/');
      const cookies = (await browser.cookies()).filter((c) => c.domain.endsWith('shop.test'));
      report('default, ad click from tracker.test', cookies, hit);
      for (const name of ['tl_vid', 'tl_ft', 'tl_lt', 'utm_source']) {
        const left = lifetime(cookies, name);
        expect(left, name).toBeLessThanOrEqual(DAY + SLACK);
        expect(left, name).toBeGreaterThan(DAY - 10 * 60);
      }
      // Control: the same decorated landing from a domain ITP has not classified keeps 7 days.
      await land(browser, LANDING.replace(SHOP, 'www.other.test'), HIT, { from: 'http://news.test' });
      const other = (await browser.cookies()).filter((c) => c.domain.endsWith('other.test'));
      report('default, control: www.other.test, same landing from news.test', other);
      expect(lifetime(other, 'tl_vid')).toBeGreaterThan(6 * DAY);
      expect(lifetime(other, 'tl_lt')).toBeGreaterThan(6 * DAY);
    });
  });

  describe('first-party mode (the collector sets the cookies): full lifetimes', () => {
    const HIT = `http://${SHOP}/_tl/hit`;
    const hosts = () => ({ [SHOP]: fpPort, 'collector.test': collectorPort });

    /** The full-lifetime checks: each cookie on the registrable domain with what it asked. */
    function expectFull(cookies: StoredCookie[], names: Record<string, number>, hit: SeenRequest): void {
      for (const [name, days] of Object.entries(names)) {
        const c = cookie(cookies, name);
        const left = c.expires - nowSeconds();
        const evidence = `${name}: ${left} s left; the hit's answer set ${JSON.stringify(hit.answer?.setCookie)}`;
        expect(left, evidence).toBeGreaterThan(days * DAY - SLACK);
        expect(left, evidence).toBeLessThanOrEqual(days * DAY + SLACK);
        expect(c.domain, name).toMatch(/^\.?shop\.test$/);
      }
    }

    /** An internal page within the visit window: no hit, no id asked, and tl_vid exactly as it was. */
    async function internalPage(b: WebKitBrowser, capDays: number): Promise<void> {
      const before = cookie(await b.cookies(), 'tl_vid');
      const since = b.requests.length;
      // Reached by a link of the site (the harness's page on the site's host sends the browser on).
      await b.open(`http://${SHOP}/next.html`, { from: `http://${SHOP}`, until: isGet(`http://${SHOP}/_tl/c.js`) });
      await request(b, since, (r) => r.url.endsWith('/written?probe2'));
      await sleep(600);
      const page = b.requests.slice(since).find((r) => r.url === `http://${SHOP}/next.html`);
      expect(page?.referer).toMatch(new RegExp(`^http://${SHOP.replace(/\./g, '\\.')}/`));
      const asked = b.requests.slice(since).filter((r) => /\/_tl\/(hit|vid|p\.gif)/.test(r.url));
      expect(asked.map((r) => r.url)).toEqual([]);
      const cookies = await b.cookies();
      report('first-party, internal page next.html', cookies);
      const after = cookie(cookies, 'tl_vid');
      // Not written again (by anyone): the same value and expiry, still ~400 days.
      expect(after).toEqual(before);
      expect(after.expires - nowSeconds()).toBeGreaterThan(VID_DAYS * DAY - SLACK - 60);
      // Control: this page's own script cookie is capped.
      expect(lifetime(cookies, 'probe2')).toBeLessThanOrEqual(capDays * DAY + SLACK);
    }

    it('keeps tl_vid for 400 days and the touches for 90 on a direct visit; an internal page does not cap tl_vid', async () => {
      browser = await launchWebKit({ hosts: hosts() });
      const hit = await land(browser, `http://${SHOP}/`, HIT, { probe: 'probe' });
      expect(hit.answer?.status).toBe(204);
      let cookies = await browser.cookies();
      report('first-party, direct', cookies, hit);
      const vid = browser.requests.find((r) => r.url.startsWith(`http://${SHOP}/_tl/vid`));
      if (vid) report('first-party, direct: the id request', [], vid);
      expectFull(cookies, { tl_vid: VID_DAYS, tl_ft: TOUCH_DAYS }, hit);
      expect(cookies.filter((c) => c.name === 'tl_lt')).toEqual([]); // a direct visit is no touch
      // Control: the page's own script cookie, on the same page, is capped at 7 days.
      expect(lifetime(cookies, 'probe')).toBeLessThanOrEqual(7 * DAY + SLACK);
      expect(lifetime(cookies, 'probe')).toBeGreaterThan(6 * DAY);

      await internalPage(browser, 7);

      // A campaign landing from a site ITP has not classified: the last touch and utm_* for 90 days.
      const landing = await land(browser, `http://${SHOP}/?utm_source=newsletter&utm_medium=email`, HIT, { from: 'http://news.test', probe: 'probe' });
      cookies = await browser.cookies();
      report('first-party, campaign from news.test', cookies, landing);
      expectFull(cookies, { tl_vid: VID_DAYS, tl_ft: TOUCH_DAYS, tl_lt: TOUCH_DAYS, utm_source: TOUCH_DAYS, utm_medium: TOUCH_DAYS }, landing);
      expect(cookie(cookies, 'utm_source').value).toBe('newsletter');

      // A landing from another site without a campaign, within the visit window: no visit to
      // count (the throttle), but a new last touch, which the first-party build sends all the
      // same, so the collector's answer sets it at full lifetime (its own throttle drops the visit).
      const referral = await land(browser, `http://${SHOP}/?from=news`, HIT, { from: 'http://news.test', probe: 'probe' });
      cookies = await browser.cookies();
      report('first-party, referral from news.test within the window', cookies, referral);
      expectFull(cookies, { tl_lt: TOUCH_DAYS }, referral);
      expect(decodeURIComponent(cookie(cookies, 'tl_lt').value)).toBe(`http://${SHOP}/?from=news http://news.test/`);
    });

    it('keeps them after an ad click from a domain ITP classified as a tracker, where a script cookie gets 24 hours', async () => {
      browser = await launchWebKit({ hosts: hosts() });
      await browser.classifyAsTracker('tracker.test');
      const since = browser.requests.length;
      const hit = await land(browser, LANDING, HIT, { from: 'http://tracker.test', probe: 'probe' });
      expect(browser.requests.slice(since).find((r) => r.url === LANDING)?.referer).toBe('http://tracker.test/');
      expect(setNames(hit)).toEqual(expect.arrayContaining(['tl_vid', 'tl_ft', 'tl_lt', 'utm_source']));
      const cookies = await browser.cookies();
      report('first-party, ad click from tracker.test', cookies, hit);
      expectFull(cookies, { tl_vid: VID_DAYS, tl_ft: TOUCH_DAYS, tl_lt: TOUCH_DAYS, utm_source: TOUCH_DAYS, utm_medium: TOUCH_DAYS }, hit);
      expect(cookie(cookies, 'utm_source').value).toBe('google');
      expect(cookie(cookies, 'tl_lt').value).toContain('gclid%3DCj0KCQ-fp-test');
      // Control: this landing was of the capped kind: the page's own script cookie got 24 hours.
      expect(lifetime(cookies, 'probe')).toBeLessThanOrEqual(DAY + SLACK);
      expect(lifetime(cookies, 'probe')).toBeGreaterThan(DAY - 10 * 60);

      await internalPage(browser, 7);
    });
  });
});
