// Actions on entering a funnel stage, through the durable outbox: the built
// collector, the real ClickHouse (both engines) and Redis, deals made through
// the JSON import, a webhook receiver and a GA4 Measurement Protocol stand-in
// in this file. The receiver checks every signature with its own node:crypto
// code (not the collector's verifySignature), records every request, and
// answers as each test scripts it per deal (200 by default). Each test asserts
// the exact requests, and the ones that must not be sent.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../collector/src/outbound/actions/signature.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { readMetrics } from '../helpers/metrics-text.js';
import { SCENARIO_COLLECTOR_ENV } from '../helpers/report-scenario.js';

const SECRET = 'shop_actions_secret_0123456789';
const ADMIN = 'admin-actions-token-0123456789';
const HOOK_SECRET = 'whsec_actions_0123456789abcdefghijklmnop';
const MEASUREMENT_ID = 'G-ACTIONS123';
const API_SECRET = 'mp-secret-actions-0123';
const NOW = Math.floor(Date.now() / 1000);
/** Change times: a minute apart, from an hour ago (within a webhook's day and GA4's 72 hours). */
let clock = NOW - 3600;
const nextTime = () => (clock += 60);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A step of the outbox: the entry's place among the deal's entries × 16 + the action's slot. */
const step = (ordinal: number, slot = 0) => ordinal * 16 + slot;

