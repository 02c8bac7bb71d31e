// First-party mode on the real collector: the paths a site's own server
// forwards (/fp/…) answer with the visitor id and the touches as the site's
// cookies; the default paths set none. And the id a lost cookie gives back:
// by the GA or Metrika id the hits carried with it, or the cookie /fp/vid set.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientIdKey } from '../../collector/src/visitor-id/recover.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { REDIS_URL } from '../helpers/env.js';
import { until } from '../helpers/platform-site.js';
import { dropRedisPrefix } from '../helpers/redis.js';

type Answer = { status: number; body: string; cookies: string[] };

/** A request with headers fetch() would not send as given (Host). */
function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, cookies: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The Set-Cookie values by cookie name: { value, attributes as one lower-case string }. */
const byName = (cookies: string[]) =>
  Object.fromEntries(
    cookies.map((line) => {
      const [pair, ...attrs] = line.split('; ');
      const eq = pair!.indexOf('=');
      return [pair!.slice(0, eq), { value: decodeURIComponent(pair!.slice(eq + 1)), attrs: attrs.join('; ') }];
    }),
  );

const DAY = 86_400;
let seq = 0;
const visit = (u: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ s: 'shop', k: 'visit', e: `fp${Date.now()}${seq++}abcdef`, t: Date.now(), u, r: '', ...extra });

