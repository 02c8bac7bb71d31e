// Attacks on the wire: malformed text and ids in every field of POST /hit,
// POST /lead and GET /p.gif, against the built collector and the real
// ClickHouse. A malformed value never reaches a row (where ClickHouse would
// refuse the whole batch for it): it is made well-formed, or, for an id, removed
// from the hit and counted under a named reason while the hit is stored.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../helpers/clickhouse.js';
import { collectorPerFile } from '../../helpers/collector-per-file.js';
import { newEventId as eventId, newVisitorId as visitorId } from '../../helpers/ids.js';
import { BROWSER_UA } from '../../helpers/load.js';
import { fieldDropped, readMetrics } from '../../helpers/metrics-text.js';


/** C0 and C1 control characters and DEL. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function post(base: string, path: string, body: unknown) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'User-Agent': BROWSER_UA },
  });
}

/** Percent-encodes every UTF-16 code unit's UTF-8 bytes, lone surrogates included (as CESU bytes, which decode to U+FFFD). */
function rawQueryValue(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`;
    else out += Buffer.from(c).toString('hex').replace(/../g, '%$&');
  }
  return out;
}

type Row = { event_id: string; visitor_id: string; ga_cid: string; ym_uid: string; url: string; referrer: string; user_agent: string; prop_keys: string[]; prop_values: string[] };
type Link = { kind_a: string; id_a: string; kind_b: string; id_b: string };

describe('the wire', () => {
  const file = collectorPerFile(() => ({
    // Long enough that the leads sent together share one batch.
    BATCH_MAX_MS: '700',
    VISIT_THROTTLE_SECONDS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    IDENTITY_KEY: 'wire-attack-identity-key',
  }));

  const rowsOf = (ids: string[], n = ids.length) =>
    eventually(
      () => file.db.rows<Row>(`SELECT event_id, visitor_id, ga_cid, ym_uid, url, referrer, user_agent, prop_keys, prop_values FROM hits WHERE event_id IN (${ids.map((i) => `'${i}'`).join(',')})`),
      10_000,
      (r) => r.length >= n,
    );

  it('1a. a lead whose visitor id is a lone surrogate, among good leads, costs no good lead its links; the bad id is counted under its reason', async () => {
    const before = await readMetrics(file.c.url);
    const good = Array.from({ length: 6 }, () => ({ e: eventId(), v: visitorId(), email: `${randomBytes(4).toString('hex')}@example.com` }));
    const bad = { e: eventId(), email: `${randomBytes(4).toString('hex')}@example.com` };
    const bodies = [
      ...good.map((g) => JSON.stringify({ s: 'demo', e: g.e, t: Date.now(), u: 'https://shop.example/contact', v: g.v, p: { email: g.email } })),
      // JSON.stringify writes a lone surrogate as the escape \ud800, as an attacker would.
      JSON.stringify({ s: 'demo', e: bad.e, t: Date.now(), u: 'https://shop.example/contact', v: '\ud800', g: '\udfff', y: '\ud800', p: { email: bad.email } }),
    ];
    expect(bodies.at(-1)).toContain('"v":"\\ud800"');
    const statuses = await Promise.all(bodies.map((b) => post(file.c.url, '/lead', b).then((r) => r.status)));
    expect(statuses).toEqual(bodies.map(() => 204));

    const rows = await rowsOf([...good.map((g) => g.e), bad.e]);
    expect(rows).toHaveLength(7);
    const badRow = rows.find((r) => r.event_id === bad.e)!;
    expect([badRow.visitor_id, badRow.ga_cid, badRow.ym_uid]).toEqual(['', '', '']);
    const links = await eventually(() => file.db.rows<Link>(`SELECT kind_a, id_a, kind_b, id_b FROM identity_links WHERE kind_a = 'visitor'`), 10_000, (r) => r.length >= 6);
    expect(links.map((l) => l.id_a).sort()).toEqual(good.map((g) => g.v).sort());
    for (const l of links) expect(l.kind_b).toBe('email');
    const after = await readMetrics(file.c.url);
    expect(after.get(fieldDropped('visitor_id', 'malformed')) - before.get(fieldDropped('visitor_id', 'malformed'))).toBe(1);
    expect(after.get(fieldDropped('ga_cid', 'malformed')) - before.get(fieldDropped('ga_cid', 'malformed'))).toBe(1);
    expect(after.get(fieldDropped('ym_uid', 'malformed')) - before.get(fieldDropped('ym_uid', 'malformed'))).toBe(1);
    expect(after.get('throughline_batches_spilled_total{to="disk"}') + after.get('throughline_insert_failures_total')).toBe(0);
  });

  it('1a. each id is checked by its own rule: a bad visitor, GA or Metrika id is removed and counted, and the visit is stored', async () => {
    const cases: Array<[field: 'v' | 'g' | 'y', value: unknown, stored: string]> = [
      ['v', 'ab23cd', 'AB23CD'],
      ['v', 'ABCDEFGHJKMNPQRS', ''], // 16 characters: once accepted
      ['v', 'AB1CD0', ''], // 1 and 0 are not in the alphabet
      ['v', 'AB23C\u0000', ''],
      ['v', 'AB23C\u200d', ''],
      ['v', 123456, ''],
      ['g', '908899769.1600020018', '908899769.1600020018'],
      ['g', 'GA1.2.908899769.1600020018', '908899769.1600020018'], // a raw _ga value reads as its client id (contract/ids.ts)
      ['g', 'GA1.2.9088x9769.1600020018', ''],
      ['g', '908899769.16\n', ''],
      ['g', 'x'.repeat(65), ''],
      ['y', '1551977723718998723', '1551977723718998723'],
      ['y', '15519777a', ''],
      ['y', '1'.repeat(100), ''],
    ];
    const column = { v: 'visitor_id', g: 'ga_cid', y: 'ym_uid' } as const;
    const before = await readMetrics(file.c.url);
    const sent = cases.map(([field, value]) => ({ e: eventId(), field, value }));
    for (const s of sent) {
      const r = await post(file.c.url, '/hit', { s: 'demo', k: 'visit', e: s.e, t: Date.now(), u: 'https://shop.example/', [s.field]: s.value });
      expect(r.status, `${s.field}=${JSON.stringify(s.value)}`).toBe(204);
    }
    const rows = await rowsOf(sent.map((s) => s.e));
    sent.forEach((s, i) => {
      const row = rows.find((r) => r.event_id === s.e)!;
      expect(row[column[s.field]], `${s.field}=${JSON.stringify(s.value)}`).toBe(cases[i]![2]);
    });
    const after = await readMetrics(file.c.url);
    for (const field of ['v', 'g', 'y'] as const) {
      const bad = cases.filter(([f, , stored]) => f === field && stored === '').length;
      const series = fieldDropped(column[field], 'malformed');
      expect(after.get(series) - before.get(series), series).toBe(bad);
    }
  });

  it('1a. no malformed text reaches a row from POST /hit, POST /lead or GET /p.gif: lone surrogates and control characters in URLs, referrers, props and their keys', async () => {
    const dirty = 'a\ud800b\u0000c\u0007d\u007fe\u0085f\u200eg\udc00';
    const p = { [`id${dirty}`]: `x${dirty}`, name: `n${dirty}`, action: `/send?x=${dirty}` };
    const u = `https://shop.example/p${dirty}?q=${dirty}#h${dirty}`;
    const r = `https://ref.example/${dirty}`;
    const hit = { e: eventId(), body: { s: 'demo', k: 'visit', t: Date.now(), u, r, v: visitorId(), p } };
    const lead = { e: eventId(), body: { s: 'demo', t: Date.now(), u, r, v: visitorId(), p } };
    const pixelE = eventId();
    const pixel = `${file.c.url}/p.gif?s=demo&e=${pixelE}&t=${Date.now()}&u=${rawQueryValue(u)}&r=${rawQueryValue(r)}&v=${rawQueryValue(`AB${dirty}`)}`;
    const pixelD = { e: eventId(), body: { s: 'demo', k: 'visit', t: Date.now(), u, r, v: '\ud800', p } };
    expect((await post(file.c.url, '/hit', { ...hit.body, e: hit.e })).status).toBe(204);
    expect((await post(file.c.url, '/lead', { ...lead.body, e: lead.e })).status).toBe(204);
    expect((await fetch(pixel, { headers: { 'User-Agent': BROWSER_UA } })).status).toBe(200);
    const d = encodeURIComponent(JSON.stringify({ ...pixelD.body, e: pixelD.e }));
    expect((await fetch(`${file.c.url}/p.gif?d=${d}`, { headers: { 'User-Agent': BROWSER_UA } })).status).toBe(200);

    const rows = await rowsOf([hit.e, lead.e, pixelE, pixelD.e]);
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const texts = [row.url, row.referrer, row.visitor_id, row.user_agent, ...row.prop_keys, ...row.prop_values];
      for (const t of texts) {
        expect(t.isWellFormed(), JSON.stringify(t)).toBe(true);
        expect(CONTROL.test(t), JSON.stringify(t)).toBe(false);
      }
      // The URL is what a browser's parser makes of it: controls percent-encoded, the page and host kept.
      expect(row.url.startsWith('https://shop.example/pa')).toBe(true);
      expect(row.url).toBe(new URL(row.url).href);
      expect(row.referrer.startsWith('https://ref.example/')).toBe(true);
    }
  });
});
