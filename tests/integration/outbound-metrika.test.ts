// Deal outcomes sent to Yandex Metrika through the durable outbox
// (outbound/metrika): offline conversions and CDP orders. The built collector,
// the real ClickHouse (both engines) and Redis, deals made through the JSON
// import, and a local Metrika stand-in that reads each upload's multipart form
// as Metrika would, records every request and answers as each test scripts it
// (200 by default, 500, 400). Each test asserts the exact requests: path and
// query, `Authorization: OAuth <token>`, the form's one field `file` (its file
// name, type and bytes) — and the ones that must not be sent. The admin's CSV
// download and period upload are held to the same bytes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { readMetrics } from '../helpers/metrics-text.js';
import { SCENARIO_COLLECTOR_ENV } from '../helpers/report-scenario.js';

const SECRET = 'shop_metrika_secret_0123456789';
const ADMIN = 'admin-metrika-token-0123456789';
const COUNTER = '2215573';
const TOKEN = 'y0_AgAAAAAtest-metrika-token';
const GOAL = 'order_paid';
const HOUR = 3600;
const NOW = Math.floor(Date.now() / 1000);
/** Change times: a minute apart, from an hour ago (well within Metrika's 21 days). */
let clock = NOW - HOUR;
const nextTime = () => (clock += 60);

const CONVERSIONS_PATH = `/management/v1/counter/${COUNTER}/offline_conversions/upload`;
const ORDERS_PATH = `/cdp/api/v1/counter/${COUNTER}/data/simple_orders`;
const CONVERSIONS_HEADER = 'ClientId,Target,DateTime,Price,Currency';
const ORDERS_HEADER = 'id,client_ids,create_date_time,update_date_time,order_status,revenue';

type Recorded = { method: string; path: string; query: Record<string, string>; auth: string; fields: string[]; file: { name: string; type: string; text: string } };
type Answer = { status: number; body?: string };
type Kind = 'conversions' | 'orders';