describe('first-party mode', () => {
  const prefix = `t_${randomBytes(4).toString('hex')}:`;
  let db: TestDatabase;
  let db2: TestDatabase;
  let collector: RunningCollector;
  let untrusting: RunningCollector;
  let redis: Redis;

  beforeAll(async () => {
    // A database each: on the embedded engine one collector process holds a data directory.
    [db, db2] = await Promise.all([freshDatabase(), freshDatabase()]);
    const env = { REDIS_PREFIX: prefix, VID_RATE_LIMIT_PER_MINUTE: '0', SITES: JSON.stringify({ shop: { origins: ['*'] }, brief: { origins: ['*'], touchDays: 30 } }) };
    [collector, untrusting] = await Promise.all([startCollector({ ...env, CLICKHOUSE_DATABASE: db.name, TRUSTED_PROXIES: 'loopback' }), startCollector({ ...env, CLICKHOUSE_DATABASE: db2.name })]);
    redis = new Redis(REDIS_URL, { keyPrefix: prefix });
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    redis?.disconnect();
    await Promise.all([collector?.stop(), untrusting?.stop()]);
    await Promise.all([db?.drop(), db2?.drop()]);
  });

  it('/fp/vid sets the id as a cookie of the registrable domain the forwarding server names, Secure over HTTPS; /vid sets none', async () => {
    const fp = await send(`${collector.url}/fp/vid`, { headers: { 'X-Forwarded-Host': 'www.shop.co.uk', 'X-Forwarded-Proto': 'https' } });
    expect(fp.status).toBe(200);
    expect(fp.body).toMatch(/^[23456789A-HJKMNP-Z]{6}$/);
    expect(fp.cookies).toEqual([`tl_vid=${fp.body}; Max-Age=${400 * DAY}; Path=/; Domain=shop.co.uk; SameSite=Lax; Secure`]);
    // Plain HTTP, the Host the browser used (no forwarding headers): no Secure.
    const plain = await send(`${collector.url}/fp/vid`, { headers: { Host: 'blog.shop.example' } });
    expect(plain.cookies).toEqual([`tl_vid=${plain.body}; Max-Age=${400 * DAY}; Path=/; Domain=shop.example; SameSite=Lax`]);
    // An IP address or localhost: a host cookie.
    const local = await send(`${collector.url}/fp/vid`, { headers: { Host: 'localhost:8081' } });
    expect(local.cookies[0]).toBe(`tl_vid=${local.body}; Max-Age=${400 * DAY}; Path=/; SameSite=Lax`);
    // The default path: no cookie.
    expect((await send(`${collector.url}/vid`, { headers: { Host: 'www.shop.co.uk' } })).cookies).toEqual([]);
  });

  it('believes X-Forwarded-Host and -Proto only from TRUSTED_PROXIES', async () => {
    const fp = await send(`${untrusting.url}/fp/vid`, { headers: { Host: 'www.shop.example', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' } });
    expect(byName(fp.cookies).tl_vid!.attrs).toBe(`Max-Age=${400 * DAY}; Path=/; Domain=shop.example; SameSite=Lax`);
  });

  it('a landing hit answers with the id, the touches and the UTM cookies, at their full lifetime; /hit with none', async () => {
    const vid = (await send(`${collector.url}/fp/vid`, { headers: { Host: 'www.shop.example' } })).body;
    const landing = 'https://www.shop.example/?utm_source=google&utm_medium=cpc&gclid=abc';
    const body = visit(landing, { r: 'https://www.google.com/', v: vid });
    const fp = await send(`${collector.url}/fp/hit`, { method: 'POST', headers: { Host: 'www.shop.example', 'Content-Type': 'text/plain' }, body });
    expect(fp.status).toBe(204);
    const set = byName(fp.cookies);
    const touch = `${landing} https://www.google.com/`;
    const attrs = (days: number) => `Max-Age=${days * DAY}; Path=/; Domain=shop.example; SameSite=Lax`;
    expect(set).toEqual({
      tl_vid: { value: vid, attrs: attrs(400) },
      tl_ft: { value: touch, attrs: attrs(90) },
      tl_lt: { value: touch, attrs: attrs(90) },
      utm_source: { value: 'google', attrs: attrs(90) },
      utm_medium: { value: 'cpc', attrs: attrs(90) },
      // The tags the landing lacks are deleted, as the tracker deletes them.
      utm_campaign: { value: '', attrs: attrs(0) },
      utm_term: { value: '', attrs: attrs(0) },
      utm_content: { value: '', attrs: attrs(0) },
    });
    // The values are written as the tracker writes them (percent-encoded).
    expect(fp.cookies.find((c) => c.startsWith('tl_lt='))).toContain(`tl_lt=${encodeURIComponent(touch)};`);
    const plain = await send(`${collector.url}/hit`, { method: 'POST', headers: { Host: 'www.shop.example', 'Content-Type': 'text/plain' }, body: visit(landing, { v: vid }) });
    expect(plain.status).toBe(204);
    expect(plain.cookies).toEqual([]);
  });

  it("a page of the site renews the id only; the tracker's just-written first touch is set again; touchDays per site", async () => {
    const vid = (await send(`${collector.url}/fp/vid`, { headers: { Host: 'www.shop.example' } })).body;
    const first = 'https://www.shop.example/?utm_source=google https://www.google.com/';
    const cookie = `tl_vid=${vid}; tl_ft=${encodeURIComponent(first)}; tl_lt=${encodeURIComponent(first)}`;
    const inner = await send(`${collector.url}/fp/hit`, {
      method: 'POST',
      headers: { Host: 'www.shop.example', Cookie: cookie },
      body: visit('https://www.shop.example/prices', { r: 'https://www.shop.example/', v: vid }),
    });
    expect(Object.keys(byName(inner.cookies))).toEqual(['tl_vid']);
    // A direct first visit: the tracker wrote tl_ft (its own touch) before the hit; the answer sets it again, for 30 days on this site.
    const direct = 'https://www.shop.example/about';
    const answer = await send(`${collector.url}/fp/hit`, {
      method: 'POST',
      headers: { Host: 'www.shop.example', Cookie: `tl_ft=${encodeURIComponent(`${direct} `)}` },
      body: visit(direct, { s: 'brief' }),
    });
    expect(byName(answer.cookies)).toEqual({ tl_ft: { value: `${direct} `, attrs: `Max-Age=${30 * DAY}; Path=/; Domain=shop.example; SameSite=Lax` } });
  });

  it('gives a visitor whose cookie was lost the old id: by the GA or Metrika id its hits carried, by the cookie /fp/vid set', async () => {
    const vid = (await send(`${collector.url}/vid`)).body;
    const ga = `${Date.now()}.${seq++}`;
    const ym = `${Date.now()}${seq++}`;
    expect((await send(`${collector.url}/hit`, { method: 'POST', body: visit('https://www.shop.example/', { v: vid, g: ga, y: ym }) })).status).toBe(204);
    // The hit's call to Redis records them (within a few milliseconds of its answer).
    await until(async () => (await redis.get(clientIdKey('ga', ga))) === vid && (await redis.get(clientIdKey('ym', ym))) === vid);
    expect((await send(`${collector.url}/vid?v=&g=${ga}&y=`)).body).toBe(vid);
    expect((await send(`${collector.url}/vid?v=&g=&y=${ym}`)).body).toBe(vid);
    // First-party: the request's own cookies.
    const byGaCookie = await send(`${collector.url}/fp/vid`, { headers: { Host: 'www.shop.example', Cookie: `_ga=GA1.2.${ga}` } });
    expect(byGaCookie.body).toBe(vid);
    expect(byName(byGaCookie.cookies).tl_vid!.value).toBe(vid);
    expect((await send(`${collector.url}/fp/vid`, { headers: { Cookie: `tl_vid=${vid.toLowerCase()}` } })).body).toBe(vid);
    // Someone else's GA id in a later hit does not take the id over: the first stays.
    const other = (await send(`${collector.url}/vid`)).body;
    await send(`${collector.url}/hit`, { method: 'POST', body: visit('https://www.shop.example/', { v: other, g: ga }) });
    await new Promise((r) => setTimeout(r, 200));
    expect((await send(`${collector.url}/vid?g=${ga}`)).body).toBe(vid);
    // An id never issued records nothing; an unknown client id gives a new id.
    const ga2 = `${Date.now()}.${seq++}`;
    await send(`${collector.url}/hit`, { method: 'POST', body: visit('https://www.shop.example/', { v: 'ZZZZZZ', g: ga2 }) });
    await new Promise((r) => setTimeout(r, 200));
    expect(await redis.get(clientIdKey('ga', ga2))).toBeNull();
    const fresh = (await send(`${collector.url}/vid?g=${ga2}`)).body;
    expect(fresh).not.toBe('ZZZZZZ');
    expect(fresh).toMatch(/^[23456789A-HJKMNP-Z]{6}$/);
    // A malformed client id is not looked up.
    expect((await send(`${collector.url}/vid?g=${'9'.repeat(80)}.1`)).status).toBe(200);
  });
});
