// WebKitGTK (Debian's MiniBrowser) with Intelligent Tracking Prevention on and a
// persistent profile, for tests that measure what Safari does to our cookies.
//
// Why MiniBrowser run directly, and not WebKitWebDriver: a WebDriver session
// starts MiniBrowser with --automation, which gives it an ephemeral data store,
// and ITP caps nothing there (measured on 2.50.6: a `document.cookie` written with
// max-age=400 days kept its 400 days). Run directly, with --enable-itp and a data
// directory of its own, MiniBrowser caps the same cookie at 7 days, as Safari does.
// The price: nothing can drive a running MiniBrowser, so every open() starts it
// anew on the same profile, with a page of the harness on its command line that
// sends the browser on to the URL once ITP is in force (a direct visit: from the
// URL's own origin, with no referrer). Multi-step journeys are driven by the
// pages themselves (location.href). What persists across opens is what persists
// across a browser restart: the cookie store and ITP's database.
//
// Host names: WebKitGTK has no host-resolver switch, so the browser talks to an
// HTTP proxy of ours (MiniBrowser --proxy) that sends each host name to a local
// port. The proxy also answers, on any host, a few pages of the harness's own
// under /__webkit/ (a bounce page for landing "from" a domain, a pixel and the
// pages that embed it, for ITP's classifier), and it appends to every HTML page it
// forwards a one-line script that reports the page's load event, so open() knows
// when the page has loaded.
//
// The cookie store is libsoup's SQLite file (table moz_cookies, expiry in epoch
// seconds). libsoup writes each cookie change to it at once (measured: a cookie
// set by the page is in the file before the page's next request reaches the
// proxy), so it can be read while the browser runs.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

// WEBKIT_MINIBROWSER, when set, is the only one tried.
const MINIBROWSER_CANDIDATES = process.env.WEBKIT_MINIBROWSER
  ? [process.env.WEBKIT_MINIBROWSER]
  : ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/libexec/webkit2gtk-4.1/MiniBrowser'];

export const MINIBROWSER = MINIBROWSER_CANDIDATES.find((p) => existsSync(p)) ?? MINIBROWSER_CANDIDATES[0]!;
const XVFB = '/usr/bin/Xvfb';
const SQLITE3 = '/usr/bin/sqlite3';

/** What is missing for the harness to run (empty when everything is there). */
export function webkitMissing(): string[] {
  const missing: string[] = [];
  if (!existsSync(MINIBROWSER)) missing.push(`MiniBrowser (${MINIBROWSER}, package libwebkit2gtk-4.1-0)`);
  if (!existsSync(XVFB)) missing.push(`${XVFB} (package xvfb)`);
  if (!existsSync(SQLITE3)) missing.push(`${SQLITE3} (package sqlite3)`);
  return missing;
}

export const WEBKIT_AVAILABLE = webkitMissing().length === 0;

/** A cookie as the profile's cookie store holds it. */
export type StoredCookie = {
  name: string;
  value: string;
  domain: string;
  path: string;
  /** Epoch seconds. */
  expires: number;
  secure: boolean;
  httpOnly: boolean;
};

/** A domain as ITP's database (observations.db) holds it. */
export type ItpDomain = { domain: string; prevalent: boolean; veryPrevalent: boolean; hadUserInteraction: boolean };

/** A request the proxy saw (forwarded, or answered by the harness). */
export type SeenRequest = {
  method: string;
  url: string;
  referer: string | undefined;
  at: number;
  /** Once a forwarded request's answer has been passed on whole: its status and Set-Cookie headers (evidence of what the server set). */
  answer?: { status: number; setCookie: string[]; at: number };
};

export type LaunchOptions = {
  /** Host name → port on 127.0.0.1 that serves it. Names not listed get a 502 (except the harness's own /__webkit/ pages). */
  hosts?: Record<string, number>;
  /** Reuse this profile directory (it is kept at close); default: a fresh temporary one, removed at close. */
  profileDir?: string;
  /** Extra MiniBrowser arguments. */
  args?: string[];
};

