// The first-party snippets a site owner copies (deploy/first-party/: nginx,
// Apache, Caddy, PHP) in the real servers, each forwarding the site's own path
// (/_tl/, or /tl.php/ for PHP) to a real collector's /fp/: the tracker's
// first-party build byte for byte, the visitor id and its cookie on the domain
// the browser asked for, a hit stored with the browser's own address (the
// X-Forwarded-For chain) and answered with every cookie it sets, and the
// site's cookies reaching the collector. The client is this test, talking from
// 127.0.0.2 (the servers and the collector are on 127.0.0.1), with the Host of
// the site, www.shop.test, whose registrable domain is shop.test.
//
// A server that is not installed is skipped, saying so: CI installs them all
// with scripts/web-servers-deps.sh.
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { newEventId } from '../helpers/ids.js';
import { BROWSER_UA } from '../helpers/load.js';
import { missingFor, SITE_PAGE, startWebServer, WEB_SERVERS, type RunningWebServer, type WebServerKind } from '../helpers/web-servers.js';
import { dropRedisPrefix } from '../helpers/redis.js';

/** The browser's address: another loopback address than the servers', so the collector's view of it is telling. */
const BROWSER_IP = '127.0.0.2';
const HOST = 'www.shop.test';
const SITE_ORIGIN = `http://${HOST}`;
const LANDING = `${SITE_ORIGIN}/?utm_source=google&utm_medium=cpc`;
const VID = /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}$/;

type Answer = { status: number; headers: IncomingHttpHeaders; body: Buffer; text: string; cookies: string[] };

/**
 * One request as a browser on BROWSER_IP (or `from`) sends it (node:http: fetch
 * would not let the test set Host, nor the address it talks from). No
 * Accept-Encoding: the bytes come back as the collector sent them.
 */
