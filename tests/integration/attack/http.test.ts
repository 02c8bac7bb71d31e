// The HTTP surface under attack: authenticated routes refuse before they read a
// body, secrets never reach the log, no error answer carries a stack trace or an
// install path, and /metrics can be closed with a token.
import { Agent, request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningCollector } from '../../helpers/collector.js';
import { collectorPerFile } from '../../helpers/collector-per-file.js';
import { exchange, rssOf } from '../../helpers/raw-http.js';

const AMO_SECRET = 'amo_secret_0123456789abcdef';
const ZOHO_SECRET = 'zoho_secret_0123456789abcdef';
const SHOP_SECRET = 'shop_secret_0123456789abcdef';
const LONG_SECRET = 'long_source_secret_0123456789';
const ZOHO_TOKEN = 'zoho-channel-token-0123456789';
const ADMIN = 'admin-token-0123456789abcdef';
const INBOUND = 'inbound_secret_0123456789';
const METRICS = 'metrics-token-0123456789abcdef';
const REPORTS = 'reports-token-0123456789abcdef';
/** A source name long enough (16+ characters) that the old length-based mask took it for the secret. */
const LONG_SOURCE = 'zoho-long-source-name';
const OAUTH_CODE = 'def50200-oauth-code-0123456789';

/** The marks of a stack trace or an install path in an answer. */
const LEAKS = /\bat [\w.<>]+ \(|\bat (file:|\/)|node_modules|\/work\/|\/dist\/|\.[cm]?[jt]s:\d+|<pre>/;

describe('the HTTP surface (attack)', () => {
  let c: RunningCollector;
  let dir: string;
  const file = collectorPerFile(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tl-attack-http-'));
    const dead = `http://127.0.0.1:${await freePort()}`;
    await writeFile(
      join(dir, 'crm.json'),
      JSON.stringify({
        funnel: [{ stage: 'New' }, { stage: 'Won', marker: 'won' }],
        sources: {
          amo: {
            kind: 'amocrm',
            secret: AMO_SECRET,
            account: { subdomain: 'shop' },
            api: { baseUrl: dead, clientId: 'c', clientSecret: 'cs', redirectUri: 'https://collector.example/crm/amocrm/amo/oauth' },
          },
          zoho: { kind: 'zoho', secret: ZOHO_SECRET, notificationToken: ZOHO_TOKEN },
          [LONG_SOURCE]: { kind: 'zoho', secret: LONG_SECRET, api: { accountsUrl: dead, clientId: 'c', clientSecret: 'cs', refreshToken: 'r' } },
          shop: { kind: 'import', secret: SHOP_SECRET },
        },
      }),
    );
    return {
      CRM_CONFIG: join(dir, 'crm.json'),
      CRM_ADMIN_TOKEN: ADMIN,
      INBOUND_EMAIL_SECRET: INBOUND,
      METRICS_TOKEN: METRICS,
      REPORTS_TOKEN: REPORTS,
      LOG_LEVEL: 'debug',
    };
  });
  beforeAll(() => {
    c = file.c;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Routes that take a body only from an authenticated sender, with a wrong secret or token. */
  const refusedRoutes = (): Array<[string, string, Record<string, string>?]> => [
    ['amoCRM webhook, wrong secret', `/crm/amocrm/amo/wrong_secret_0123456789abcdef`],
    ['amoCRM webhook, unknown source', `/crm/amocrm/nosuch/${AMO_SECRET}`],
    ['Zoho workflow, wrong secret', `/crm/zoho/zoho/wrong_secret_0123456789abcdef`],
    ['Zoho notify, unknown source', `/crm/zoho/nosuch/notify`],
    ['import JSON, wrong secret', `/crm/import/shop/wrong_secret_0123456789abcdef/deals`],
    ['import CSV, wrong secret', `/crm/import/shop/wrong_secret_0123456789abcdef/deals.csv`],
    ['inbound e-mail, wrong secret', `/inbound-email/wrong_secret_0123456789`],
    ['admin config, no token', `/crm/config`],
    ['admin config, wrong token', `/crm/config`, { Authorization: 'Bearer wrong-token-0123456789abcdef' }],
    ['Zoho watch, no token', `/crm/zoho/zoho/watch`],
  ];

  const head = (path: string, length: number, extra: Record<string, string> = {}, method = path === '/crm/config' ? 'PUT' : 'POST') =>
    `${method} ${path} HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n` +
    Object.entries(extra)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';

  it('4. a wrong secret, an unknown source or a missing admin token is refused before a byte of the body is read', async () => {
    for (const [what, path, extra] of refusedRoutes()) {
      // 5 MB announced, not a byte sent: only a route that answers before reading can answer at all.
      const a = await exchange(c.url, head(path, 5_000_000, extra), { waitMs: 5000 });
      expect({ what, status: a.status }).toEqual({ what, status: 401 });
      expect(JSON.parse(a.body).error, what).toMatch(/^bad_/);
      // Nothing more is read from that connection: the server hangs up after its answer.
      expect(a.closed, what).toBe(true);
    }
  });

  it('4. a refused body says Connection: close, so a keep-alive client sends its next request on a new connection, not on the one left unread', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (path: string, body: string) =>
      new Promise<{ status: number; connection: string | undefined; socket: unknown }>((resolve, reject) => {
        const req = request(`${c.url}${path}`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, socket: req.socket }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const refused = await post('/crm/import/shop/wrong_secret_0123456789abcdef/deals', JSON.stringify({ deals: [] }));
      expect(refused).toMatchObject({ status: 401, connection: 'close' });
      // At once, as a pooled client would: answered, on another connection.
      const next = await post('/crm/import/shop/wrong_secret_0123456789abcdef/deals', '{}');
      expect(next.status).toBe(401);
      expect(next.socket).not.toBe(refused.socket);
    } finally {
      agent.destroy();
    }
  });

  it('4. an unknown source and a wrong secret get the same answer, so source names cannot be probed', async () => {
    const answer = async (path: string) => {
      const r = await fetch(`${c.url}${path}`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
      return { status: r.status, body: await r.text() };
    };
    for (const [kind, source] of [
      ['amocrm', 'amo'],
      ['zoho', 'zoho'],
    ] as const) {
      const wrong = await answer(`/crm/${kind}/${source}/wrong_secret_0123456789abcdef`);
      expect(await answer(`/crm/${kind}/nosuch/wrong_secret_0123456789abcdef`)).toEqual(wrong);
      // A source of another kind is as unknown as a missing one.
      expect(await answer(`/crm/${kind}/shop/${SHOP_SECRET}`)).toEqual(wrong);
    }
    const wrong = await answer('/crm/import/shop/wrong_secret_0123456789abcdef/deals');
    expect(await answer('/crm/import/nosuch/wrong_secret_0123456789abcdef/deals')).toEqual(wrong);
    expect(await answer(`/crm/import/amo/${AMO_SECRET}/deals`)).toEqual(wrong);
    const badToken = await answer('/crm/zoho/zoho/notify');
    expect(badToken.status).toBe(401);
    expect(await answer('/crm/zoho/nosuch/notify')).toEqual(badToken);
    const oauthWrong = await fetch(`${c.url}/crm/amocrm/amo/oauth?code=x&state=wrong`);
    const oauthUnknown = await fetch(`${c.url}/crm/amocrm/nosuch/oauth?code=x&state=${AMO_SECRET}`);
    expect({ status: oauthUnknown.status, body: await oauthUnknown.text() }).toEqual({ status: oauthWrong.status, body: await oauthWrong.text() });
  });

  it('4. memory stays flat across many refused 5 MB bodies', async () => {
    const pid = c.proc.pid!;
    const path = '/crm/import/shop/wrong_secret_0123456789abcdef/deals';
    const body = Buffer.alloc(5_000_000, 'x');
    // A first round warms the process up (code paths, buffers); the peak resident memory (VmHWM) is compared across the second.
    await Promise.all(Array.from({ length: 5 }, () => exchange(c.url, head(path, body.length), { body, waitMs: 10_000, untilAnswer: true })));
    const before = await rssOf(pid, true);
    const answers = await Promise.all(Array.from({ length: 40 }, () => exchange(c.url, head(path, body.length), { body, waitMs: 10_000, untilAnswer: true })));
    const after = await rssOf(pid, true);
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(401));
    // 40 bodies of 5 MB would be 200 MB (and as strings twice that) at the peak; none of them is
    // read into memory. The growth measured is 36-42 MB on a quiet machine (sockets, buffers and
    // garbage of 40 connections), up to 53 MB under a full parallel run: the bound is 40% of the
    // bodies, far under what reading them would take.
    expect(after - before).toBeLessThan(40 * body.length * 0.4);
  });

  it('11. no secret, token or OAuth code in a URL reaches the log, however long the source name', async () => {
    // A Zoho workflow delivery whose forecast needs the (unreachable) API fails inside the handler: logged with its URL.
    const wf = await fetch(`${c.url}/crm/zoho/${LONG_SOURCE}/${LONG_SECRET}`, {
      method: 'POST',
      body: JSON.stringify({ id: '5725767000003000064', Deal_Name: 'x', Stage: 'New', Modified_Time: '2024-06-10T10:00:00+00:00' }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(wf.status).toBeGreaterThanOrEqual(500);
    // The OAuth redirect carries the code and the secret (as state) in its query; the exchange fails.
    const oauth = await fetch(`${c.url}/crm/amocrm/amo/oauth?code=${OAUTH_CODE}&state=${AMO_SECRET}`);
    expect(oauth.status).toBeGreaterThanOrEqual(500);
    // A secret that cannot be decoded is an error of the router: logged too.
    const undecodable = await fetch(`${c.url}/crm/import/shop/${SHOP_SECRET}%E0%A4%A/deals`, { method: 'POST', body: '{}' });
    expect(undecodable.status).toBe(400);
    // The report page's token in its query, on an error answer.
    await fetch(`${c.url}/reports?token=${REPORTS}&model=nosuch`);
    await new Promise((r) => setTimeout(r, 300));
    const log = c.output();
    expect(log).toMatch(/CRM request failed/);
    expect(log).toMatch(/\/crm\/zoho\/zoho-long-source-name\//);
    for (const secret of [LONG_SECRET, AMO_SECRET, SHOP_SECRET, OAUTH_CODE, REPORTS, ADMIN, INBOUND, METRICS]) expect(log).not.toContain(secret);
  });

  it('12. no error answer carries a stack trace or an install path: JSON with a reason', async () => {
    const big = 'x'.repeat(300 * 1024);
    const cases: Array<[string, string, RequestInit?]> = [
      ['a bad escape in a route parameter', `/crm/import/shop/${SHOP_SECRET}%E0%A4%A/deals`, { method: 'POST', body: '{}' }],
      ['a bad escape in the source', `/crm/amocrm/%E0%A4%A/oauth?state=x`],
      ['a bad escape in the inbound e-mail secret', `/inbound-email/%E0%A4%A`, { method: 'POST', body: '{}' }],
      ['a bad escape at the report page', `/reports/%E0%A4%A`],
      ['a bad escape anywhere', `/%E0%A4%A`],
      ['an inbound e-mail body over its limit', `/inbound-email/${INBOUND}`, { method: 'POST', body: big, headers: { 'Content-Type': 'text/plain' } }],
      ['an unknown charset at inbound e-mail', `/inbound-email/${INBOUND}`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'text/plain; charset=klingon' } }],
      ['gzip that is not gzip at inbound e-mail', `/inbound-email/${INBOUND}`, { method: 'POST', body: 'not gzip', headers: { 'Content-Encoding': 'gzip' } }],
      ['gzip that is not gzip at the import', `/crm/import/shop/${SHOP_SECRET}/deals`, { method: 'POST', body: 'not gzip', headers: { 'Content-Encoding': 'gzip' } }],
      ['an unknown content encoding at the import', `/crm/import/shop/${SHOP_SECRET}/deals.csv`, { method: 'POST', body: 'id', headers: { 'Content-Encoding': 'klingon' } }],
      ['malformed JSON at the import', `/crm/import/shop/${SHOP_SECRET}/deals`, { method: 'POST', body: '{"deals": [', headers: { 'Content-Type': 'application/json' } }],
      ['malformed JSON at the admin config', '/crm/config', { method: 'PUT', body: '{', headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' } }],
      ['gzip that is not gzip at the costs upload', '/api/costs', { method: 'POST', body: 'not gzip', headers: { Authorization: `Bearer ${REPORTS}`, 'Content-Type': 'text/csv', 'Content-Encoding': 'gzip' } }],
      ['an unknown charset at the costs upload', '/api/costs', { method: 'POST', body: 'x', headers: { Authorization: `Bearer ${REPORTS}`, 'Content-Type': 'text/csv; charset=klingon' } }],
      ['malformed JSON at /hit', '/hit', { method: 'POST', body: '{"s":', headers: { 'Content-Type': 'text/plain' } }],
      ['malformed JSON in the pixel', '/p.gif?d=%7B', {}],
      ['a wrong method at /vid', '/vid', { method: 'DELETE' }],
    ];
    for (const [what, path, init] of cases) {
      const r = await fetch(`${c.url}${path}`, init);
      const text = await r.text();
      expect(r.status, what).toBeGreaterThanOrEqual(400);
      expect(text, what).not.toMatch(LEAKS);
      expect(r.headers.get('content-type'), what).toMatch(/^application\/json/);
      expect(typeof JSON.parse(text).error, what).toBe('string');
    }
  });

  it('12. a request that is not HTTP, or whose headers are too large, gets a JSON reason too', async () => {
    for (const [what, raw] of [
      ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n'],
      ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n'],
      ['headers over 16 KB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`],
      ['a chunk size that is not hex', 'POST /hit HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ] as const) {
      const a = await exchange(c.url, raw, { waitMs: 5000 });
      expect(a.status, what).toBeGreaterThanOrEqual(400);
      expect(a.text, what).toMatch(/\r\ncontent-type: application\/json/i);
      expect(typeof JSON.parse(a.body).error, what).toBe('string');
    }
  });

  it('16b. METRICS_TOKEN guards /metrics: no token or a wrong one is refused, the right Bearer token is served', async () => {
    const none = await fetch(`${c.url}/metrics`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'unauthorized' });
    const wrong = await fetch(`${c.url}/metrics`, { headers: { Authorization: 'Bearer wrong-token-0123456789abcdef' } });
    expect(wrong.status).toBe(401);
    const inQuery = await fetch(`${c.url}/metrics?token=${METRICS}`);
    expect(inQuery.status).toBe(401);
    const right = await fetch(`${c.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toMatch(/^# HELP throughline_/m);
  });
});