export type OpenOptions = {
  /**
   * Arrive from a page of this origin (e.g. 'http://tracker.test'): the harness
   * serves a page there that sends the browser on to `url` by script
   * (location.href), so the navigation's source and referrer are that origin.
   */
  from?: string;
  /** Also wait for a request whose URL contains this string, or that satisfies this test. */
  until?: string | ((r: SeenRequest) => boolean);
  /** Give up after this many ms (default 20 s). */
  timeoutMs?: number;
};

export interface WebKitBrowser {
  readonly profileDir: string;
  /** Every request the proxy saw since launch. */
  readonly requests: readonly SeenRequest[];
  /**
   * Starts MiniBrowser on the profile (stopping the one running, if any) with
   * `url` (or the `from` page leading to it) and waits until a page that is not
   * the harness's has fired its load event, and the `until` request, if any.
   */
  open(url: string, opts?: OpenOptions): Promise<void>;
  /** The cookies in the profile's cookie store. */
  cookies(): Promise<StoredCookie[]>;
  /** The domains in ITP's database. */
  itpDomains(): Promise<ItpDomain[]>;
  /**
   * Has ITP classify `domain` as a tracker (prevalent resource) the way it does in
   * the wild: `sites` first-party sites (in tabs) each load a pixel from it. Waits
   * until ITP's database says it is prevalent, then stops the browser: the list of
   * domains whose third-party cookies are blocked, which the 24-hour cap consults,
   * reaches the network process when it starts (and otherwise only at ITP's next
   * processing pass), so the next open() sees the domain as a tracker at once.
   * (WebKit's ITP debug mode, which makes 3rdpartytestwebkit.org prevalent, has
   * no switch in MiniBrowser: its `-F ItpDebugMode` feature is a preference the
   * network process never reads; measured, the domain stays non-prevalent.)
   */
  classifyAsTracker(domain: string, opts?: { sites?: number; timeoutMs?: number }): Promise<void>;
  /** Stops the browser (if running). The profile stays. */
  stop(): Promise<void>;
  /** Stops everything this browser started and removes its temporary directories. */
  close(): Promise<void>;
}

const HARNESS = '/__webkit/';
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
// Appended to forwarded HTML: reports the top-level page's load event to the proxy.
const LOAD_BEACON = `<script>if(top===self)addEventListener('load',function(){fetch('${HARNESS}loaded?href='+encodeURIComponent(location.href),{keepalive:true}).catch(function(){})})</script>`;

// Processes still running, killed if the test process exits without closing them.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) signalGroup(p, 'SIGKILL');
});

const running = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

function signalGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined) return;
  try {
    // Started detached, so the process leads its own group: this reaches
    // MiniBrowser's web and network processes too, and nothing else.
    process.kill(-p.pid, signal);
  } catch {
    /* the whole group is gone */
  }
}