/** The receiver's own check, written apart from the collector's: HMAC-SHA256 over "<timestamp>.<raw body>", 5 minutes. */
function receiverCheck(headers: IncomingHttpHeaders, raw: Buffer, now: number): 'ok' | 'missing' | 'stale' | 'mismatch' {
  const ts = headers['throughline-timestamp'];
  const sig = headers['throughline-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts)) return 'missing';
  if (Math.abs(now - Number(ts)) > 300) return 'stale';
  const mac = createHmac('sha256', HOOK_SECRET).update(Buffer.concat([Buffer.from(`${ts}.`), raw])).digest('hex');
  return sig === `v1=${mac}` ? 'ok' : 'mismatch';
}

type Got = { path: string; headers: IncomingHttpHeaders; raw: Buffer; body: string; check: string; replay: boolean };

/** A webhook receiver: checks, records; a request that fails the check gets 401, else the deal's scripted answers in turn, then 200. */
class Receiver {
  readonly requests: Got[] = [];
  private readonly scripts = new Map<string, { status: number; body?: string }[]>();
  private server!: Server;
  /** Seconds added to the receiver's clock: a request replayed this much later. */
  skew = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const check = receiverCheck(req.headers, raw, Math.floor(Date.now() / 1000) + this.skew);
        this.requests.push({ path: req.url ?? '', headers: req.headers, raw, body: raw.toString('utf8'), check, replay: req.headers['x-test-replay'] === '1' });
        if (check !== 'ok') return void res.writeHead(401).end(check);
        const deal = (JSON.parse(raw.toString('utf8')) as { deal: { id: string } }).deal.id;
        const answer = this.scripts.get(deal)?.shift() ?? { status: 200 };
        res.writeHead(answer.status).end(answer.body ?? 'ok');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  answer(dealId: string, ...answers: { status: number; body?: string }[]): void {
    this.scripts.set(dealId, answers);
  }

  /** The collector's requests about a deal. */
  of(dealId: string): Got[] {
    return this.requests.filter((r) => !r.replay && (JSON.parse(r.body) as { deal: { id: string } }).deal.id === dealId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

type Ga4Got = { path: string; query: Record<string, string>; body: { client_id: string; timestamp_micros: number; events: { name: string; params: Record<string, unknown> }[] } };

class Ga4StandIn {
  readonly requests: Ga4Got[] = [];
  private server!: Server;
  url = '';
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://ga4.test');
        this.requests.push({ path: u.pathname, query: Object.fromEntries(u.searchParams), body: JSON.parse(raw) as Ga4Got['body'] });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  to(clientId: string): Ga4Got[] {
    return this.requests.filter((r) => r.body.client_id === clientId);
  }
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const newClientId = () => `${randomBytes(4).readUInt32BE(0)}.${NOW - 86_400}`;

type Deal = { id: string; status: string; amount?: string; updated_at: number; name?: string; fields?: Record<string, string> };
type WebhookDeal = { id: string; name: string; status: string; stage: string; previousStage: string | null; outcome: string; amount: number };
/** A webhook body exactly as the collector must send it. */
const hookBody = (id: string, at: number, d: WebhookDeal) =>
  JSON.stringify({
    type: 'deal.stage_entered',
    id,
    occurredAt: new Date(at * 1000).toISOString(),
    deal: { source: 'shop', id: d.id, name: d.name, pipeline: 'shop', status: d.status, stage: d.stage, previousStage: d.previousStage, outcome: d.outcome, amount: d.amount, currency: 'RUB' },
  });

describe('stage actions: a GA4 event and a signed webhook when a deal enters a stage', () => {
  const hooks = new Receiver();
  const ga4 = new Ga4StandIn();
  let db: TestDatabase;
  let dir: string;
  let collector: RunningCollector;
  let env: Record<string, string>;
  const config = () => ({
    funnel: [{ stage: '1 Request' }, { stage: '2 Qualified' }, { stage: '3 Proposal' }, { stage: 'Paid', marker: 'won' }, { stage: 'Refused', marker: 'lost' }],
    sources: { shop: { kind: 'import', secret: SECRET, pipelines: { shop: { new: '1 Request', qualified: '2 Qualified', proposal: '3 Proposal', paid: 'Paid', refused: 'Refused' } } } },
    stageActions: [
      { stage: '2 Qualified', ga4Event: { name: 'qualify_lead', params: { lead_source: 'crm' } }, webhook: { url: `${hooks.url}/hook`, secret: HOOK_SECRET } },
    ] as unknown[],
  });

  const deliver = async (...deals: Deal[]) => {
    const res = await fetch(`${collector.url}/crm/import/shop/${SECRET}/deals`, {
      method: 'POST',
      body: JSON.stringify({ deals: deals.map((d) => ({ pipeline: 'shop', amount: '0', name: `Deal ${d.id}`, ...d })) }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ refused: [] });
  };
  const hooked = (dealId: string, n: number, ms = 15_000) => eventually(async () => hooks.of(dealId), ms, (r) => r.length >= n);
  const states = (sender: string, subject: string) =>
    db.rows<{ step: number; state: string; attempts: number }>(`SELECT step, state, attempts FROM outbound_current WHERE sender = '${sender}' AND subject = '${subject}' ORDER BY step`);
  const outbox = () => fetch(`${collector.url}/admin/outbox`, { headers: { Authorization: `Bearer ${ADMIN}` } }).then((r) => r.text());
  const unsent = async (reason: string) => (await readMetrics(collector.url)).get(`throughline_outbound_changes_unsent_total{sender="ga4_event",reason="${reason}"}`);
  /**
   * A deal of its own enters the stage and its webhook is awaited: plans run
   * one at a time, so every plan before it is done, and what they wrote had its chance to go.
   */
  const settle = async () => {
    const id = `sentinel-${randomBytes(4).toString('hex')}`;
    await deliver({ id, status: 'qualified', updated_at: nextTime() });
    await hooked(id, 1);
    await sleep(1500);
  };

  beforeAll(async () => {
    await Promise.all([hooks.start(), ga4.start()]);
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-actions-'));
    await writeFile(join(dir, 'crm.json'), JSON.stringify(config()));
    env = {
      CLICKHOUSE_DATABASE: db.name,
      REDIS_PREFIX: `t_${db.name}:`,
      CRM_CONFIG: join(dir, 'crm.json'),
      CRM_ADMIN_TOKEN: ADMIN,
      IDENTITY_KEY: 'actions-identity-key-0123456789',
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
    await Promise.all([hooks.close(), ga4.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a deal entering the stage: one webhook with the exact body and a valid signature, and one GA4 event', async () => {
    const cid = '908899769.1600020018';
    const [t1, t2] = [nextTime(), nextTime()];
    await deliver({ id: 'Q-1', status: 'new', amount: '2499.90', updated_at: t1, fields: { tl_ga: cid } });
    const before = Math.floor(Date.now() / 1000);
    await deliver({ id: 'Q-1', status: 'qualified', amount: '2499.90', updated_at: t2, fields: { tl_ga: cid } });
    const [got] = await hooked('Q-1', 1);
    expect(got!.path).toBe('/hook');
    expect(got!.body).toBe(
      `{"type":"deal.stage_entered","id":"webhook:shop:Q-1#32","occurredAt":"${new Date(t2 * 1000).toISOString()}",` +
        '"deal":{"source":"shop","id":"Q-1","name":"Deal Q-1","pipeline":"shop","status":"qualified","stage":"2 Qualified","previousStage":"1 Request","outcome":"open","amount":2499.9,"currency":"RUB"}}',
    );
    expect(got!.check).toBe('ok');
    expect(got!.headers['content-type']).toBe('application/json');
    expect(got!.headers['throughline-message-id']).toBe('webhook:shop:Q-1#32');
    expect(Number(got!.headers['throughline-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Number(got!.headers['throughline-timestamp'])).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(JSON.stringify(got!.headers)).not.toContain(HOOK_SECRET);
    const events = await eventually(async () => ga4.to(cid), 15_000);
    expect(events).toEqual([
      {
        path: '/mp/collect',
        query: { measurement_id: MEASUREMENT_ID, api_secret: API_SECRET },
        body: { client_id: cid, timestamp_micros: t2 * 1_000_000, events: [{ name: 'qualify_lead', params: { lead_source: 'crm', deal_stage: '2 Qualified', value: 2499.9, currency: 'RUB' } }] },
      },
    ]);
    expect(await eventually(() => states('webhook', 'shop:Q-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ step: step(2), state: 'sent', attempts: 1 }]);
    expect(await eventually(() => states('ga4_event', 'shop:Q-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ step: step(2), state: 'sent', attempts: 1 }]);
    // The stage events stay out of the GA4 part's ledger: an open deal sends GA4 no purchase.
    expect(await states('ga4', 'shop:Q-1')).toEqual([]);
  });

  it('the same delivery twice, and an edit inside the stage, fire nothing more; moved back and forward, the stage fires again', async () => {
    const cid = '908899769.1600020018';
    const entered = hooks.of('Q-1')[0]!;
    const again = JSON.parse(entered.body) as { occurredAt: string };
    const t2 = Date.parse(again.occurredAt) / 1000;
    const deal = { id: 'Q-1', status: 'qualified', amount: '2499.90', updated_at: t2, fields: { tl_ga: cid } };
    await Promise.all([deliver(deal), deliver(deal)]);
    await deliver({ ...deal, amount: '3000', updated_at: nextTime() });
    await settle();
    expect(hooks.of('Q-1')).toHaveLength(1);
    expect(ga4.to(cid)).toHaveLength(1);
    const [away, back] = [nextTime(), nextTime()];
    await deliver({ ...deal, status: 'proposal', amount: '3000', updated_at: away });
    await deliver({ ...deal, status: 'qualified', amount: '3000', updated_at: back });
    const both = await hooked('Q-1', 2);
    expect(both[1]!.body).toBe(
      hookBody('webhook:shop:Q-1#64', back, { id: 'Q-1', name: 'Deal Q-1', status: 'qualified', stage: '2 Qualified', previousStage: '3 Proposal', outcome: 'open', amount: 3000 }),
    );
    expect(both[1]!.check).toBe('ok');
    expect((await eventually(async () => ga4.to(cid), 10_000, (r) => r.length >= 2))[1]!.body.timestamp_micros).toBe(back * 1_000_000);
    await settle();
    expect(hooks.of('Q-1')).toHaveLength(2);
  });

  it('a tampered body, or the same request more than 5 minutes later, fails the receiver’s check', async () => {
    const got = hooks.of('Q-1')[0]!;
    const replay = (body: string | Uint8Array) =>
      fetch(`${hooks.url}/hook`, {
        method: 'POST',
        body: typeof body === 'string' ? body : new Uint8Array(body),
        headers: {
          'Content-Type': 'application/json',
          'Throughline-Timestamp': String(got.headers['throughline-timestamp']),
          'Throughline-Signature': String(got.headers['throughline-signature']),
          'X-Test-Replay': '1',
        },
      });
    const tampered = got.body.replace('"amount":2499.9', '"amount":24999');
    expect(tampered).not.toBe(got.body);
    const refused = await replay(tampered);
    expect([refused.status, await refused.text()]).toEqual([401, 'mismatch']);
    hooks.skew = 301;
    try {
      const late = await replay(got.raw);
      expect([late.status, await late.text()]).toEqual([401, 'stale']);
    } finally {
      hooks.skew = 0;
    }
    // The helper a receiver runs says the same, for the same reasons.
    const ts = Number(got.headers['throughline-timestamp']);
    const header = String(got.headers['throughline-signature']);
    expect(verifySignature(HOOK_SECRET, String(ts), got.raw, header, 300, ts + 300)).toEqual({ ok: true });
    expect(verifySignature(HOOK_SECRET, String(ts), tampered, header, 300, ts)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(HOOK_SECRET, String(ts), got.raw, header, 300, ts + 301)).toEqual({ ok: false, reason: 'stale' });
  });

  it('a 500 is tried again, signed again with a fresh timestamp; then sent once', async () => {
    hooks.answer('R-1', { status: 500, body: 'receiver down' });
    await deliver({ id: 'R-1', status: 'qualified', amount: '10', updated_at: nextTime() });
    const [first, second] = await hooked('R-1', 2);
    expect(first!.body).toBe(second!.body);
    expect([first!.check, second!.check]).toEqual(['ok', 'ok']);
    expect(first!.headers['throughline-message-id']).toBe('webhook:shop:R-1#16');
    expect(second!.headers['throughline-message-id']).toBe('webhook:shop:R-1#16');
    expect(Number(second!.headers['throughline-timestamp'])).toBeGreaterThan(Number(first!.headers['throughline-timestamp']));
    expect(second!.headers['throughline-signature']).not.toBe(first!.headers['throughline-signature']);
    expect(await eventually(() => states('webhook', 'shop:R-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ step: step(1), state: 'sent', attempts: 2 }]);
    await settle();
    expect(hooks.of('R-1')).toHaveLength(2);
  });

  it('a 400 is not tried again: the message is failed, listed by GET /admin/outbox with the answer, no secret in it', async () => {
    hooks.answer('F-1', { status: 400, body: '{"error":"unknown pipeline"}' });
    await deliver({ id: 'F-1', status: 'qualified', amount: '10', updated_at: nextTime() });
    await hooked('F-1', 1);
    expect(await eventually(() => states('webhook', 'shop:F-1'), 5000, (r) => r[0]?.state === 'failed')).toEqual([{ step: step(1), state: 'failed', attempts: 1 }]);
    // Longer than the first back-off: nothing more goes out.
    await sleep(2500);
    await settle();
    expect(hooks.of('F-1')).toHaveLength(1);
    const text = await outbox();
    expect(text).not.toContain(HOOK_SECRET);
    const answer = JSON.parse(text) as { senders: { name: string }[]; failed: Record<string, unknown>[] };
    expect(answer.senders.map((s) => s.name)).toEqual(expect.arrayContaining(['webhook', 'ga4_event']));
    expect(answer.failed.find((m) => m.subject === 'shop:F-1')).toMatchObject({
      id: 'webhook:shop:F-1#16',
      sender: 'webhook',
      event: 'deal.stage_entered',
      reference: '2 Qualified',
      recipient: `${hooks.url}/hook`,
      attempts: 1,
      reason: 'HTTP 400: {"error":"unknown pipeline"}',
    });
  });

  it('a deal no GA id reaches: the webhook goes, the GA4 event is counted unsent once', async () => {
    const before = await unsent('no_client_id');
    const count = ga4.requests.length;
    await deliver({ id: 'N-1', status: 'qualified', updated_at: nextTime() });
    await hooked('N-1', 1);
    await settle();
    expect(ga4.requests.length).toBe(count);
    expect(await states('ga4_event', 'shop:N-1')).toEqual([]);
    expect(await unsent('no_client_id')).toBe(before + 1 + 1); // N-1's and the sentinel's
  });

  it('an action added later fires for the entries received after it was put in force, not for the deals already there', async () => {
    await deliver({ id: 'P-1', status: 'new', updated_at: nextTime() }, { id: 'P-1', status: 'proposal', updated_at: nextTime() });
    // Received_at is in whole seconds: the save comes a second later.
    await sleep(1100);
    const next = config();
    next.stageActions.push({ stage: '3 Proposal', webhook: { url: `${hooks.url}/hook`, secret: HOOK_SECRET } });
    const put = await fetch(`${collector.url}/crm/config`, { method: 'PUT', body: JSON.stringify(next), headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' } });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ stageActions: next.stageActions });
    const t = nextTime();
    await deliver({ id: 'P-2', status: 'proposal', updated_at: t });
    // P-1 changes again inside the stage: planned again, still nothing.
    await deliver({ id: 'P-1', status: 'proposal', amount: '5', updated_at: nextTime() });
    const [got] = await hooked('P-2', 1);
    expect(got!.body).toBe(hookBody('webhook:shop:P-2#16', t, { id: 'P-2', name: 'Deal P-2', status: 'proposal', stage: '3 Proposal', previousStage: null, outcome: 'open', amount: 0 }));
    await settle();
    expect(hooks.of('P-1')).toEqual([]);
  });

  it('after a restart nothing is sent again; with GA4 off the configuration is warned of and its events counted unsent', async () => {
    const sentBefore = hooks.requests.length;
    const ga4Before = ga4.requests.length;
    await collector.stop();
    collector = await startCollector({ ...env, GA4_MEASUREMENT_ID: '', GA4_API_SECRET: '' });
    expect(await eventually(async () => collector.output(), 5000, (o) => o.includes('GA4 is off'))).toMatch(/stage actions send GA4 events, but GA4 is off/);
    // The first sweep plans every deal above again: nothing new.
    await eventually(async () => (JSON.parse(await outbox()) as { sweep: unknown }).sweep, 15_000, (s) => s !== null);
    // The sweep counted the entries whose GA4 events were never written (no GA id then): O-1 is one more.
    const offBefore = await unsent('ga4_off');
    await deliver({ id: 'O-1', status: 'qualified', updated_at: nextTime(), fields: { tl_ga: newClientId() } });
    await hooked('O-1', 1);
    await sleep(1500);
    expect(hooks.requests.length).toBe(sentBefore + 1);
    expect(ga4.requests.length).toBe(ga4Before);
    expect(await unsent('ga4_off')).toBe(offBefore + 1);
  });
});