/** The Metrika stand-in: records every request, its form read as multipart; answers each key's scripted answers in turn, then 200. */
class MetrikaStandIn {
  readonly requests: Recorded[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const u = new URL(req.url ?? '/', 'http://metrika.test');
          const form = await new Response(Buffer.concat(chunks), { headers: { 'Content-Type': req.headers['content-type'] ?? '' } }).formData();
          const file = form.get('file') as File;
          const r: Recorded = {
            method: req.method ?? '',
            path: u.pathname,
            query: Object.fromEntries(u.searchParams),
            auth: req.headers.authorization ?? '',
            fields: [...form.keys()],
            file: { name: file.name, type: file.type, text: await file.text() },
          };
          this.requests.push(r);
          const kind: Kind = r.path === ORDERS_PATH ? 'orders' : 'conversions';
          // A conversion's key is its ClientId, an order's its id: the first field of the first line.
          const answer = this.scripts.get(`${kind}:${r.file.text.split('\n')[1]?.split(',')[0]}`)?.shift() ?? { status: 200, body: '{"uploading":{"id":1}}' };
          res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body ?? '');
        })();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  answer(kind: Kind, key: string, ...answers: Answer[]): void {
    this.scripts.set(`${kind}:${key}`, answers);
  }

  /** The conversion uploads of a ClientId (by the first line of their file). */
  conversions(clientId: string): Recorded[] {
    return this.requests.filter((r) => r.path === CONVERSIONS_PATH && r.file.text.split('\n')[1]?.startsWith(`${clientId},`));
  }

  /** The order upserts of an order id. */
  orders(id: string): Recorded[] {
    return this.requests.filter((r) => r.path === ORDERS_PATH && r.file.text.split('\n')[1]?.startsWith(`${id},`));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** An upload exactly as the collector must send it. */
const upload = (kind: Kind, text: string): Recorded => ({
  method: 'POST',
  path: kind === 'orders' ? ORDERS_PATH : CONVERSIONS_PATH,
  query: kind === 'orders' ? { merge_mode: 'SAVE', delimiter_type: 'COMMA' } : {},
  auth: `OAuth ${TOKEN}`,
  fields: ['file'],
  file: { name: kind === 'orders' ? 'orders.csv' : 'conversions.csv', type: 'text/csv', text },
});
const conversion = (clientId: string, at: number, price: string, goal = GOAL) => upload('conversions', `${CONVERSIONS_HEADER}\n${clientId},${goal},${at},${price},RUB\n`);
/** A time on the counter's clock: Europe/Moscow (the default METRIKA_TIMEZONE) is UTC+3 all year. */
const msk = (s: number) => new Date((s + 3 * HOUR) * 1000).toISOString().slice(0, 19).replace('T', ' ');
const order = (id: string, clientId: string, created: number, updated: number, status: string, revenue: string) =>
  upload('orders', `${ORDERS_HEADER}\n${id},${clientId},${msk(created)},${msk(updated)},${status},${revenue}\n`);

/** A fresh Metrika ClientID (digits), so each test reads its own requests. */
const newClientId = () => `${NOW}${randomBytes(4).readUInt32BE(0)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const utcDay = (s: number) => new Date(s * 1000).toISOString().slice(0, 10);
const at = (iso: string) => Date.parse(`${iso}Z`) / 1000;

type Deal = { id: string; status: string; amount?: string; updated_at: number; deleted?: boolean; fields?: Record<string, string> };

describe('Yandex Metrika through the outbox', () => {
  const metrika = new MetrikaStandIn();
  let db: TestDatabase;
  let dir: string;
  let collector: RunningCollector;

  const deliver = async (...deals: Deal[]) => {
    const res = await fetch(`${collector.url}/crm/import/shop/${SECRET}/deals`, {
      method: 'POST',
      body: JSON.stringify({ deals: deals.map((d) => ({ pipeline: 'shop', amount: '0', ...d })) }),
      headers: { 'Content-Type': 'application/json' },
    });
    // The CRM's answer never depends on Metrika.
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ refused: [] });
  };
  const admin = (path: string, init: RequestInit = {}) => fetch(`${collector.url}${path}`, { ...init, headers: { Authorization: `Bearer ${ADMIN}` } });
  const conversions = (clientId: string, n: number, ms = 15_000) => eventually(async () => metrika.conversions(clientId), ms, (r) => r.length >= n);
  const orders = (id: string, n: number, ms = 15_000) => eventually(async () => metrika.orders(id), ms, (r) => r.length >= n);
  const states = (sender: string, subject: string) =>
    db.rows<{ step: number; event: string; state: string }>(`SELECT step, event, state FROM outbound_current WHERE sender = '${sender}' AND subject = '${subject}' ORDER BY step`);
  const metric = async (series: string) => (await readMetrics(collector.url)).get(series);
  /**
   * Delivers a won deal of its own and waits for its conversion: plans run one
   * at a time, so every plan before it is done, and what they wrote had its chance to go.
   */
  const settle = async () => {
    const cid = newClientId();
    await deliver({ id: `sentinel-${cid}`, status: 'paid', amount: '1', updated_at: nextTime(), fields: { ym_uid: cid } });
    await conversions(cid, 1);
    await orders(`shop:sentinel-${cid}`, 1);
    await sleep(1000);
  };

  beforeAll(async () => {
    await metrika.start();
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-metrika-'));
    const config = {
      funnel: [{ stage: 'Order' }, { stage: 'Paid', marker: 'won' }, { stage: 'Cancelled', marker: 'lost' }, { stage: 'Refunded', marker: 'returned' }],
      sources: { shop: { kind: 'import', secret: SECRET, pipelines: { shop: { new: 'Order', paid: 'Paid', cancelled: 'Cancelled', refunded: 'Refunded' } } } },
    };
    await writeFile(join(dir, 'crm.json'), JSON.stringify(config));
    collector = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      REDIS_PREFIX: `t_${db.name}:`,
      CRM_CONFIG: join(dir, 'crm.json'),
      CRM_ADMIN_TOKEN: ADMIN,
      IDENTITY_KEY: 'metrika-identity-key-0123456789',
      METRIKA_COUNTER_ID: COUNTER,
      METRIKA_TOKEN: TOKEN,
      METRIKA_GOAL: GOAL,
      METRIKA_URL: metrika.url,
      BATCH_MAX_MS: '100',
      ...SCENARIO_COLLECTOR_ENV,
    });
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    await metrika.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a won deal: one upload of Metrika’s CSV in the form field `file`, with the OAuth token; and its CDP order', async () => {
    const cid = newClientId();
    const t = nextTime();
    await deliver({ id: 'W-1', status: 'paid', amount: '2499.90', updated_at: t, fields: { ym_uid: cid } });
    expect(await conversions(cid, 1)).toEqual([conversion(cid, t, '2499.90')]);
    expect(await orders('shop:W-1', 1)).toEqual([order('shop:W-1', cid, t, t, 'PAID', '2499.90')]);
    expect(await eventually(() => states('metrika', 'shop:W-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ step: 1, event: 'conversion', state: 'sent' }]);
    // Nothing else went out: no request carried the token anywhere but its header.
    expect(metrika.requests.every((r) => r.auth === `OAuth ${TOKEN}` && !JSON.stringify(r.query).includes(TOKEN))).toBe(true);
  });

  it('a 500 is tried again until Metrika takes it: two identical uploads, one conversion', async () => {
    const cid = newClientId();
    metrika.answer('conversions', cid, { status: 500, body: 'backend error' });
    const before = await metric('throughline_outbound_messages_total{sender="metrika",outcome="retried"}');
    const t = nextTime();
    await deliver({ id: 'T-1', status: 'paid', amount: '99.99', updated_at: t, fields: { ym_uid: cid } });
    const one = conversion(cid, t, '99.99');
    expect(await conversions(cid, 2)).toEqual([one, one]);
    expect(await eventually(() => states('metrika', 'shop:T-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ step: 1, event: 'conversion', state: 'sent' }]);
    expect(await metric('throughline_outbound_messages_total{sender="metrika",outcome="retried"}')).toBe(before + 1);
    await settle();
    expect(metrika.conversions(cid)).toHaveLength(2);
  });

  it('a 400 is not tried again: the message is failed, and GET /admin/outbox lists it with Metrika’s answer', async () => {
    const cid = newClientId();
    const refusal = '{"errors":[{"error_type":"invalid_parameter","message":"Goal not found"}],"code":400}';
    metrika.answer('conversions', cid, { status: 400, body: refusal });
    const t = nextTime();
    await deliver({ id: 'F-1', status: 'paid', amount: '10', updated_at: t, fields: { ym_uid: cid } });
    expect(await conversions(cid, 1)).toEqual([conversion(cid, t, '10.00')]);
    expect(await eventually(() => states('metrika', 'shop:F-1'), 5000, (r) => r[0]?.state === 'failed')).toEqual([{ step: 1, event: 'conversion', state: 'failed' }]);
    // Longer than the first back-off: nothing more goes out.
    await sleep(2000);
    await settle();
    expect(metrika.conversions(cid)).toHaveLength(1);
    const outbox = (await (await admin('/admin/outbox')).json()) as { senders: unknown[]; failed: Record<string, unknown>[] };
    expect(outbox.failed.find((m) => m.subject === 'shop:F-1')).toMatchObject({
      id: 'metrika:shop:F-1#1',
      sender: 'metrika',
      event: 'conversion',
      reference: GOAL,
      recipient: cid,
      value: 10,
      currency: 'RUB',
      attempts: 1,
      reason: `HTTP 400: ${refusal}`,
    });
    expect(outbox.senders).toEqual(expect.arrayContaining([{ name: 'metrika', maxAgeHours: 504 }, { name: 'metrika_cdp', maxAgeHours: 4320 }]));
  });

  it('a deal delivered twice, at once and again later in the same state, is one conversion and one order', async () => {
    const cid = newClientId();
    const deal = { id: 'D-1', status: 'paid', amount: '1500', updated_at: nextTime(), fields: { ym_uid: cid } };
    await Promise.all([deliver(deal), deliver(deal)]);
    await deliver({ ...deal, updated_at: nextTime() });
    await conversions(cid, 1);
    await settle();
    expect(metrika.conversions(cid)).toEqual([conversion(cid, deal.updated_at, '1500.00')]);
    expect(metrika.orders('shop:D-1')).toEqual([order('shop:D-1', cid, deal.updated_at, deal.updated_at, 'PAID', '1500.00')]);
    expect(await states('metrika', 'shop:D-1')).toEqual([{ step: 1, event: 'conversion', state: 'sent' }]);
  });

  it('a deal’s changes, open → won → returned: its CDP order upserted in order, IN_PROGRESS, PAID, CANCELLED; one conversion', async () => {
    const cid = newClientId();
    const [t1, t2, t3] = [nextTime(), nextTime(), nextTime()];
    const fields = { ym_uid: cid };
    await deliver({ id: 'C-1', status: 'new', amount: '1000', updated_at: t1, fields });
    await orders('shop:C-1', 1);
    await deliver({ id: 'C-1', status: 'paid', amount: '1000', updated_at: t2, fields });
    await orders('shop:C-1', 2);
    await deliver({ id: 'C-1', status: 'refunded', amount: '1000', updated_at: t3, fields });
    expect(await orders('shop:C-1', 3)).toEqual([
      order('shop:C-1', cid, t1, t1, 'IN_PROGRESS', '1000.00'),
      order('shop:C-1', cid, t1, t2, 'PAID', '1000.00'),
      order('shop:C-1', cid, t1, t3, 'CANCELLED', '1000.00'),
    ]);
    await settle();
    // Metrika cannot take a conversion back: the win stays its one conversion.
    expect(metrika.conversions(cid)).toEqual([conversion(cid, t2, '1000.00')]);
    expect(await states('metrika_cdp', 'shop:C-1')).toEqual([
      { step: 1, event: 'IN_PROGRESS', state: 'sent' },
      { step: 2, event: 'PAID', state: 'sent' },
      { step: 3, event: 'CANCELLED', state: 'sent' },
    ]);
  });

  it('a deal without a ClientID of its own goes to the _ym_uid its visitor’s hits carried', async () => {
    const visitor = 'MK47XZ';
    const cid = newClientId();
    const hit = { s: 'shop', k: 'visit', e: randomBytes(8).toString('hex'), t: (NOW - 2 * HOUR) * 1000, u: 'https://shop.example/?utm_source=yandex', r: '', g: '', y: cid, v: visitor };
    expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: JSON.stringify(hit), headers: { 'Content-Type': 'text/plain' } })).status).toBe(204);
    await eventually(() => db.rows(`SELECT ym_uid FROM hit_ids WHERE visitor_id = '${visitor}'`));
    const t = nextTime();
    await deliver({ id: 'G-1', status: 'paid', amount: '300', updated_at: t, fields: { tl_vid: visitor.toLowerCase() } });
    expect(await conversions(cid, 1)).toEqual([conversion(cid, t, '300.00')]);
    expect(await orders('shop:G-1', 1)).toEqual([order('shop:G-1', cid, t, t, 'PAID', '300.00')]);
  });

  it('a deal no ClientID reaches is not sent, and counted once per sender', async () => {
    const unsent = (sender: string) => metric(`throughline_outbound_changes_unsent_total{sender="${sender}",reason="no_metrika_id"}`);
    const [conv, cdp] = [await unsent('metrika'), await unsent('metrika_cdp')];
    const count = metrika.requests.length;
    await deliver({ id: 'N-1', status: 'paid', amount: '50', updated_at: nextTime() });
    await settle();
    expect(metrika.requests.length).toBe(count + 2); // the sentinel's conversion and order
    expect(await states('metrika', 'shop:N-1')).toEqual([]);
    expect([await unsent('metrika'), await unsent('metrika_cdp')]).toEqual([conv + 1, cdp + 1]);
  });

  it('downloads a period’s conversions as Metrika’s CSV: won deals with a ClientID, net of returns and deletions', async () => {
    const [a, b, c, d, e] = [newClientId(), newClientId(), newClientId(), newClientId(), newClientId()];
    await deliver(
      { id: 'P-1', status: 'paid', amount: '1500', updated_at: at('2025-02-03T10:00:00'), fields: { ym_uid: a } },
      { id: 'P-2', status: 'paid', amount: '99.99', updated_at: at('2025-02-10T23:59:59'), fields: { ym_uid: b } },
      // Won in the period, then returned; won and deleted: not conversions.
      { id: 'P-3', status: 'paid', amount: '700', updated_at: at('2025-02-05T09:00:00'), fields: { ym_uid: c } },
      { id: 'P-4', status: 'paid', amount: '800', updated_at: at('2025-02-06T09:00:00'), fields: { ym_uid: d } },
      // No ClientID; won a second before the period; still open.
      { id: 'P-5', status: 'paid', amount: '900', updated_at: at('2025-02-07T09:00:00') },
      { id: 'P-6', status: 'paid', amount: '900', updated_at: at('2025-01-31T23:59:59'), fields: { ym_uid: e } },
      { id: 'P-7', status: 'new', amount: '900', updated_at: at('2025-02-08T09:00:00'), fields: { ym_uid: e } },
    );
    await deliver(
      { id: 'P-3', status: 'refunded', amount: '700', updated_at: at('2025-02-05T10:00:00'), fields: { ym_uid: c } },
      { id: 'P-4', status: 'paid', amount: '800', updated_at: at('2025-02-06T10:00:00'), deleted: true, fields: { ym_uid: d } },
    );
    const res = await admin('/admin/metrika/conversions.csv?from=2025-02-01&to=2025-02-28');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=conversions-order_paid-2025-02-01-2025-02-28.csv');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('throughline-skipped')).toBe('no_metrika_id=1');
    expect(await res.text()).toBe(`${CONVERSIONS_HEADER}\n${a},order_paid,${at('2025-02-03T10:00:00')},1500.00,RUB\n${b},order_paid,${at('2025-02-10T23:59:59')},99.99,RUB\n`);
    const other = await admin('/admin/metrika/conversions.csv?from=2025-02-10&to=2025-02-10&goal=offline.paid');
    expect(await other.text()).toBe(`${CONVERSIONS_HEADER}\n${b},offline.paid,${at('2025-02-10T23:59:59')},99.99,RUB\n`);
    // Too old for Metrika's 21 days: none of them was uploaded (listed as too_old instead).
    expect(metrika.conversions(a)).toEqual([]);
    expect(await states('metrika', 'shop:P-1')).toEqual([{ step: 1, event: 'conversion', state: 'too_old' }]);
  });

  it('refuses a download or an upload it cannot answer with a named reason, and answers only the admin token', async () => {
    const bad = await admin('/admin/metrika/conversions.csv?from=2025-02-28&to=2025-02-01');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'bad_period', reason: 'from is after to' });
    expect(await (await admin('/admin/metrika/conversions.csv?from=2025-02-01&to=2025-02-02&goal=%3DHYPERLINK(1)')).json()).toMatchObject({ error: 'bad_goal' });
    expect(await (await admin('/admin/metrika/conversions/upload?from=x&to=2025-02-02', { method: 'POST' })).json()).toMatchObject({ error: 'bad_period' });
    expect((await fetch(`${collector.url}/admin/metrika/conversions.csv?from=2025-02-01&to=2025-02-02`)).status).toBe(401);
    expect((await fetch(`${collector.url}/admin/metrika/conversions/upload?from=2025-02-01&to=2025-02-02`, { method: 'POST' })).status).toBe(401);
    // Only conversions older than Metrika's 21 days in the period: nothing to queue.
    const old = await admin('/admin/metrika/conversions/upload?from=2025-02-01&to=2025-02-28', { method: 'POST' });
    expect(old.status).toBe(422);
    expect(await old.json()).toMatchObject({ error: 'no_conversions', tooOld: 2 });
  });

  it('queues a period’s file as one upload: the downloaded bytes, sent once however often it is asked for', async () => {
    const query = `from=${utcDay(NOW - 2 * 86_400)}&to=${utcDay(NOW)}`;
    const file = await (await admin(`/admin/metrika/conversions.csv?${query}`)).text();
    const rows = file.split('\n').length - 2;
    expect(rows).toBeGreaterThan(5);
    const first = await admin(`/admin/metrika/conversions/upload?${query}`, { method: 'POST' });
    expect(first.status).toBe(202);
    const id = `metrika:Period:${utcDay(NOW - 2 * 86_400)}..${utcDay(NOW)}:${GOAL}#1`;
    expect(await first.json()).toEqual({ id, state: 'pending', queued: true, rows, tooOld: 0, skipped: { no_metrika_id: 1 } });
    const sent = await eventually(async () => metrika.requests.filter((r) => r.file.text === file), 15_000);
    expect(sent).toEqual([upload('conversions', file)]);
    const again = await admin(`/admin/metrika/conversions/upload?${query}`, { method: 'POST' });
    expect(await again.json()).toMatchObject({ id, queued: false, rows });
    await sleep(1000);
    expect(metrika.requests.filter((r) => r.file.text === file)).toHaveLength(1);
  });
});
