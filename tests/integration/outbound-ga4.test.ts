// Deal outcomes sent back to GA4 through the durable outbox (outbound/): the
// built collector, the real ClickHouse (both engines) and Redis, deals made
// through the JSON import, and a local GA4 Measurement Protocol stand-in that
// records every request and answers as each test scripts it (204 by default,
// 500, 400). Each test asserts the exact requests: path, measurement_id and
// api_secret, and the JSON body (client_id, timestamp_micros, the event with
// transaction_id, value and currency) — and the ones that must not be sent.
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

const SECRET = 'shop_outbound_secret_0123456789';
const ADMIN = 'admin-outbound-token-0123456789';
const MEASUREMENT_ID = 'G-TEST12345';
const API_SECRET = 'mp-secret-0123456789';
const HOUR = 3600;
const NOW = Math.floor(Date.now() / 1000);
/** Change times: a minute apart, from an hour ago (well within GA4's 72 hours). */
let clock = NOW - HOUR;
const nextTime = () => (clock += 60);

type Recorded = { path: string; query: Record<string, string>; type: string; body: { client_id: string; timestamp_micros: number; events: { name: string; params: Record<string, unknown> }[] } };
type Answer = { status: number; body?: string };

/** The GA4 stand-in: records every request; answers each client id's scripted answers in turn, then 204. */
class Ga4StandIn {
  readonly requests: Recorded[] = [];
  private readonly scripts = new Map<string, Answer[]>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://ga4.test');
        const body = JSON.parse(raw) as Recorded['body'];
        this.requests.push({ path: u.pathname, query: Object.fromEntries(u.searchParams), type: req.headers['content-type'] ?? '', body });
        const answer = this.scripts.get(body.client_id)?.shift() ?? { status: 204 };
        res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body ?? '');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  answer(clientId: string, ...answers: Answer[]): void {
    this.scripts.set(clientId, answers);
  }

  to(clientId: string): Recorded[] {
    return this.requests.filter((r) => r.body.client_id === clientId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A request exactly as the collector must send it. */
const request = (clientId: string, at: number, name: 'purchase' | 'refund', transactionId: string, value: number, currency = 'RUB'): Recorded => ({
  path: '/mp/collect',
  query: { measurement_id: MEASUREMENT_ID, api_secret: API_SECRET },
  type: 'application/json',
  body: { client_id: clientId, timestamp_micros: at * 1_000_000, events: [{ name, params: { transaction_id: transactionId, value, currency } }] },
});

/** A fresh GA client id (`digits.digits`), so each test reads its own requests. */
const newClientId = () => `${randomBytes(4).readUInt32BE(0)}.${NOW - 86_400}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Deal = { id: string; status: string; amount?: string; updated_at: number; deleted?: boolean; emails?: string[]; fields?: Record<string, string> };

describe('GA4 Measurement Protocol through the outbox', () => {
  const ga4 = new Ga4StandIn();
  let db: TestDatabase;
  let dir: string;
  let collector: RunningCollector;
  let env: Record<string, string>;

  const deliver = async (...deals: Deal[]) => {
    const res = await fetch(`${collector.url}/crm/import/shop/${SECRET}/deals`, {
      method: 'POST',
      body: JSON.stringify({ deals: deals.map((d) => ({ pipeline: 'shop', amount: '0', ...d })) }),
      headers: { 'Content-Type': 'application/json' },
    });
    // The CRM's answer never depends on GA4.
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ refused: [] });
  };
  /** Waits until `n` requests reached the stand-in for the client id; returns them. */
  const sent = (clientId: string, n: number, ms = 15_000) => eventually(async () => ga4.to(clientId), ms, (r) => r.length >= n);
  const outbox = () => fetch(`${collector.url}/admin/outbox`, { headers: { Authorization: `Bearer ${ADMIN}` } }).then((r) => r.json() as Promise<OutboxAnswer>);
  const states = (subject: string) =>
    db.rows<{ step: number; event: string; state: string }>(`SELECT step, event, state FROM outbound_current WHERE sender = 'ga4' AND subject = '${subject}' ORDER BY step`);
  const metric = async (outcome: string) => (await readMetrics(collector.url)).get(`throughline_outbound_messages_total{sender="ga4",outcome="${outcome}"}`);
  /**
   * Delivers a deal of its own and waits for its purchase: plans run one at a
   * time, so every plan before it is done, and what they wrote had its chance to go.
   */
  const settle = async () => {
    const cid = newClientId();
    await deliver({ id: `sentinel-${cid}`, status: 'paid', amount: '1', updated_at: nextTime(), fields: { tl_ga: cid } });
    await sent(cid, 1);
    await sleep(1500);
  };

  beforeAll(async () => {
    await ga4.start();
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-outbound-'));
    const config = {
      funnel: [{ stage: 'Order' }, { stage: 'Paid', marker: 'won' }, { stage: 'Cancelled', marker: 'lost' }, { stage: 'Refunded', marker: 'returned' }],
      sources: { shop: { kind: 'import', secret: SECRET, pipelines: { shop: { new: 'Order', paid: 'Paid', cancelled: 'Cancelled', refunded: 'Refunded' } } } },
    };
    await writeFile(join(dir, 'crm.json'), JSON.stringify(config));
    env = {
      CLICKHOUSE_DATABASE: db.name,
      REDIS_PREFIX: `t_${db.name}:`,
      CRM_CONFIG: join(dir, 'crm.json'),
      CRM_ADMIN_TOKEN: ADMIN,
      IDENTITY_KEY: 'outbound-identity-key-0123456789',
      GA4_MEASUREMENT_ID: MEASUREMENT_ID,
      GA4_API_SECRET: API_SECRET,
      GA4_URL: ga4.url,
      BATCH_MAX_MS: '100',
      ...SCENARIO_COLLECTOR_ENV,
    };
    collector = await startCollector(env);
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    await ga4.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a won deal with a GA client id: one purchase under the deal id, at the time of the change', async () => {
    const cid = '908899769.1600020018';
    const t1 = nextTime();
    const t2 = nextTime();
    // The form wrote the raw _ga cookie into the CRM field; the deal keeps the client id of it.
    await deliver({ id: 'W-1', status: 'new', amount: '2499.90', updated_at: t1, fields: { tl_ga: 'GA1.2.908899769.1600020018' } });
    await deliver({ id: 'W-1', status: 'paid', amount: '2499.90', updated_at: t2, fields: { tl_ga: 'GA1.2.908899769.1600020018' } });
    expect(await sent(cid, 1)).toEqual([request(cid, t2, 'purchase', 'shop:W-1', 2499.9)]);
    expect(await eventually(() => states('shop:W-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ step: 1, event: 'purchase', state: 'sent' }]);
    expect(await db.rows(`SELECT held_minor, held_currency FROM outbound_ledger WHERE subject = 'shop:W-1'`)).toEqual([{ held_minor: '249990', held_currency: 'RUB' }]);
  });

  it('a later increase: a purchase of the difference under a derived id; a decrease: a partial refund; deletion: a full refund', async () => {
    const cid = '908899769.1600020018';
    const fields = { tl_ga: cid };
    const up = nextTime();
    await deliver({ id: 'W-1', status: 'paid', amount: '3000', updated_at: up, fields });
    expect((await sent(cid, 2))[1]).toEqual(request(cid, up, 'purchase', 'shop:W-1~2', 500.1));
    const down = nextTime();
    await deliver({ id: 'W-1', status: 'paid', amount: '2800', updated_at: down, fields });
    expect((await sent(cid, 3))[2]).toEqual(request(cid, down, 'refund', 'shop:W-1', 200));
    const gone = nextTime();
    await deliver({ id: 'W-1', status: 'paid', amount: '2800', updated_at: gone, deleted: true, fields });
    expect((await sent(cid, 4))[3]).toEqual(request(cid, gone, 'refund', 'shop:W-1', 2800));
    expect(await eventually(() => db.rows(`SELECT held_minor FROM outbound_ledger WHERE subject = 'shop:W-1'`), 5000, (r) => r[0]?.held_minor === '0')).toEqual([{ held_minor: '0' }]);
    await settle();
    expect(ga4.to(cid)).toHaveLength(4);
  });

  it('a loss after a win and a return: a full refund each', async () => {
    const lost = newClientId();
    const returned = newClientId();
    const [w1, w2, l, r] = [nextTime(), nextTime(), nextTime(), nextTime()];
    await deliver({ id: 'L-1', status: 'paid', amount: '1000', updated_at: w1, fields: { tl_ga: lost } }, { id: 'R-1', status: 'paid', amount: '500.50', updated_at: w2, fields: { tl_ga: returned } });
    await sent(lost, 1);
    await sent(returned, 1);
    await deliver({ id: 'L-1', status: 'cancelled', amount: '1000', updated_at: l, fields: { tl_ga: lost } }, { id: 'R-1', status: 'refunded', amount: '500.50', updated_at: r, fields: { tl_ga: returned } });
    expect(await sent(lost, 2)).toEqual([request(lost, w1, 'purchase', 'shop:L-1', 1000), request(lost, l, 'refund', 'shop:L-1', 1000)]);
    expect(await sent(returned, 2)).toEqual([request(returned, w2, 'purchase', 'shop:R-1', 500.5), request(returned, r, 'refund', 'shop:R-1', 500.5)]);
    expect(await db.rows(`SELECT deal_id, outcome FROM deals_current WHERE deal_id IN ('L-1', 'R-1') ORDER BY deal_id`)).toEqual([
      { deal_id: 'L-1', outcome: 'lost' },
      { deal_id: 'R-1', outcome: 'returned' },
    ]);
  });

  it('a change older than GA4’s 72 hours is not sent: counted, and listed with its reason', async () => {
    const cid = newClientId();
    const before = await metric('too_old');
    const old = NOW - 4 * 24 * HOUR;
    await deliver({ id: 'O-1', status: 'paid', amount: '700', updated_at: old, fields: { tl_ga: cid } });
    await settle();
    expect(ga4.to(cid)).toEqual([]);
    expect(await metric('too_old')).toBe(before + 1);
    expect(await states('shop:O-1')).toEqual([{ step: 1, event: 'purchase', state: 'too_old' }]);
    const listed = (await outbox()).tooOld.find((m) => m.subject === 'shop:O-1');
    expect(listed).toMatchObject({ id: 'ga4:shop:O-1#1', event: 'purchase', reference: 'shop:O-1', recipient: cid, value: 700, currency: 'RUB', attempts: 0 });
    expect(listed?.reason).toBe(`not sent: the change of ${new Date(old * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC is older than the 72 hours GA4 accepts`);
  });

  it('a 500 is tried again, with back-off, until GA4 takes it; meanwhile the message is listed as pending with the answer', async () => {
    const cid = newClientId();
    ga4.answer(cid, { status: 500, body: 'backend error' }, { status: 503 });
    const [retriedBefore, sentBefore] = [await metric('retried'), await metric('sent')];
    const t = nextTime();
    await deliver({ id: 'T-1', status: 'paid', amount: '99.99', updated_at: t, fields: { tl_ga: cid } });
    const pending = await eventually(
      async () => (await outbox()).pending.find((m) => m.subject === 'shop:T-1'),
      10_000,
      (m) => m?.reason === 'HTTP 500: backend error',
    );
    expect(pending).toMatchObject({ id: 'ga4:shop:T-1#1', attempts: 1, nextAt: expect.any(String) });
    const all = await sent(cid, 3);
    const one = request(cid, t, 'purchase', 'shop:T-1', 99.99);
    expect(all).toEqual([one, one, one]);
    expect(await eventually(() => states('shop:T-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ step: 1, event: 'purchase', state: 'sent' }]);
    expect(await metric('retried')).toBe(retriedBefore + 2);
    expect(await metric('sent')).toBeGreaterThanOrEqual(sentBefore + 1);
    await settle();
    expect(ga4.to(cid)).toHaveLength(3);
  });

  it('a 400 is not tried again: the message is failed, with GA4’s answer', async () => {
    const cid = newClientId();
    ga4.answer(cid, { status: 400, body: '{"error":"invalid client_id"}' });
    const failedBefore = await metric('failed');
    const t = nextTime();
    await deliver({ id: 'F-1', status: 'paid', amount: '10', updated_at: t, fields: { tl_ga: cid } });
    expect(await sent(cid, 1)).toEqual([request(cid, t, 'purchase', 'shop:F-1', 10)]);
    expect(await eventually(() => states('shop:F-1'), 5000, (r) => r[0]?.state === 'failed')).toEqual([{ step: 1, event: 'purchase', state: 'failed' }]);
    // Longer than the first back-off: nothing more goes out.
    await sleep(2500);
    await settle();
    expect(ga4.to(cid)).toHaveLength(1);
    expect(await metric('failed')).toBe(failedBefore + 1);
    const answer = await outbox();
    expect(answer.failed.find((m) => m.subject === 'shop:F-1')).toMatchObject({ id: 'ga4:shop:F-1#1', attempts: 1, reason: 'HTTP 400: {"error":"invalid client_id"}' });
    expect(answer.counts.ga4).toMatchObject({ failed: 1, too_old: 1 });
  });

  it('a deal delivered twice, at once and again later with the same state, is one purchase', async () => {
    const cid = newClientId();
    const deal = { id: 'D-1', status: 'paid', amount: '1500', updated_at: nextTime(), fields: { tl_ga: cid } };
    await Promise.all([deliver(deal), deliver(deal)]);
    await deliver({ ...deal, updated_at: nextTime() });
    await sent(cid, 1);
    await settle();
    expect(ga4.to(cid)).toEqual([request(cid, deal.updated_at, 'purchase', 'shop:D-1', 1500)]);
    expect(await states('shop:D-1')).toEqual([{ step: 1, event: 'purchase', state: 'sent' }]);
  });

  it('a deal without a GA id of its own goes to the GA id its visitor’s hits carried', async () => {
    const visitor = 'GQ47XZ';
    const cid = newClientId();
    const hit = { s: 'shop', k: 'visit', e: randomBytes(8).toString('hex'), t: (NOW - 2 * HOUR) * 1000, u: 'https://shop.example/?utm_source=google', r: '', g: cid, y: '', v: visitor };
    expect((await fetch(`${collector.url}/hit`, { method: 'POST', body: JSON.stringify(hit), headers: { 'Content-Type': 'text/plain' } })).status).toBe(204);
    await eventually(() => db.rows(`SELECT ga_cid FROM hit_ids WHERE visitor_id = '${visitor}'`));
    const t = nextTime();
    await deliver({ id: 'G-1', status: 'paid', amount: '300', updated_at: t, fields: { tl_vid: visitor.toLowerCase() } });
    expect(await sent(cid, 1)).toEqual([request(cid, t, 'purchase', 'shop:G-1', 300)]);
  });

  it('a deal tied to a visitor only by an e-mail goes, once the identity resolution ties them, to that visitor’s GA id', async () => {
    const visitor = 'HK7M9P';
    const cid = newClientId();
    const lead = { s: 'shop', k: 'lead', e: randomBytes(8).toString('hex'), t: (NOW - HOUR) * 1000, u: 'https://shop.example/contact', r: '', g: cid, y: '', v: visitor, p: { email: 'Buyer.E1@Example.com' } };
    expect((await fetch(`${collector.url}/lead`, { method: 'POST', body: JSON.stringify(lead), headers: { 'Content-Type': 'text/plain' } })).status).toBe(204);
    await eventually(() => db.rows(`SELECT id_a FROM identity_links WHERE kind_b = 'email' AND id_a = '${visitor}'`));
    const won = { id: 'E-1', status: 'paid', amount: '640', updated_at: nextTime(), emails: ['buyer.e1@example.com'] };
    await deliver(won);
    // The delivery asks for a resolution; until it is done, no GA id reaches the deal.
    await eventually(() => db.rows(`SELECT visitor_id FROM attribution_members WHERE conv_key = 'deal:shop:E-1' AND visitor_id = '${visitor}'`), 20_000);
    // The deal's next change, or the sweep within a minute (whichever comes first), finds the GA id through
    // the resolution; the purchase reports the win, at its time.
    await deliver({ ...won, updated_at: nextTime() });
    expect(await sent(cid, 1)).toEqual([request(cid, won.updated_at, 'purchase', 'shop:E-1', 640)]);
    await settle();
    expect(ga4.to(cid)).toHaveLength(1);
  });

  it('a won deal no GA id reaches is not sent, and counted once', async () => {
    const before = (await readMetrics(collector.url)).get('throughline_outbound_changes_unsent_total{sender="ga4",reason="no_client_id"}');
    const count = ga4.requests.length;
    await deliver({ id: 'N-1', status: 'paid', amount: '50', updated_at: nextTime() });
    await settle();
    expect(ga4.requests.length).toBe(count + 1); // the sentinel's
    expect(await states('shop:N-1')).toEqual([]);
    expect((await readMetrics(collector.url)).get('throughline_outbound_changes_unsent_total{sender="ga4",reason="no_client_id"}')).toBe(before + 1);
  });

  it('answers the outbox only to the admin token', async () => {
    expect((await fetch(`${collector.url}/admin/outbox`)).status).toBe(401);
    expect((await fetch(`${collector.url}/admin/outbox`, { headers: { Authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const answer = await outbox();
    expect(answer.senders).toContainEqual({ name: 'ga4', maxAgeHours: 72 });
    expect(answer.sweep).toMatchObject({ at: expect.any(String), looked: { ga4: expect.any(Number) } });
  });

  it('a deal stored while no hook could plan it (GA4 off, or the outbound side off on this collector) is sent by the sweep of the next start', async () => {
    const cid = newClientId();
    const offside = newClientId();
    await collector.stop();
    collector = await startCollector({ ...env, GA4_MEASUREMENT_ID: '', GA4_API_SECRET: '' });
    const t = nextTime();
    await deliver({ id: 'M-1', status: 'paid', amount: '42', updated_at: t, fields: { tl_ga: cid } });
    await sleep(1000);
    expect(ga4.to(cid)).toEqual([]);
    await collector.stop();
    // OUTBOUND=off: GA4 configured, yet this collector plans and sends nothing (another one does).
    collector = await startCollector({ ...env, OUTBOUND: 'off' });
    const t2 = nextTime();
    await deliver({ id: 'M-2', status: 'paid', amount: '43', updated_at: t2, fields: { tl_ga: offside } });
    await sleep(1000);
    expect(ga4.to(cid)).toEqual([]);
    expect(ga4.to(offside)).toEqual([]);
    expect(await outbox()).toMatchObject({ senders: [], sweep: null });
    await collector.stop();
    collector = await startCollector(env);
    expect(await sent(cid, 1)).toEqual([request(cid, t, 'purchase', 'shop:M-1', 42)]);
    expect(await sent(offside, 1)).toEqual([request(offside, t2, 'purchase', 'shop:M-2', 43)]);
  });

  it('after a SIGKILL nothing sent is sent again, and what was waiting is sent once', async () => {
    const done = newClientId();
    const waiting = newClientId();
    // GA4 is down for `waiting` until the restart.
    ga4.answer(waiting, ...Array.from({ length: 50 }, () => ({ status: 500 })));
    const [t1, t2] = [nextTime(), nextTime()];
    await deliver({ id: 'K-1', status: 'paid', amount: '123', updated_at: t1, fields: { tl_ga: done } }, { id: 'K-2', status: 'paid', amount: '456', updated_at: t2, fields: { tl_ga: waiting } });
    await sent(done, 1);
    await eventually(() => states('shop:K-1'), 5000, (r) => r[0]?.state === 'sent');
    await sent(waiting, 1);
    expect(await collector.stop('SIGKILL')).toBeNull();
    const refusedBefore = ga4.to(waiting).length;
    ga4.answer(waiting);
    collector = await startCollector(env);
    await eventually(async () => (await outbox()).sweep, 15_000, (s) => s !== null);
    const after = await sent(waiting, refusedBefore + 1);
    expect(after.slice(refusedBefore)).toEqual([request(waiting, t2, 'purchase', 'shop:K-2', 456)]);
    await settle();
    expect(ga4.to(done)).toEqual([request(done, t1, 'purchase', 'shop:K-1', 123)]);
    expect(ga4.to(waiting)).toHaveLength(refusedBefore + 1);
    expect(await states('shop:K-2')).toEqual([{ step: 1, event: 'purchase', state: 'sent' }]);
  });
});

type Listed = { id: string; subject: string; event: string; reference: string; recipient: string; value: number; currency: string; attempts: number; nextAt?: string; reason: string };
type OutboxAnswer = {
  senders: { name: string; maxAgeHours: number }[];
  counts: Record<string, Record<string, number>>;
  sweep: { at: string; looked: Record<string, number> } | null;
  pending: Listed[];
  failed: Listed[];
  tooOld: Listed[];
};