function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Answer> {
  // The path exactly as given (no URL parsing, which would resolve a `..`).
  const [, host, port, path] = /^http:\/\/([^/:]+):(\d+)(\/.*)$/.exec(url)!;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        path,
        method: opts.method ?? 'GET',
        localAddress: opts.from ?? BROWSER_IP,
        headers: { 'User-Agent': BROWSER_UA, ...opts.headers },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8'), cookies: res.headers['set-cookie'] ?? [] });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The Set-Cookie line for `name`, parsed: its value and attributes (lower-case names). */
function cookie(lines: string[], name: string): { value: string; attrs: Map<string, string> } | undefined {
  const line = lines.find((l) => l.startsWith(`${name}=`));
  if (!line) return undefined;
  const [pair, ...rest] = line.split(';');
  const attrs = new Map(rest.map((a) => a.trim()).map((a) => [a.split('=')[0]!.toLowerCase(), a.includes('=') ? a.slice(a.indexOf('=') + 1) : ''] as [string, string]));
  return { value: decodeURIComponent(pair!.slice(name.length + 1)), attrs };
}

const visitHit = (v: string, over: Record<string, unknown> = {}) =>
  JSON.stringify({ s: 'shop', k: 'visit', e: newEventId(), t: Date.now(), u: LANDING, r: 'https://www.google.com/', v, g: '', y: '', ...over });

/** A stored hit's columns this test reads. */
type Row = { kind: string; visitor_id: string; url: string; utm_source: string; utm_medium: string; user_agent: string; ip_hash: string };
const COLUMNS = 'kind, visitor_id, url, utm_source, utm_medium, user_agent, ip_hash';

describe('first-party snippets in real web servers', () => {
  const prefix = `fp_${randomBytes(4).toString('hex')}:`;
  const fJs = readFileSync(join(ROOT, 'dist', 'tracker', 'f.js'));
  let db: TestDatabase;
  let collector: RunningCollector;
  /** ip_hash of a hit sent straight to the collector from BROWSER_IP, and from 127.0.0.1 (the servers' address). */
  const direct = { browser: '', server: '' };

  const storedHit = async (event: string): Promise<Row | undefined> =>
    (await eventually(() => db.rows<Row>(`SELECT ${COLUMNS} FROM hits WHERE event_id = '${event}'`)))[0];

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      REDIS_PREFIX: prefix,
      BATCH_MAX_MS: '100',
      // The web servers are on loopback; so is the test's browser.
      TRUSTED_PROXIES: 'loopback',
      // Only the site's own origin may send hits: an Origin the forwarder drops would pass.
      SITES: JSON.stringify({ shop: { origins: [SITE_ORIGIN] } }),
      VISIT_THROTTLE_SECONDS: '0',
      VID_RATE_LIMIT_PER_MINUTE: '0',
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    // The addresses' hashes as the collector stores them today (IP_MODE=hash: salted, so compared, not
    // computed): the day's salt, which the collector reads from Redis before it listens (privacy/salt.ts).
    for (const [who, from] of [['browser', BROWSER_IP], ['server', '127.0.0.1']] as const) {
      const e = newEventId();
      const r = await send(`${collector.url}/hit`, { method: 'POST', from, body: visitHit('DRCT23', { e }), headers: { 'Content-Type': 'text/plain' } });
      expect(r.status, `direct hit from ${from}: ${r.text}`).toBe(204);
      const hash = (await storedHit(e))!.ip_hash;
      direct[who] = hash;
    }
    expect(direct.browser).toMatch(/\S/);
    expect(direct.browser, 'the two loopback addresses hash alike: the test could not tell them apart').not.toBe(direct.server);
  });

  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    await dropRedisPrefix(prefix);
  });

  for (const kind of WEB_SERVERS) {
    const missing = missingFor(kind);
    if (missing) {
      // Said aloud, in the run's output and in the test's name: never a silent skip.
      console.warn(`[first-party-snippets] SKIPPING ${kind}: ${missing}`);
      describe.skip(`${kind} (skipped: ${missing})`, () => {
        it('forwards the first-party path to the collector', () => {});
      });
      continue;
    }
    describeServer(kind);
  }

  function describeServer(kind: WebServerKind) {
    describe(kind, () => {
      let server: RunningWebServer;
      const at = (path: string) => `${server.url}${server.prefix}${path}`;
      /** A request as the browser on the site sends it. */
      const browser = (path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
        send(at(path), { ...opts, headers: { Host: HOST, Referer: `${SITE_ORIGIN}/`, ...opts.headers } });

      beforeAll(async () => {
        server = await startWebServer(kind, collector.url);
      });
      afterAll(async () => {
        await server?.stop();
      });

      it('serves the site itself', async () => {
        const page = await send(`${server.url}/`, { headers: { Host: HOST } });
        expect(page.status).toBe(200);
        expect(page.text).toBe(SITE_PAGE);
      });

      it("serves the tracker's first-party build, byte for byte", async () => {
        const r = await browser('t.js');
        expect(r.status, server.output()).toBe(200);
        expect(r.headers['content-type']).toMatch(/^text\/javascript/);
        expect(r.headers['cache-control']).toMatch(/max-age=3600/);
        expect(r.body.equals(fJs), 'not the bytes of dist/tracker/f.js').toBe(true);
        expect(r.cookies).toEqual([]);
      });

      it("issues a visitor id with its cookie on the registrable domain the browser asked for, not Secure over http", async () => {
        // The browser's own X-Forwarded-Host and -Proto are no one's word: the server's own are.
        const r = await browser('vid', { headers: { 'X-Forwarded-Host': 'evil.test', 'X-Forwarded-Proto': 'https' } });
        expect(r.status, server.output()).toBe(200);
        expect(r.headers['content-type']).toMatch(/^text\/plain/);
        expect(r.headers['cache-control']).toBe('no-store');
        expect(r.text).toMatch(VID);
        expect(r.cookies).toHaveLength(1);
        const c = cookie(r.cookies, 'tl_vid')!;
        expect(c.value).toBe(r.text);
        expect(c.attrs.get('domain')).toBe('shop.test');
        expect(c.attrs.get('max-age')).toBe('34560000');
        expect(c.attrs.get('path')).toBe('/');
        expect(c.attrs.get('samesite')).toBe('Lax');
        expect(c.attrs.has('secure')).toBe(false);
      });

      it("forwards a hit: 204 with every cookie it sets, stored with the browser's address, user agent and campaign", async () => {
        const v = (await browser('vid')).text;
        expect(v).toMatch(VID);
        const e = newEventId();
        const r = await browser('hit', {
          method: 'POST',
          body: visitHit(v, { e }),
          headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: SITE_ORIGIN, Cookie: `tl_vid=${v}` },
        });
        expect(r.status, `${r.text}\n${server.output()}`).toBe(204);
        for (const name of ['tl_vid', 'tl_ft', 'tl_lt', 'utm_source', 'utm_medium']) {
          expect(cookie(r.cookies, name), `Set-Cookie ${name} in ${JSON.stringify(r.cookies)}`).toBeDefined();
          expect(cookie(r.cookies, name)!.attrs.get('domain')).toBe('shop.test');
        }
        expect(cookie(r.cookies, 'tl_vid')!.value).toBe(v);
        expect(cookie(r.cookies, 'utm_source')!.value).toBe('google');
        expect(cookie(r.cookies, 'utm_medium')!.value).toBe('cpc');
        const row = await storedHit(e);
        expect(row).toMatchObject({ kind: 'visit', visitor_id: v, url: LANDING, utm_source: 'google', utm_medium: 'cpc', user_agent: BROWSER_UA });
        // The X-Forwarded-For chain worked: the collector saw the browser, not the server in front of it.
        expect(row!.ip_hash, 'the stored address is not the browser\'s').toBe(direct.browser);
        expect(row!.ip_hash).not.toBe(direct.server);
      });

      it('forwards a lead', async () => {
        const v = (await browser('vid')).text;
        const e = newEventId();
        const r = await browser('lead', {
          method: 'POST',
          body: visitHit(v, { e, k: 'lead', u: `${SITE_ORIGIN}/contact` }),
          headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: SITE_ORIGIN, Cookie: `tl_vid=${v}` },
        });
        expect(r.status, `${r.text}\n${server.output()}`).toBe(204);
        expect(cookie(r.cookies, 'tl_vid')?.value).toBe(v);
        expect(await storedHit(e)).toMatchObject({ kind: 'lead', visitor_id: v, url: `${SITE_ORIGIN}/contact` });
      });

      it("passes the browser's Origin on: a hit from another origin is refused", async () => {
        const r = await browser('hit', { method: 'POST', body: visitHit('RGN234'), headers: { 'Content-Type': 'text/plain', Origin: 'http://evil.test' } });
        expect(r.status).toBe(403);
        expect(JSON.parse(r.text)).toEqual({ error: 'origin_not_allowed' });
      });

      it("passes the site's cookies on: the visitor's id comes back from tl_vid, or from _ga after a hit that carried both", async () => {
        const v = (await browser('vid')).text;
        const again = await browser('vid', { headers: { Cookie: `tl_vid=${v}` } });
        expect(again.text).toBe(v);
        const ga = `${randomInt(1e9)}.${randomInt(1e9)}`;
        const hit = await browser('hit', {
          method: 'POST',
          body: visitHit(v, { g: ga }),
          headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: SITE_ORIGIN, Cookie: `tl_vid=${v}; _ga=GA1.2.${ga}` },
        });
        expect(hit.status).toBe(204);
        // The tl_vid cookie is lost (Safari's cap); the site's _ga cookie names the visitor.
        const byGa = async () => (await browser('vid', { headers: { Cookie: `_ga=GA1.2.${ga}` } })).text;
        expect(await eventually(byGa, 3000, (id) => id === v)).toBe(v);
        // Without any cookie: a new visitor.
        const fresh = (await browser('vid')).text;
        expect(fresh).toMatch(VID);
        expect(fresh).not.toBe(v);
      });

      it("passes the query and the Referer on: the pixel stores the page it was on", async () => {
        const e = newEventId();
        const page = `${SITE_ORIGIN}/noscript/${e}`;
        const r = await browser(`p.gif?s=shop&e=${e}&v=PXQ234`, { headers: { Referer: page } });
        expect(r.status, server.output()).toBe(200);
        expect(r.headers['content-type']).toBe('image/gif');
        expect(cookie(r.cookies, 'tl_vid')?.value).toBe('PXQ234');
        expect((await storedHit(e))?.url).toBe(page);
      });

      it('refuses a body over 16 KB', async () => {
        const r = await browser('hit', { method: 'POST', body: visitHit('BGG234', { p: { x: 'y'.repeat(20_000) } }), headers: { 'Content-Type': 'text/plain' } });
        expect(r.status).toBe(413);
      });

      if (kind === 'php') {
        it("forwards nothing but the collector's first-party files", async () => {
          for (const path of ['metrics', 'fp/vid', 'vid/', 'VID', 'vid%00', 'healthz', '']) {
            const r = await browser(path);
            expect(r.status, path).toBe(404);
            expect(r.cookies, path).toEqual([]);
          }
        });
      }
    });
  }
});
