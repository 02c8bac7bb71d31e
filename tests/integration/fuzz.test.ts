// Property test: thousands of random bodies (random bytes, random JSON, valid hits
// with one field mutated) against the built collector. The process stays up,
// every answer is one of the documented statuses (never a 5xx), and the counters
// add up: accepted + dropped = requests sent, and ClickHouse holds exactly the
// accepted hits. Then hits with odd text in every field (lone surrogates,
// control characters, NUL, RTL marks, zero-width joiners, astral characters,
// U+FFFE), prop keys included, on every hit endpoint: every acknowledged hit is
// stored or dropped under a named reason, every id it lost is counted, and no
// stored text is malformed.
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { newVisitorId } from '../helpers/ids.js';
import { BROWSER_UA } from '../helpers/load.js';
import { fieldDropped, readMetrics } from '../helpers/metrics-text.js';

const ALLOWED = new Set([204, 400, 403, 413, 415, 429]);

const validHit = fc.record({
  s: fc.constantFrom('demo', 'shop'),
  k: fc.constantFrom('visit', 'lead', 'tel'),
  e: fc.constant(null).map(() => randomBytes(9).toString('hex')),
  t: fc.constant(null).map(() => Date.now()),
  u: fc.webUrl({ withQueryParameters: true }),
  r: fc.oneof(fc.constant(''), fc.webUrl()),
  g: fc.string({ maxLength: 20 }),
  v: fc.string({ maxLength: 6 }),
  p: fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 4 }),
});

const mutatedHit = fc.tuple(validHit, fc.constantFrom('s', 'k', 'e', 't', 'u', 'r', 'g', 'y', 'v', 'p', 'w'), fc.anything()).map(([h, key, value]) => {
  const o: Record<string, unknown> = { ...h, [key]: value };
  return JSON.stringify(o) ?? '';
});

const body = fc.oneof(
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 300 }), weight: 2 },
  { arbitrary: fc.json(), weight: 2 },
  { arbitrary: validHit.map((h) => JSON.stringify(h)), weight: 2 },
  { arbitrary: mutatedHit, weight: 3 },
  { arbitrary: fc.uint8Array({ minLength: 16_000, maxLength: 20_000 }).map((b) => Buffer.from(b)), weight: 1 },
);
/** Text that breaks naive handling: lone surrogates, controls, NUL, bidi and zero-width marks, astral characters, noncharacters. */
const oddUnit = fc.constantFrom(
  '\ud800', '\udbff', '\udc00', '\udfff', '\u0000', '\u0001', '\t', '\n', '\r', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f',
  '\u200b', '\u200d', '\u200e', '\u200f', '\u202e', '\u2066', '\ufeff', '\ufffe', '\uffff', '\ufffd', '\u{1F600}', '\u{10FFFF}',
  '\u{1F3F3}\u{FE0F}\u200d\u{1F308}', 'é', 'е', 'a', 'Z', '5', '@', '%', '&', '=', '?', '#', '/', ' ', "'", '\\', '"',
);
const odd = (maxLength: number) => fc.string({ unit: oddUnit, maxLength });
const oddUrl = fc.tuple(fc.webUrl({ withQueryParameters: true }), odd(12), odd(12), odd(12)).map(([u, a, b, c]) => `${u}${u.includes('?') ? '&' : '?'}x${a}=${b}#${c}`);
const oddHit = fc.record({
  s: fc.constant('odd'),
  k: fc.constantFrom('visit', 'lead', 'tel'),
  e: fc.constant(null).map(() => randomBytes(9).toString('hex')),
  t: fc.constant(null).map(() => Date.now()),
  u: fc.oneof(oddUrl, fc.tuple(odd(6), oddUrl).map(([a, u]) => a + u)),
  r: fc.oneof(fc.constant(''), oddUrl, odd(10)),
  g: fc.oneof(fc.constant(null).map(() => `${randomBytes(3).readUIntBE(0, 3)}.1700000000`), odd(12)),
  y: fc.oneof(fc.constant(null).map(() => String(randomBytes(6).readUIntBE(0, 6))), odd(12)),
  v: fc.oneof(fc.constant(null).map(newVisitorId), odd(8)),
  p: fc.dictionary(fc.oneof(odd(10), fc.constantFrom('email', 'Email', 'e-mail', 'tel', 'phone_number', 'id', 'name', 'action')), odd(30), { maxKeys: 5 }),
});
const endpoint = fc.constantFrom('/hit', '/lead', '/p.gif');

const contentType = fc.constantFrom('text/plain', 'text/plain;charset=UTF-8', 'application/json', 'application/octet-stream', 'multipart/form-data');

