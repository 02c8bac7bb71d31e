// Attacks on privacy: personal data in URLs, referrers and lead props, and the
// key of the contact hashes, against the built collector and the real
// ClickHouse and Redis.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { hashEmail, hashPhone } from '../../../collector/src/identity/hash.js';
import { eventually, freshDatabase, type TestDatabase } from '../../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../../helpers/collector.js';
import { collectorPerFile } from '../../helpers/collector-per-file.js';
import { EMBEDDED_ENGINE, REDIS_URL } from '../../helpers/env.js';
import { newEventId as eventId, newVisitorId as visitorId } from '../../helpers/ids.js';
import { BROWSER_UA } from '../../helpers/load.js';
import { fieldDropped, readMetrics } from '../../helpers/metrics-text.js';


function post(base: string, path: string, body: unknown) {
  return fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA } });
}

type Row = { event_id: string; url: string; referrer: string; utm_source: string; utm_campaign: string; click_id: string; prop_keys: string[]; prop_values: string[] };
const propsOf = (r: Row) => Object.fromEntries(r.prop_keys.map((k, i) => [k, r.prop_values[i]]));

function rowsOf(db: TestDatabase, ids: string[]) {
  return eventually(
    () => db.rows<Row>(`SELECT event_id, url, referrer, utm_source, utm_campaign, click_id, prop_keys, prop_values FROM hits WHERE event_id IN (${ids.map((i) => `'${i}'`).join(',')})`),
    10_000,
    (r) => r.length >= ids.length,
  );
}

describe('personal data in hits', () => {
  const KEY = 'privacy-attack-identity-key';
  const file = collectorPerFile(() => ({
    BATCH_MAX_MS: '100',
    VISIT_THROTTLE_SECONDS: '0',
    RATE_LIMIT_PER_MINUTE: '0',
    IDENTITY_KEY: KEY,
    URL_REDACT_PARAMS: 'member_code, Order-Token',
  }));

  it('7. stored URLs and referrers carry no e-mail or phone: named parameters, contact-like values and the fragment are redacted; UTM tags and click ids kept', async () => {
    const cases: Array<[sent: { u: string; r?: string }, stored: { url: string; referrer?: string }]> = [
      [
        { u: 'https://shop.example/subscribe?email=anna%40mail.ru&phone=%2B7916%20123-45-67&utm_source=mail&utm_campaign=news&gclid=abc&page=2' },
        { url: 'https://shop.example/subscribe?email=redacted&phone=redacted&utm_source=mail&utm_campaign=news&gclid=abc&page=2' },
      ],
      [
        { u: 'https://shop.example/form?E-Mail=x&Phone_Number=1&tel=89161234567&Name=Anna+Petrova&fio=%D0%90%D0%BD%D0%BD%D0%B0&q=anna@mail.ru&c=call%20me%20on%20%2B7%20(916)%20123-45-67&id=12345678' },
        { url: 'https://shop.example/form?E-Mail=redacted&Phone_Number=redacted&tel=redacted&Name=redacted&fio=redacted&q=redacted&c=redacted&id=12345678' },
      ],
      [
        { u: 'https://shop.example/app#/thanks?email=anna@mail.ru&step=3', r: 'https://mail.example/read?from=anna%40mail.ru#x' },
        { url: 'https://shop.example/app#/thanks?email=redacted&step=3', referrer: 'https://mail.example/read?from=redacted#x' },
      ],
      [{ u: 'https://shop.example/p#anna@mail.ru' }, { url: 'https://shop.example/p#redacted' }],
      [{ u: 'https://shop.example/p#phone=89161234567&tab=2' }, { url: 'https://shop.example/p#phone=redacted&tab=2' }],
      [{ u: 'https://shop.example/p?member_code=X1&order-token=abc&ORDER_TOKEN=d&ok=1' }, { url: 'https://shop.example/p?member_code=redacted&order-token=redacted&ORDER_TOKEN=redacted&ok=1' }],
      // Nothing personal: kept byte for byte.
      [{ u: 'https://shop.example/catalog/1234567?sort=price&utm_term=anna%40mail.ru&ts=1700000000000' }, { url: 'https://shop.example/catalog/1234567?sort=price&utm_term=anna%40mail.ru&ts=1700000000000' }],
      [{ u: 'https://shop.example/plain/page' }, { url: 'https://shop.example/plain/page' }],
    ];
    const ids = cases.map(() => eventId());
    for (const [i, [sent]] of cases.entries()) {
      expect((await post(file.c.url, '/hit', { s: 'demo', k: 'visit', e: ids[i], t: Date.now(), v: visitorId(), ...sent })).status).toBe(204);
    }
    const rows = await rowsOf(file.db, ids);
    for (const [i, [sent, stored]] of cases.entries()) {
      const row = rows.find((r) => r.event_id === ids[i])!;
      expect(row.url, sent.u).toBe(stored.url);
      if (stored.referrer !== undefined) expect(row.referrer).toBe(stored.referrer);
    }
    const first = rows.find((r) => r.event_id === ids[0])!;
    expect([first.utm_source, first.utm_campaign, first.click_id]).toEqual(['mail', 'news', 'abc']);
  });

  it('8. lead props: e-mails and phones are hashed whatever the key\'s case or spelling, every other prop off the allow-list is dropped and counted', async () => {
    const before = await readMetrics(file.c.url);
    const v = visitorId();
    const a = { e: eventId(), p: { Email: ' Anna@Mail.RU ', tel: '8 (916) 123-45-67', id: 'callback', name: 'order', action: '/send?email=anna%40mail.ru', comment: 'call Anna', city: 'Moscow' } };
    const b = { e: eventId(), p: { 'e-mail': 'olga@mail.ru', phone_number: '+7 495 123-45-67', 'E_MAIL ': 'not an address', email_hash: 'f'.repeat(32) } };
    const clicked = { e: eventId(), p: { tel: '+7 (495) 000-00-00' } };
    expect((await post(file.c.url, '/lead', { s: 'demo', e: a.e, t: Date.now(), u: 'https://shop.example/contact', v, p: a.p })).status).toBe(204);
    expect((await post(file.c.url, '/hit', { s: 'demo', k: 'lead', e: b.e, t: Date.now(), u: 'https://shop.example/contact', p: b.p })).status).toBe(204);
    expect((await post(file.c.url, '/hit', { s: 'demo', k: 'tel', e: clicked.e, t: Date.now(), u: 'https://shop.example/', v, p: clicked.p })).status).toBe(204);
    const rows = await rowsOf(file.db, [a.e, b.e, clicked.e]);
    const row = (e: string) => rows.find((r) => r.event_id === e)!;
    const annaEmail = hashEmail('anna@mail.ru', KEY)!;
    const annaPhone = hashPhone('+79161234567', KEY)!;
    expect(propsOf(row(a.e))).toEqual({ id: 'callback', name: 'order', action: '/send?email=redacted', email_hash: annaEmail, phone_hash: annaPhone });
    expect(propsOf(row(b.e))).toEqual({ email_hash: hashEmail('olga@mail.ru', KEY), phone_hash: hashPhone('+74951234567', KEY) });
    expect(propsOf(row(clicked.e))).toEqual({ phone_hash: hashPhone('+74950000000', KEY) });
    expect(JSON.stringify(rows)).not.toMatch(/anna|olga|moscow|123-45|000-00/i);
    const after = await readMetrics(file.c.url);
    const delta = (reason: string) => after.get(fieldDropped('prop', reason)) - before.get(fieldDropped('prop', reason));
    expect([delta('not_allowed'), delta('not_a_contact')]).toEqual([2, 2]);
    // The lead links its visitor to its hashes; the click on the site's own number links no one.
    const links = await eventually(() => file.db.rows<{ kind_a: string; id_a: string; kind_b: string; id_b: string }>(
      `SELECT kind_a, id_a, kind_b, id_b FROM identity_links WHERE id_a = '${v}' OR id_b = '${hashPhone('+74950000000', KEY)}' ORDER BY kind_b`,
    ), 5000, (r) => r.length >= 2);
    expect(links).toEqual([
      { kind_a: 'visitor', id_a: v, kind_b: 'email', id_b: annaEmail },
      { kind_a: 'visitor', id_a: v, kind_b: 'phone', id_b: annaPhone },
    ]);
  });
});

