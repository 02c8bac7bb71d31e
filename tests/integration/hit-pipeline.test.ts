// The hit pipeline end to end, through the built collector: every kind of bad
// input gets a clear status and a named drop reason counted at /metrics; sites and
// CORS, bots, the visit throttle, the rate limit, IP privacy, leads' contact
// hashing and identity links, and the pixel.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEmail, hashPhone } from '../../collector/src/identity/hash.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { REDIS_URL } from '../helpers/env.js';
import { newVisitorId } from '../helpers/ids.js';
import { BROWSER_UA, visitHit } from '../helpers/load.js';

const IDENTITY_KEY = 'pipeline-test-identity-key';

function post(base: string, body: string | Buffer, headers: Record<string, string> = {}, path = '/hit') {
  return fetch(`${base}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'User-Agent': BROWSER_UA, ...headers },
  });
}

/** Counters of /metrics as a map: `throughline_hits_dropped_total{reason="bot"}` → 3. */
async function metrics(base: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(throughline_hits_\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}
const dropped = (m: Map<string, number>, reason: string) => m.get(`throughline_hits_dropped_total{reason="${reason}"}`) ?? 0;
const acceptedOf = (m: Map<string, number>, kind: string) => m.get(`throughline_hits_accepted_total{kind="${kind}"}`) ?? 0;

describe('hit pipeline (open installation: no SITES)', () => {
  let db: TestDatabase;
  let c: RunningCollector;
  const prefix = `t_${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    db = await freshDatabase();
    c = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      BATCH_MAX_MS: '100',
      BOT_FILTER: 'on',
      REDIS_PREFIX: prefix,
      IDENTITY_KEY,
      RATE_LIMIT_PER_MINUTE: '100000',
    });
  });
  afterAll(async () => {
    await c?.stop();
    await db?.drop();
  });

  it('answers each kind of bad input with a clear status and counts it under its reason', async () => {
    const before = await metrics(c.url);
    const good = () => JSON.parse(visitHit().body) as Record<string, unknown>;
    const cases: Array<[string, () => Promise<Response>, number, string | null, string]> = [
      ['malformed JSON', () => post(c.url, '{nope'), 400, 'malformed_json', 'malformed_json'],
      ['a JSON array', () => post(c.url, '[1,2]'), 400, 'malformed_json', 'malformed_json'],
      ['a form content type', () => post(c.url, 's=demo', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_content_type', 'unsupported_content_type'],
      ['an oversized body', () => post(c.url, JSON.stringify({ ...good(), p: { x: 'y'.repeat(20_000) } })), 413, 'body_too_large', 'body_too_large'],
      ['a 100 KB UTM value', () => post(c.url, JSON.stringify({ ...good(), u: `https://shop.example/?utm_source=${'u'.repeat(100_000)}` })), 413, 'body_too_large', 'body_too_large'],
      ['a URL longer than 4096', () => post(c.url, JSON.stringify({ ...good(), u: `https://shop.example/?utm_source=${'u'.repeat(5000)}` })), 400, 'invalid_url', 'invalid_url'],
      ['invalid UTF-8', () => post(c.url, Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, 'invalid_utf8', 'invalid_utf8'],
      ['a timestamp in the year 5138', () => post(c.url, JSON.stringify({ ...good(), t: 1e14 })), 400, 'invalid_timestamp', 'invalid_timestamp'],
      ['a negative timestamp', () => post(c.url, JSON.stringify({ ...good(), t: -1 })), 400, 'invalid_timestamp', 'invalid_timestamp'],
      ['a timestamp a month old', () => post(c.url, JSON.stringify({ ...good(), t: Date.now() - 30 * 86_400_000 })), 400, 'invalid_timestamp', 'invalid_timestamp'],
      ['a string timestamp', () => post(c.url, JSON.stringify({ ...good(), t: 'now' })), 400, 'invalid_timestamp', 'invalid_timestamp'],
      ['a javascript: URL', () => post(c.url, JSON.stringify({ ...good(), u: 'javascript:alert(1)' })), 400, 'invalid_url', 'invalid_url'],
      ['an unparsable URL', () => post(c.url, JSON.stringify({ ...good(), u: 'http://exa mple.com:99999/' })), 400, 'invalid_url', 'invalid_url'],
      ['a bad site id', () => post(c.url, JSON.stringify({ ...good(), s: 'a b' })), 400, 'invalid_site', 'invalid_site'],
      ['an unknown kind', () => post(c.url, JSON.stringify({ ...good(), k: 'buy' })), 400, 'invalid_kind', 'invalid_kind'],
      ['a short event id', () => post(c.url, JSON.stringify({ ...good(), e: 'x' })), 400, 'invalid_event_id', 'invalid_event_id'],
      ['a numeric prop', () => post(c.url, JSON.stringify({ ...good(), p: { a: 1 } })), 400, 'invalid_field', 'invalid_field'],
      ['a GET', () => fetch(`${c.url}/hit`), 405, 'method_not_allowed', 'method_not_allowed'],
      ['Googlebot', () => post(c.url, visitHit().body, { 'User-Agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }), 204, null, 'bot'],
      ['curl', () => post(c.url, visitHit().body, { 'User-Agent': 'curl/8.5.0' }), 204, null, 'bot'],
      ['HeadlessChrome', () => post(c.url, visitHit().body, { 'User-Agent': BROWSER_UA.replace('Chrome/', 'HeadlessChrome/') }), 204, null, 'bot'],
      ['a headless client hint', () => post(c.url, visitHit().body, { 'Sec-CH-UA': '"HeadlessChrome";v="131"' }), 204, null, 'bot'],
      ['navigator.webdriver', () => post(c.url, visitHit({ w: 1 }).body), 204, null, 'bot'],
      ['no user agent', () => post(c.url, visitHit().body, { 'User-Agent': '' }), 204, null, 'bot'],
    ];
    const expected = new Map<string, number>();
    for (const [name, send, status, error, reason] of cases) {
      const r = await send();
      expect(r.status, name).toBe(status);
      if (error) expect(await r.json(), name).toEqual({ error });
      else expect(await r.text(), name).toBe('');
      expected.set(reason, (expected.get(reason) ?? 0) + 1);
    }
    const after = await metrics(c.url);
    for (const [reason, n] of expected) expect(dropped(after, reason) - dropped(before, reason), reason).toBe(n);
    expect(acceptedOf(after, 'visit')).toBe(acceptedOf(before, 'visit'));
  });

  it('stores a hit with lone surrogates, replaced by U+FFFD', async () => {
    const id = randomBytes(8).toString('hex');
    const body = `{"s":"demo","k":"visit","e":"${id}","t":${Date.now()},"u":"https://shop.example/\\ud800x","r":"","v":"SURR23","p":{"name":"b\\ud83d"}}`;
    const r = await post(c.url, body);
    expect(r.status).toBe(204);
    const rows = await eventually(() => db.rows<{ url: string; prop_keys: string[]; prop_values: string[] }>(`SELECT url, prop_keys, prop_values FROM hits WHERE event_id = '${id}'`));
    expect(rows[0]).toEqual({ url: 'https://shop.example/\ufffdx', prop_keys: ['name'], prop_values: ['b\ufffd'] });
  });

  it('throttles a visitor to one visit per window, except a landing that brings another campaign than the current visit, and never throttles leads', async () => {
    const v = newVisitorId();
    const spring = 'https://shop.example/?utm_source=yandex&utm_campaign=spring';
    const first = visitHit({ v });
    const again = visitHit({ v });
    const campaign = visitHit({ v, u: spring });
    const reload = visitHit({ v, u: spring }); // the same campaign again: the same visit
    const other = visitHit({ v, u: 'https://shop.example/?utm_source=google&gclid=EAIa' });
    const back = visitHit({ v, u: spring }); // differs from the current visit's (google) again
    const lead = visitHit({ v, k: 'lead' });
    const all = [first, again, campaign, reload, other, back, lead];
    for (const h of all) expect((await post(c.url, h.body)).status).toBe(204);
    const ids = all.map((x) => `'${x.id}'`).join(',');
    const kept = [first, campaign, other, back, lead].map((h) => h.id).sort();
    const rows = await eventually(() => db.rows<{ event_id: string }>(`SELECT event_id FROM hits WHERE event_id IN (${ids})`), 5000, (r) => r.length >= kept.length);
    expect(rows.map((r) => r.event_id).sort()).toEqual(kept);
    expect(dropped(await metrics(c.url), 'throttled')).toBeGreaterThanOrEqual(2);
  });

  it('keeps each verdict with its own hit (the checks of a turn travel packed)', async () => {
    const tag = newVisitorId().slice(0, 4);
    // Visitor ids keep to their alphabet (tabs and newlines never reach the packed checks).
    const visitors = [`T${tag}2`, `N${tag}3`, `T${tag}4`, `Q${tag}5`];
    // Sent together, so their checks share one call to Redis.
    const first = visitors.map((v) => visitHit({ v }));
    expect((await Promise.all(first.map((h) => post(c.url, h.body)))).map((r) => r.status)).toEqual([204, 204, 204, 204]);
    const again = visitors.map((v, i) => (i % 2 === 0 ? visitHit({ v }) : visitHit({ v, k: 'lead' })));
    expect((await Promise.all(again.map((h) => post(c.url, h.body)))).map((r) => r.status)).toEqual([204, 204, 204, 204]);
    const kept = [...first, again[1]!, again[3]!].map((h) => h.id);
    const all = [...first, ...again].map((h) => `'${h.id}'`).join(',');
    const rows = await eventually(() => db.rows<{ event_id: string }>(`SELECT event_id FROM hits WHERE event_id IN (${all})`), 5000, (r) => r.length >= kept.length);
    await new Promise((r) => setTimeout(r, 300));
    const stored = (await db.rows<{ event_id: string }>(`SELECT event_id FROM hits WHERE event_id IN (${all})`)).map((r) => r.event_id);
    expect(stored.sort()).toEqual(kept.sort());
  });

  it('never stores the IP: a salted hash kept in Redis for 48 hours, and X-Forwarded-For ignored from untrusted peers', async () => {
    const a = visitHit();
    const b = visitHit();
    await post(c.url, a.body, { 'X-Forwarded-For': '203.0.113.7' });
    await post(c.url, b.body, { 'X-Forwarded-For': '198.51.100.9' });
    const rows = await eventually(() => db.rows<{ ip_hash: string }>(`SELECT ip_hash FROM hits WHERE event_id IN ('${a.id}', '${b.id}')`), 5000, (r) => r.length === 2);
    expect(rows[0]!.ip_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(rows[1]!.ip_hash).toBe(rows[0]!.ip_hash);
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
    try {
      const day = Math.floor(Date.now() / 86_400_000);
      expect(await redis.get(`salt:${day}`)).toMatch(/^[0-9a-f]{64}$/);
      const ttl = await redis.ttl(`salt:${day}`);
      expect(ttl).toBeGreaterThan(86_400);
      expect(ttl).toBeLessThanOrEqual(48 * 3600);
    } finally {
      redis.disconnect();
    }
  });

  it('replaces a lead form e-mail and phone by keyed hashes and links them to the visitor', async () => {
    const id = randomBytes(8).toString('hex');
    const v = 'AB23CD';
    const body = JSON.stringify({ s: 'demo', e: id, t: Date.now(), u: 'https://shop.example/contact', v, g: '111.222', p: { email: ' Ivan+shop@Example.ru ', phone: '8 (495) 123-45-67', name: 'callback' } });
    expect((await post(c.url, body, {}, '/lead')).status).toBe(204);
    const emailHash = hashEmail('ivan@example.ru', IDENTITY_KEY)!;
    const phoneHash = hashPhone('+74951234567', IDENTITY_KEY)!;
    type Row = { kind: string; prop_keys: string[]; prop_values: string[] };
    const [row] = await eventually(() => db.rows<Row>(`SELECT kind, prop_keys, prop_values FROM hits WHERE event_id = '${id}'`));
    expect(row!.kind).toBe('lead');
    const props = Object.fromEntries(row!.prop_keys.map((k, i) => [k, row!.prop_values[i]]));
    expect(props).toEqual({ name: 'callback', email_hash: emailHash, phone_hash: phoneHash });
    expect(JSON.stringify(row)).not.toMatch(/ivan|495|123-45/i);
    const links = await eventually(() => db.rows<{ kind_a: string; id_a: string; kind_b: string; id_b: string; evidence: string }>(
      `SELECT kind_a, id_a, kind_b, id_b, evidence FROM identity_links WHERE id_b IN ('${emailHash}', '${phoneHash}') ORDER BY kind_a, kind_b`,
    ), 5000, (r) => r.length >= 5);
    expect(links).toEqual([
      { kind_a: 'email', id_a: emailHash, kind_b: 'phone', id_b: phoneHash, evidence: 'form' },
      { kind_a: 'ga', id_a: '111.222', kind_b: 'email', id_b: emailHash, evidence: 'form' },
      { kind_a: 'ga', id_a: '111.222', kind_b: 'phone', id_b: phoneHash, evidence: 'form' },
      { kind_a: 'visitor', id_a: v, kind_b: 'email', id_b: emailHash, evidence: 'form' },
      { kind_a: 'visitor', id_a: v, kind_b: 'phone', id_b: phoneHash, evidence: 'form' },
    ]);
    expect((await post(c.url, JSON.stringify({ ...JSON.parse(body), k: 'visit' }), {}, '/lead')).status).toBe(400);
  });

  it('takes hits from the pixel, with the hit in the query or only the Referer', async () => {
    const id = randomBytes(8).toString('hex');
    const q = new URLSearchParams({ s: 'demo', e: id, t: String(Date.now()), u: 'https://shop.example/pixel?utm_source=mail', v: 'PXQ234' });
    const r = await fetch(`${c.url}/p.gif?${q}`, { headers: { 'User-Agent': BROWSER_UA } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/gif');
    expect(Buffer.from(await r.arrayBuffer()).subarray(0, 6).toString()).toBe('GIF89a');
    const noscript = await fetch(`${c.url}/p.gif?s=demo`, { headers: { 'User-Agent': BROWSER_UA, Referer: 'https://shop.example/noscript-page' } });
    expect(noscript.status).toBe(200);
    const rows = await eventually(() => db.rows<{ url: string; utm_source: string }>(
      `SELECT url, utm_source FROM hits WHERE event_id = '${id}' OR url = 'https://shop.example/noscript-page' ORDER BY url`,
    ), 5000, (x) => x.length === 2);
    expect(rows).toEqual([
      { url: 'https://shop.example/noscript-page', utm_source: '' },
      { url: 'https://shop.example/pixel?utm_source=mail', utm_source: 'mail' },
    ]);
    expect((await fetch(`${c.url}/p.gif?s=demo&t=soon`, { headers: { 'User-Agent': BROWSER_UA } })).status).toBe(400);
  });

  it('sends helmet-style headers and open CORS when no sites are configured', async () => {
    const r = await post(c.url, visitHit().body, { Origin: 'https://anything.example' });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('hit pipeline (configured sites, trusted proxy, anonymised IPs)', () => {
  let db: TestDatabase;
  let c: RunningCollector;

  beforeAll(async () => {
    db = await freshDatabase();
    c = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      BATCH_MAX_MS: '100',
      REDIS_PREFIX: `t_${randomBytes(4).toString('hex')}:`,
      SITES: JSON.stringify({ shop: { origins: ['https://shop.example'] }, demo: { origins: ['*'] }, limited: {} }),
      TRUSTED_PROXIES: 'loopback',
      IP_MODE: 'anonymize',
      RATE_LIMIT_PER_MINUTE: '5',
    });
  });
  afterAll(async () => {
    await c?.stop();
    await db?.drop();
  });

  it('accepts listed sites from their origins only, and answers CORS for them', async () => {
    const ok = await post(c.url, visitHit({ s: 'shop' }).body, { Origin: 'https://shop.example' });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const foreign = await post(c.url, visitHit({ s: 'shop' }).body, { Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toEqual({ error: 'origin_not_allowed' });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const unknown = await post(c.url, visitHit({ s: 'nosuchsite' }).body);
    expect(unknown.status).toBe(403);
    expect(await unknown.json()).toEqual({ error: 'unknown_site' });
    const demo = await post(c.url, visitHit({ s: 'demo' }).body, { Origin: 'https://anything.example' });
    expect(demo.status).toBe(204);
    const preflight = await fetch(`${c.url}/hit`, { method: 'OPTIONS', headers: { Origin: 'https://shop.example' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it('believes X-Forwarded-For from a trusted proxy and keeps only the network', async () => {
    const h = visitHit({ s: 'demo' });
    expect((await post(c.url, h.body, { 'X-Forwarded-For': '203.0.113.77' })).status).toBe(204);
    const rows = await eventually(() => db.rows<{ ip_hash: string }>(`SELECT ip_hash FROM hits WHERE event_id = '${h.id}'`));
    expect(rows[0]!.ip_hash).toBe('203.0.113.0');
  });

  it('rate-limits an address per site and minute: the excess is answered 204, counted, and not stored', async () => {
    const before = dropped(await metrics(c.url), 'rate_limited');
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const h = visitHit({ s: 'limited' });
      ids.push(h.id);
      expect((await post(c.url, h.body, { 'X-Forwarded-For': '192.0.2.1' })).status).toBe(204);
    }
    // Another network is not affected (addresses are anonymised to their /24 here).
    const other = visitHit({ s: 'limited' });
    expect((await post(c.url, other.body, { 'X-Forwarded-For': '198.51.100.2' })).status).toBe(204);
    const list = [...ids, other.id].map((x) => `'${x}'`).join(',');
    const rows = await eventually(() => db.rows<{ event_id: string }>(`SELECT event_id FROM hits WHERE event_id IN (${list})`), 5000, (r) => r.length >= 6);
    await new Promise((r) => setTimeout(r, 500)); // nothing more arrives
    const stored = new Set((await db.rows<{ event_id: string }>(`SELECT event_id FROM hits WHERE event_id IN (${list})`)).map((r) => r.event_id));
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect([...stored].sort()).toEqual([...ids.slice(0, 5), other.id].sort());
    expect(dropped(await metrics(c.url), 'rate_limited') - before).toBe(3);
  });
});