describe('random bodies', () => {
  let db: TestDatabase;
  let c: RunningCollector;

  beforeAll(async () => {
    db = await freshDatabase();
    c = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      BATCH_MAX_MS: '200',
      BOT_FILTER: 'on',
      REDIS_PREFIX: `t_${randomBytes(4).toString('hex')}:`,
      VISIT_THROTTLE_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
    });
  });
  afterAll(async () => {
    await c?.stop();
    await db?.drop();
  });

  it('stays up, answers only documented statuses, and keeps consistent counters over 3000 bodies', async () => {
    const samples = fc.sample(fc.tuple(body, contentType), { numRuns: 3000, seed: 20261123 });
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const [b, type] = samples[next++]!;
        const r = await fetch(`${c.url}/hit`, { method: 'POST', body: b, headers: { 'Content-Type': type, 'User-Agent': BROWSER_UA } });
        await r.arrayBuffer();
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    console.log('statuses', Object.fromEntries(statuses));
    for (const status of statuses.keys()) expect(ALLOWED.has(status), `status ${status}`).toBe(true);
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200);

    const text = await (await fetch(`${c.url}/metrics`)).text();
    /** Sum of a counter's series whose line starts with `prefix`. */
    const sum = (prefix: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith(prefix) && !l.startsWith('#'))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    const accepted = sum('throughline_hits_accepted_total{');
    const droppedTotal = sum('throughline_hits_dropped_total{');
    expect(accepted + droppedTotal).toBe(samples.length);
    // A 204 is an accepted hit, or one dropped silently (bots, throttled visits).
    const silent = sum('throughline_hits_dropped_total{reason="bot"}') + sum('throughline_hits_dropped_total{reason="throttled"}');
    expect(accepted + silent).toBe(statuses.get(204));
    expect(accepted).toBeGreaterThan(100);
    const stored = await eventually(
      () => db.rows<{ n: string }>('SELECT count() AS n FROM hits'),
      10_000,
      (r) => Number(r[0]?.n) === accepted,
    );
    expect(Number(stored[0]!.n)).toBe(accepted);
  });

  it('odd text in every field on every hit endpoint: each acknowledged hit is stored or dropped under a named reason, and each id it lost is counted', async () => {
    const samples = fc.sample(fc.tuple(oddHit, endpoint), { numRuns: 1500, seed: 20261124 });
    const before = await readMetrics(c.url);
    const acked = new Map<string, Record<string, unknown>>();
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const [hit, path] = samples[next++]!;
        const json = JSON.stringify(hit);
        const r =
          path === '/p.gif'
            ? await fetch(`${c.url}/p.gif?d=${encodeURIComponent(json)}`, { headers: { 'User-Agent': BROWSER_UA } })
            : await fetch(`${c.url}${path}`, { method: 'POST', body: json, headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA } });
        await r.arrayBuffer();
        expect(ALLOWED.has(r.status) || (path === '/p.gif' && r.status === 200), `status ${r.status}`).toBe(true);
        if (r.status === 204 || r.status === 200) acked.set(hit.e, hit);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect((await fetch(`${c.url}/healthz`)).status).toBe(200);
    const after = await readMetrics(c.url);
    const delta = (prefix: string) => after.sum(prefix) - before.sum(prefix);
    const accepted = delta('throughline_hits_accepted_total{');
    expect(accepted + delta('throughline_hits_dropped_total{')).toBe(samples.length);
    const silent = delta('throughline_hits_dropped_total{reason="bot"}') + delta('throughline_hits_dropped_total{reason="throttled"}') + delta('throughline_hits_dropped_total{reason="rate_limited"}');
    expect(acked.size).toBe(accepted + silent);
    expect(accepted).toBeGreaterThan(300);

    type Row = { event_id: string; visitor_id: string; ga_cid: string; ym_uid: string; url: string; referrer: string; user_agent: string; prop_keys: string[]; prop_values: string[] };
    const rows = await eventually(
      () => db.rows<Row>("SELECT event_id, visitor_id, ga_cid, ym_uid, url, referrer, user_agent, prop_keys, prop_values FROM hits WHERE site_id = 'odd'"),
      10_000,
      (r) => r.length >= accepted,
    );
    // Every stored hit was acknowledged; the acknowledged ones not stored are the silent drops.
    expect(rows).toHaveLength(accepted);
    for (const row of rows) expect(acked.has(row.event_id), row.event_id).toBe(true);
    // Every id a stored hit lost is counted under its field and reason.
    const lost = { visitor_id: 0, ga_cid: 0, ym_uid: 0 };
    const sentAs = { visitor_id: 'v', ga_cid: 'g', ym_uid: 'y' } as const;
    for (const row of rows) {
      const sent = acked.get(row.event_id)!;
      for (const field of ['visitor_id', 'ga_cid', 'ym_uid'] as const) {
        if (sent[sentAs[field]] !== '' && row[field] === '') lost[field]++;
      }
      for (const text of [row.visitor_id, row.ga_cid, row.ym_uid, row.url, row.referrer, row.user_agent, ...row.prop_keys, ...row.prop_values]) {
        expect(text.isWellFormed() && !/[\u0000-\u001f\u007f-\u009f]/.test(text), JSON.stringify(text)).toBe(true);
      }
    }
    for (const field of ['visitor_id', 'ga_cid', 'ym_uid'] as const) {
      const counted = after.get(fieldDropped(field, 'malformed')) - before.get(fieldDropped(field, 'malformed'));
      // No limits here and no bot: every hit that lost an id and passed the steps is stored.
      expect(counted, field).toBe(lost[field]);
      expect(lost[field], field).toBeGreaterThan(0);
    }
  });
});