describe('the identity key', () => {
  // Two collectors on one database: a server's case (an embedded data directory belongs to one process).
  it.skipIf(EMBEDDED_ENGINE)('9. two collectors on one fresh database without IDENTITY_KEY agree on one generated key, and a restart without Redis\'s copy keeps it', async () => {
    const db = await freshDatabase();
    const prefix = `t_${randomBytes(4).toString('hex')}:`;
    const env = { CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REDIS_PREFIX: prefix };
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix });
    let running: RunningCollector[] = [];
    try {
      running = await Promise.all([startCollector(env), startCollector(env)]);
      const lead = async (collector: RunningCollector) => {
        const e = eventId();
        expect((await post(collector.url, '/lead', { s: 'demo', e, t: Date.now(), u: 'https://shop.example/', p: { email: 'same.person@example.com' } })).status).toBe(204);
        return e;
      };
      const first = await Promise.all(running.map(lead));
      const rows = await rowsOf(db, first);
      const hashes = new Set(rows.map((r) => propsOf(r).email_hash));
      expect(hashes.size).toBe(1);
      const keys = await db.rows<{ key: string }>('SELECT DISTINCT key FROM identity_key');
      expect(keys).toHaveLength(1);
      const key = keys[0]!.key;
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect([...hashes][0]).toBe(hashEmail('same.person@example.com', key));

      await Promise.all(running.map((r) => r.stop()));
      // Redis forgets (this machine's Redis keeps nothing on disk): ClickHouse still knows.
      await redis.del(`identity-key:${db.name}`);
      running = [await startCollector(env)];
      const again = await lead(running[0]!);
      const [row] = await rowsOf(db, [again]);
      expect(propsOf(row!).email_hash).toBe(hashEmail('same.person@example.com', key));
    } finally {
      await Promise.all(running.map((r) => r.stop()));
      redis.disconnect();
      await db.drop();
    }
  });

  it('9. the published example key is refused at start: exit 78, naming IDENTITY_KEY', async () => {
    const db = await freshDatabase();
    try {
      const err = await startCollector({ CLICKHOUSE_DATABASE: db.name, IDENTITY_KEY: 'throughline-development-key-change-me' }).then(
        async (c) => {
          await c.stop();
          return null;
        },
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(/exited with 78/);
      expect(err?.message).toMatch(/IDENTITY_KEY/);
    } finally {
      await db.drop();
    }
  });
});