async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  // Once stopped, never signalled again: its group id could be someone else's by then.
  if (!p || !live.has(p)) return;
  if (running(p)) {
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    signalGroup(p, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(p, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  // A web or network process that outlived its parent by a moment.
  signalGroup(p, 'SIGKILL');
  live.delete(p);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts Xvfb on a free display (it picks the number and tells it through fd 3). */
async function startXvfb(): Promise<{ display: string; proc: ChildProcess }> {
  const proc = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => void (stderr += d.toString()));
  const fd3 = proc.stdio[3] as Readable;
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start in 10 s: ${stderr}`)), 10_000);
    fd3.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${out.trim()}`);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}): ${stderr}`));
    });
  });
  return { display, proc };
}

function harnessPage(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
}

// ITP is switched on in the network process a moment after the browser starts (it
// opens its database first), and a cookie written before that keeps whatever it
// asked: measured, the tracker's tl_vid kept 400 days on 1 of 5 first visits on a
// fresh profile, under a full parallel test run more often. So the harness's pages
// that lead to the page under test first write a cookie of their own asking 400
// days (path /__webkit/, out of the site's pages' sight), ask the proxy whether the
// store holds it capped, and send the browser on only once it does (then remove it).
const ITP_PROBE = '__webkit_itp';
const ITP_PROBE_DAYS = 400;
/** A script that runs `then` once ITP caps this origin's script cookies. */
function readyScript(then: string): string {
  return `addEventListener('load',function(){var n=0;(function check(){document.cookie='${ITP_PROBE}='+(++n)+'; max-age=${ITP_PROBE_DAYS * 86400}; path=${HARNESS}';fetch('${HARNESS}itp-capped?n='+n,{cache:'no-store'}).then(function(r){return r.text()}).then(function(t){if(t==='capped'){document.cookie='${ITP_PROBE}=; max-age=0; path=${HARNESS}';${then}}else setTimeout(check,100)},function(){setTimeout(check,100)})})()})`;
}

type Proxy = { server: Server; port: number; seen: SeenRequest[]; onSeen: Set<(r: SeenRequest) => void>; loads: Set<(href: string) => void> };

/** 'capped' when the store holds the ITP probe cookie of `host` at 8 days or less, 'full' when longer, 'none' when absent. */
type ProbeState = 'capped' | 'full' | 'none';

async function startProxy(hosts: Record<string, number>, itpProbe: (host: string) => Promise<ProbeState>): Promise<Proxy> {
  const seen: SeenRequest[] = [];
  const onSeen = new Set<(r: SeenRequest) => void>();
  const loads = new Set<(href: string) => void>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A proxy gets the absolute URL on the request line.
    let url: URL;
    try {
      url = new URL(req.url ?? '', `http://${req.headers.host ?? 'unknown.invalid'}`);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const entry: SeenRequest = { method: req.method ?? 'GET', url: url.href, referer: req.headers.referer, at: Date.now() };
    seen.push(entry);
    for (const f of onSeen) f(entry);

    if (url.pathname.startsWith(HARNESS)) {
      const what = url.pathname.slice(HARNESS.length);
      const q = url.searchParams;
      if (what === 'loaded') {
        res.writeHead(204).end();
        for (const f of loads) f(q.get('href') ?? '');
        return;
      }
      if (what === 'pixel.gif') {
        res.writeHead(200, { 'content-type': 'image/gif', 'cache-control': 'no-store' });
        res.end(PIXEL);
        return;
      }
      if (what === 'embed') {
        // A first-party page that loads a third party's pixel (ITP's classifier counts
        // the distinct top-level sites a domain is loaded under).
        harnessPage(res, `<img src="${escapeAttr(q.get('src') ?? '')}" alt="">`);
        return;
      }
      if (what === 'itp-capped') {
        // Whether the page's ITP probe cookie (see readyScript) is in the store, capped.
        void itpProbe(url.hostname).then(
          (state) => res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end(state),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
        );
        return;
      }
      if (what === 'go' || what === 'bounce') {
        // Sends the browser on by script once ITP is in force (readyScript). 'bounce':
        // the navigation's source (what ITP looks at) and the referrer are this page's
        // origin, for landing "from" it; 'go' (on the target's own origin) sends no
        // referrer, for a direct visit.
        const to = q.get('to') ?? 'about:blank';
        const delay = Number(q.get('delay') ?? 300);
        const meta = what === 'go' ? '<meta name="referrer" content="no-referrer">' : '';
        harnessPage(res, `${meta}<script>${readyScript(`setTimeout(function(){location.href=${JSON.stringify(to).replace(/</g, '\\u003c')}},${delay})`)}</script>`);
        return;
      }
      res.writeHead(404).end();
      return;
    }

    const port = hosts[url.hostname];
    if (port === undefined) {
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`webkit harness: no port for host ${url.hostname}`);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: url.pathname + url.search, headers }, (up) => {
      res.once('finish', () => {
        entry.answer = { status: up.statusCode ?? 0, setCookie: up.headers['set-cookie'] ?? [], at: Date.now() };
      });
      const type = String(up.headers['content-type'] ?? '');
      const inject = type.startsWith('text/html') && !up.headers['content-encoding'] && req.method === 'GET';
      if (!inject) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat([...chunks, Buffer.from(LOAD_BEACON)]);
        const out = { ...up.headers, 'content-length': String(body.length) };
        delete out['transfer-encoding'];
        res.writeHead(up.statusCode ?? 502, out);
        res.end(body);
      });
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`webkit harness: ${url.host}: ${err.message}`);
    });
    req.pipe(upstream);
  });
  // A page may open CONNECT tunnels (https): we serve plain HTTP only.
  server.on('connect', (_req, socket) => socket.end('HTTP/1.1 501 Not Implemented\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen, onSeen, loads };
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

async function sqliteJson<T>(file: string, sql: string): Promise<T[]> {
  if (!existsSync(file)) return [];
  try {
    // -readonly: the browser owns the file; .timeout waits out its write lock.
    const { stdout } = await run(SQLITE3, ['-readonly', '-json', '-cmd', '.timeout 3000', file, sql]);
    return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
  } catch (err) {
    // The browser creates the file a moment before its tables (seen with ITP's
    // database while classifyAsTracker polls it): nothing in it yet.
    if (/no such table/.test(String((err as { stderr?: unknown }).stderr ?? ''))) return [];
    throw err;
  }
}

export async function launchWebKit(opts: LaunchOptions = {}): Promise<WebKitBrowser> {
  const missing = webkitMissing();
  if (missing.length) throw new Error(`WebKitGTK harness: missing ${missing.join(', ')}; run scripts/webkit-deps.sh`);

  const ownProfile = !opts.profileDir;
  const profileDir = opts.profileDir ?? (await mkdtemp(join(tmpdir(), 'webkit-profile-')));
  const dirs = { data: join(profileDir, 'data'), cache: join(profileDir, 'cache'), config: join(profileDir, 'config'), runtime: join(profileDir, 'runtime') };
  for (const d of Object.values(dirs)) await mkdir(d, { recursive: true, mode: 0o700 });
  const cookieFile = join(profileDir, 'cookies.sqlite');
  // MiniBrowser keeps its website data under $XDG_DATA_HOME/webkitgtk-4.1/MiniBrowser.
  const itpDb = join(dirs.data, 'webkitgtk-4.1', 'MiniBrowser', 'itp', 'observations.db');

  let xvfb: { display: string; proc: ChildProcess } | undefined;
  let proxy: Proxy | undefined;
  let browser: ChildProcess | undefined;
  let browserLog = '';
  try {
    xvfb = await startXvfb();
    proxy = await startProxy(opts.hosts ?? {}, async (host) => {
      const rows = await sqliteJson<{ expiry: number }>(cookieFile, `SELECT expiry FROM moz_cookies WHERE name = '${ITP_PROBE}' AND host = '${host.replace(/'/g, "''")}'`);
      if (!rows.length) return 'none';
      return Math.max(...rows.map((r) => r.expiry)) - Date.now() / 1000 <= 8 * 86400 ? 'capped' : 'full';
    });
  } catch (err) {
    await stopProcess(xvfb?.proc);
    proxy?.server.close();
    if (ownProfile) await rm(profileDir, { recursive: true, force: true });
    throw err;
  }
  const { display } = xvfb;
  const px = proxy;

  async function start(urls: string[]): Promise<void> {
    await stopProcess(browser);
    browserLog = '';
    const args = [
      '--enable-itp',
      `--proxy=http://127.0.0.1:${px.port}`,
      `--cookies-file=${cookieFile}`,
      ...(opts.args ?? []),
      ...urls,
    ];
    const p = spawn(MINIBROWSER, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: profileDir,
        DISPLAY: display,
        XDG_DATA_HOME: dirs.data,
        XDG_CACHE_HOME: dirs.cache,
        XDG_CONFIG_HOME: dirs.config,
        XDG_RUNTIME_DIR: dirs.runtime,
        // No session bus here: do not let GLib start one, nor GTK look for the a11y bus.
        DBUS_SESSION_BUS_ADDRESS: 'disabled:',
        NO_AT_BRIDGE: '1',
        GDK_BACKEND: 'x11',
        LANG: 'C.UTF-8',
      },
    });
    live.add(p);
    const keep = (d: Buffer) => void (browserLog = (browserLog + d.toString()).slice(-4000));
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    browser = p;
  }

  function exitedEarly(): Error | undefined {
    const p = browser;
    if (p && !running(p)) return new Error(`MiniBrowser exited (${p.exitCode ?? p.signalCode}): ${browserLog}`);
    return undefined;
  }

  const api: WebKitBrowser = {
    profileDir,
    get requests() {
      return px.seen;
    },

    async open(url, o = {}) {
      // Through a harness page either way, which waits until ITP is in force (readyScript).
      const target = o.from ? `${new URL(o.from).origin}${HARNESS}bounce?to=${encodeURIComponent(url)}` : `${new URL(url).origin}${HARNESS}go?delay=0&to=${encodeURIComponent(url)}`;
      const wanted = o.until;
      const matches = typeof wanted === 'string' ? (r: SeenRequest) => r.url.includes(wanted) : wanted;
      let loaded = false;
      let satisfied = !matches;
      const onLoad = (href: string) => {
        if (!new URL(href, 'http://x/').pathname.startsWith(HARNESS)) loaded = true;
      };
      const onSeen = (r: SeenRequest) => {
        if (matches?.(r)) satisfied = true;
      };
      px.loads.add(onLoad);
      px.onSeen.add(onSeen);
      try {
        await start([target]);
        const deadline = Date.now() + (o.timeoutMs ?? 20_000);
        while (!(loaded && satisfied)) {
          const err = exitedEarly();
          if (err) throw err;
          if (Date.now() > deadline) {
            throw new Error(`open(${url}): no ${loaded ? `request matching ${String(wanted)}` : 'page load'} within ${o.timeoutMs ?? 20_000} ms. MiniBrowser said: ${browserLog || '(nothing)'}`);
          }
          await sleep(50);
        }
      } finally {
        px.loads.delete(onLoad);
        px.onSeen.delete(onSeen);
      }
    },

    async cookies() {
      type Row = { name: string; value: string; host: string; path: string; expiry: number; isSecure: number; isHttpOnly: number };
      const rows = await sqliteJson<Row>(cookieFile, 'SELECT name, value, host, path, expiry, isSecure, isHttpOnly FROM moz_cookies');
      return rows.map((r) => ({ name: r.name, value: r.value, domain: r.host, path: r.path, expires: r.expiry, secure: !!r.isSecure, httpOnly: !!r.isHttpOnly }));
    },

    async itpDomains() {
      type Row = { registrableDomain: string; isPrevalent: number; isVeryPrevalent: number; hadUserInteraction: number };
      const rows = await sqliteJson<Row>(itpDb, 'SELECT registrableDomain, isPrevalent, isVeryPrevalent, hadUserInteraction FROM ObservedDomains');
      return rows.map((r) => ({ domain: r.registrableDomain, prevalent: !!r.isPrevalent, veryPrevalent: !!r.isVeryPrevalent, hadUserInteraction: !!r.hadUserInteraction }));
    },

    async classifyAsTracker(domain, o = {}) {
      // ITP's classifier (ResourceLoadStatisticsClassifier) calls a domain prevalent
      // once it has been a subresource under more than 3 distinct top-level sites.
      const sites = o.sites ?? 4;
      const deadline = Date.now() + (o.timeoutMs ?? 40_000);
      const pixel = `http://${domain}${HARNESS}pixel.gif`;
      // One tab per site, each a load the browser itself asks for: no script
      // navigation between them, which ITP would count as redirects.
      const urls = Array.from({ length: sites }, (_, i) => `http://itp-site-${i + 1}.test${HARNESS}embed?src=${encodeURIComponent(pixel)}`);
      await start(urls);
      for (;;) {
        const err = exitedEarly();
        if (err) throw err;
        const found = (await api.itpDomains()).find((d) => d.domain === domain);
        if (found?.prevalent) break;
        if (Date.now() > deadline) {
          const pixels = px.seen.filter((r) => r.url === pixel).length;
          throw new Error(`ITP did not classify ${domain} as prevalent in time (pixel loaded ${pixels} times; in ITP's database: ${JSON.stringify(found)})`);
        }
        await sleep(250);
      }
      await stopProcess(browser);
    },

    async stop() {
      await stopProcess(browser);
    },

    async close() {
      await stopProcess(browser);
      await stopProcess(xvfb?.proc);
      const closed = new Promise<void>((resolve) => px.server.close(() => resolve()));
      px.server.closeAllConnections();
      await closed;
      if (ownProfile) await rm(profileDir, { recursive: true, force: true });
    },
  };
  return api;
}
