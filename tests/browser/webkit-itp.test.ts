// What Safari's Intelligent Tracking Prevention does to a site's cookies, measured
// in WebKitGTK (Debian's MiniBrowser, ITP on, a persistent profile; see
// tests/helpers/webkit.ts for why not WebDriver):
//   - a cookie written by `document.cookie` lives at most 7 days, whatever it asks;
//   - after landing through a decorated link (?gclid=…) from a domain ITP has
//     classified as a tracker, at most 24 hours;
//   - a cookie from the site's own Set-Cookie header keeps its full lifetime.
// Each case also checks a neighbour that must NOT be capped the same way, so a
// harness that capped everything (or nothing) would fail.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchWebKit, webkitMissing, WEBKIT_AVAILABLE, type StoredCookie, type WebKitBrowser } from '../helpers/webkit.js';

const DAY = 86_400;
const ASKED = 400 * DAY; // what both cookies ask for
const SLACK = 60; // seconds between the write and our read, and rounding

// The site's page: Set-Cookie `b` from the server, `a` from the page's script.
// The script writes after the load event (as an analytics tag loaded async does):
// ITP learns that the page was reached through a decorated link from a tracker
// only once the UI process has seen the navigation commit and told the network
// process, and a cookie written by an inline script can get there first (measured:
// an inline write kept its 7 days on 2 of 9 such landings; written after load, 0 of 17).
const PAGE = `<!doctype html><title>shop</title><script>
addEventListener('load', function () {
  setTimeout(function () {
    document.cookie = 'a=1; max-age=${ASKED}; path=/';
    fetch('/written');
  }, 300);
});
</script>`;

let site: Server;
let port: number;

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/written') return void res.writeHead(204).end();
    if (path !== '/') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': `b=1; Max-Age=${ASKED}; Path=/` });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  port = (site.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve())));

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Seconds left to live of the cookie `name` on `host`. */
function lifetime(cookies: StoredCookie[], host: string, name: string): number {
  const c = cookies.find((x) => x.domain === host && x.name === name);
  expect(c, `cookie ${name} on ${host} in ${JSON.stringify(cookies)}`).toBeDefined();
  return c!.expires - nowSeconds();
}

const missing = webkitMissing();
if (!WEBKIT_AVAILABLE) {
  // The only reason to skip: CI installs these with scripts/webkit-deps.sh. Said
  // aloud too, since a skipped test's name is not printed by the default reporter.
  const why = `WebKitGTK ITP tests skipped: missing ${missing.join(', ')}; run scripts/webkit-deps.sh`;
  console.warn(why);
  it.skip(why, () => {});
}

describe.runIf(WEBKIT_AVAILABLE)('Safari ITP cookie caps (WebKitGTK MiniBrowser)', () => {
  let browser: WebKitBrowser | undefined;
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });

  const hosts = () => ({ 'www.shop.test': port, 'www.plain.test': port, 'www.other.test': port });
  const written = { until: '/written' };

  it('caps a script-written cookie at 7 days on a direct visit', async () => {
    browser = await launchWebKit({ hosts: hosts() });
    await browser.open('http://www.shop.test/', written);
    const a = lifetime(await browser.cookies(), 'www.shop.test', 'a');
    expect(a).toBeLessThanOrEqual(7 * DAY + SLACK);
    expect(a).toBeGreaterThan(6 * DAY);
  });

  it('keeps the full lifetime of a cookie set by the server (Set-Cookie)', async () => {
    browser = await launchWebKit({ hosts: hosts() });
    await browser.open('http://www.shop.test/', written);
    const cookies = await browser.cookies();
    const b = lifetime(cookies, 'www.shop.test', 'b');
    expect(b).toBeGreaterThan(ASKED - SLACK);
    expect(b).toBeLessThanOrEqual(ASKED + SLACK);
    // On the same page, the script's cookie was capped: the difference is the header.
    expect(lifetime(cookies, 'www.shop.test', 'a')).toBeLessThanOrEqual(7 * DAY + SLACK);
  });

  it('caps it at 24 hours after a decorated link from a domain ITP classified as a tracker', async () => {
    browser = await launchWebKit({ hosts: hosts() });
    // ITP classifies tracker.test itself: a pixel of it on 4 first-party sites.
    await browser.classifyAsTracker('tracker.test');
    expect((await browser.itpDomains()).find((d) => d.domain === 'tracker.test')?.prevalent).toBe(true);

    // The ad click: from a page of tracker.test to the site with a click id.
    await browser.open('http://www.shop.test/?gclid=Cj0KCQ-test', { from: 'http://tracker.test', ...written });
    const landing = browser.requests.find((r) => r.url === 'http://www.shop.test/?gclid=Cj0KCQ-test');
    expect(landing?.referer).toBe('http://tracker.test/');
    // Neighbours, in the same profile: the tracker without decoration, and the
    // decoration from a domain ITP has not classified. Both keep the 7-day cap.
    await browser.open('http://www.plain.test/', { from: 'http://tracker.test', ...written });
    await browser.open('http://www.other.test/?gclid=Cj0KCQ-test', { from: 'http://news.test', ...written });

    const cookies = await browser.cookies();
    const a = lifetime(cookies, 'www.shop.test', 'a');
    expect(a).toBeLessThanOrEqual(DAY + SLACK);
    expect(a).toBeGreaterThan(DAY - 10 * 60);
    expect(lifetime(cookies, 'www.shop.test', 'b')).toBeGreaterThan(ASKED - SLACK);

    expect(lifetime(cookies, 'www.plain.test', 'a')).toBeGreaterThan(6 * DAY);
    expect(lifetime(cookies, 'www.other.test', 'a')).toBeGreaterThan(6 * DAY);
  });
});
