// The rules of the outbound side without ClickHouse: the GA4 ledger (what GA4
// holds, and the next message that brings it to the deal's state), the
// Measurement Protocol body, transaction ids, back-off with jitter, how an
// answer is judged, and the GA4_* configuration.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../collector/src/config.js';
import { holding, nextMessage, targetOf, transactionBase, type DealNow, type Entry } from '../../collector/src/outbound/ga4/ledger.js';
import { GA4_MAX_AGE_SECONDS, ga4Sender, measurementBody } from '../../collector/src/outbound/ga4/sender.js';
import { RETRY_BASE_MS, RETRY_CAP_MS, retryDelay } from '../../collector/src/outbound/backoff.js';
import { postJson, verdictOf } from '../../collector/src/outbound/sender.js';
import type { Message, Outbox } from '../../collector/src/outbound/outbox.js';
import { OutboxWorker } from '../../collector/src/outbound/worker.js';
import { changeTime, winTime } from '../../collector/src/outbound/ga4/times.js';
import { emptyDeal } from '../../collector/src/crm/change.js';
import { dealVersion, place } from '../../collector/src/crm/deals/version.js';
import type { DealRow } from '../../collector/src/crm/deals/store.js';
import { createMetrics } from '../../collector/src/metrics/registry.js';
import { pino } from 'pino';

const SUBJECT = 'shop:A-1';
const deal = (over: Partial<DealNow> = {}): DealNow => ({ subject: SUBJECT, version: 100, outcome: 'won', deleted: false, amountMinor: 10_000, currency: 'RUB', ...over });

/** A ledger entry as the outbox returns it. */
const entry = (step: number, event: 'purchase' | 'refund', reference: string, valueMinor: number, state: Entry['state'] = 'sent', basis = 10 * step): Entry => ({
  step,
  basis,
  event,
  reference,
  recipient: 'cid.1',
  valueMinor,
  currency: 'RUB',
  state,
});

describe('the GA4 ledger', () => {
  it('a won deal with nothing sent: a purchase of its amount under the deal id, to a client still to find', () => {
    expect(nextMessage(deal(), [])).toEqual({ kind: 'send', step: 1, event: 'purchase', reference: SUBJECT, valueMinor: 10_000, currency: 'RUB', opens: true, recipient: null });
  });

  it('an increase: a purchase of the difference under a derived id, to the client of the first purchase', () => {
    expect(nextMessage(deal({ amountMinor: 15_000 }), [entry(1, 'purchase', SUBJECT, 10_000)])).toEqual({
      kind: 'send',
      step: 2,
      event: 'purchase',
      reference: `${SUBJECT}~2`,
      valueMinor: 5_000,
      currency: 'RUB',
      opens: false,
      recipient: 'cid.1',
    });
  });

  it('a decrease: a partial refund of the difference under the original purchase', () => {
    const ledger = [entry(1, 'purchase', SUBJECT, 10_000), entry(2, 'purchase', `${SUBJECT}~2`, 5_000)];
    expect(nextMessage(deal({ amountMinor: 12_000 }), ledger)).toEqual({ kind: 'send', step: 3, event: 'refund', reference: SUBJECT, valueMinor: -3_000, currency: 'RUB', opens: false, recipient: 'cid.1' });
  });

  it('deleted, lost after a win, returned: a full refund of all GA4 holds', () => {
    const ledger = [entry(1, 'purchase', SUBJECT, 10_000), entry(2, 'purchase', `${SUBJECT}~2`, 5_000), entry(3, 'refund', SUBJECT, -3_000)];
    const full = { kind: 'send', step: 4, event: 'refund', reference: SUBJECT, valueMinor: -12_000, currency: 'RUB', opens: false, recipient: 'cid.1' };
    expect(nextMessage(deal({ deleted: true }), ledger)).toEqual(full);
    expect(nextMessage(deal({ outcome: 'lost' }), ledger)).toEqual(full);
    expect(nextMessage(deal({ outcome: 'returned' }), ledger)).toEqual(full);
  });

  it('sends nothing when GA4 holds what it should, for a deal never won, and for open or paused deals', () => {
    expect(nextMessage(deal(), [entry(1, 'purchase', SUBJECT, 10_000)])).toEqual({ kind: 'none' });
    expect(nextMessage(deal({ outcome: 'lost' }), [])).toEqual({ kind: 'none' });
    expect(nextMessage(deal({ deleted: true }), [])).toEqual({ kind: 'none' });
    expect(nextMessage(deal({ outcome: 'open', amountMinor: 1 }), [entry(1, 'purchase', SUBJECT, 10_000)])).toEqual({ kind: 'none' });
    expect(nextMessage(deal({ outcome: 'paused' }), [])).toEqual({ kind: 'none' });
    expect(nextMessage(deal({ amountMinor: 0 }), [])).toEqual({ kind: 'none' });
    expect(targetOf(deal({ amountMinor: -500 }))).toBe(0);
  });

  it('waits while a message of the deal is pending: one unsettled message per deal', () => {
    expect(nextMessage(deal({ amountMinor: 20_000 }), [entry(1, 'purchase', SUBJECT, 10_000, 'pending')])).toEqual({ kind: 'wait' });
  });

  it('does not plan again a change GA4 refused or that came too late; the next change of the deal is planned', () => {
    const refused = [entry(1, 'purchase', SUBJECT, 10_000, 'failed', 100)];
    expect(nextMessage(deal({ version: 100 }), refused)).toEqual({ kind: 'none' });
    expect(nextMessage(deal({ version: 100 }), [entry(1, 'purchase', SUBJECT, 10_000, 'too_old', 100)])).toEqual({ kind: 'none' });
    // GA4 never got the deal id: the next purchase may carry it.
    expect(nextMessage(deal({ version: 200, amountMinor: 11_000 }), refused)).toMatchObject({ kind: 'send', step: 2, event: 'purchase', reference: SUBJECT, valueMinor: 11_000, recipient: null });
  });

  it('a deal won again after a full refund: a purchase under a derived id (GA4 keeps one purchase per transaction id), later refunds under it', () => {
    const ledger = [entry(1, 'purchase', SUBJECT, 10_000), entry(2, 'refund', SUBJECT, -10_000)];
    expect(nextMessage(deal({ amountMinor: 8_000 }), ledger)).toEqual({ kind: 'send', step: 3, event: 'purchase', reference: `${SUBJECT}~3`, valueMinor: 8_000, currency: 'RUB', opens: true, recipient: null });
    const rewon = [...ledger, { ...entry(3, 'purchase', `${SUBJECT}~3`, 8_000), recipient: 'cid.2' }];
    expect(nextMessage(deal({ outcome: 'returned' }), rewon)).toMatchObject({ event: 'refund', reference: `${SUBJECT}~3`, valueMinor: -8_000, recipient: 'cid.2' });
  });

  it('a new currency: a full refund in the old one first, then a purchase in the new one', () => {
    const ledger = [entry(1, 'purchase', SUBJECT, 10_000)];
    expect(nextMessage(deal({ currency: 'USD', amountMinor: 150 }), ledger)).toMatchObject({ event: 'refund', valueMinor: -10_000, currency: 'RUB' });
    const refunded = [...ledger, entry(2, 'refund', SUBJECT, -10_000, 'sent', 100)];
    expect(nextMessage(deal({ currency: 'USD', amountMinor: 150 }), refunded)).toMatchObject({ event: 'purchase', reference: `${SUBJECT}~3`, valueMinor: 150, currency: 'USD' });
  });

  it('folds what GA4 holds: pending and sent count, failed and too_old do not', () => {
    const h = holding([entry(1, 'purchase', SUBJECT, 10_000, 'too_old'), entry(2, 'purchase', SUBJECT, 7_000), entry(3, 'purchase', `${SUBJECT}~3`, 500, 'failed'), entry(4, 'refund', SUBJECT, -1_000, 'pending')]);
    expect(h).toMatchObject({ valueMinor: 6_000, opening: SUBJECT, recipient: 'cid.1', nextStep: 5, unsettled: true });
    expect([...h.used]).toEqual([SUBJECT]);
  });

  it('keeps transaction ids within GA4’s 100 characters', () => {
    expect(transactionBase('amo:10701093')).toBe('amo:10701093');
    const long = `shop:${'x'.repeat(100)}`;
    const base = transactionBase(long);
    expect(base).toMatch(/^shop:#[0-9a-f]{40}$/);
    expect(transactionBase(long)).toBe(base);
    expect(transactionBase(`shop:${'y'.repeat(100)}`)).not.toBe(base);
  });
});

describe('the time a GA4 message reports', () => {
  const T = 1_717_200_000;
  const at = (s: number) => new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ');
  /** A stored version the CRM dated at `changed` (received a minute later), or placed by the collector when `version` is given. */
  const row = (changed: number, outcome: string, deleted = 0, version = dealVersion(emptyDeal('A-1', 'update'), changed)): DealRow =>
    ({ version, changed_at: at(changed), received_at: at(changed + 60), outcome, deleted }) as DealRow;

  it('is the CRM’s time of the change; for a delete the CRM does not date, its arrival', () => {
    expect(changeTime(row(T, 'won'))).toBe(T);
    const won = row(T, 'won');
    const undated = place([won], { action: 'delete', deleted: true }, null);
    if (undated.kind !== 'write') throw new Error('a delete of a live deal is written');
    // The collector places it in the second of the newest change known; it arrived later.
    expect(changeTime({ ...row(T, 'won', 1, undated.version), received_at: at(T + 3600) })).toBe(T + 3600);
    expect(changeTime({ ...row(T, 'won'), changed_at: '0000-00-00 00:00:00' })).toBe(T + 60);
  });

  it('of a purchase that opens, is the win: the first of the newest run of won, live versions', () => {
    expect(winTime([row(T, 'open'), row(T + 100, 'won'), row(T + 200, 'won'), row(T + 300, 'won')])).toBe(T + 100);
    expect(winTime([row(T, 'won'), row(T + 100, 'won', 1), row(T + 200, 'won')])).toBe(T + 200);
    expect(winTime([row(T, 'won'), row(T + 100, 'returned'), row(T + 200, 'won')])).toBe(T + 200);
    expect(winTime([row(T, 'won')])).toBe(T);
  });
});

describe('the Measurement Protocol body', () => {
  it('is the client, the change’s time in microseconds and one event with transaction id, value and currency', () => {
    const body = measurementBody({ clientId: '908899769.1600020018', eventAt: 1_717_200_000, event: 'refund', transactionId: SUBJECT, valueMinor: -249_990, currency: 'RUB' });
    expect(JSON.parse(body)).toEqual({
      client_id: '908899769.1600020018',
      timestamp_micros: 1_717_200_000_000_000,
      events: [{ name: 'refund', params: { transaction_id: SUBJECT, value: 2499.9, currency: 'RUB' } }],
    });
  });
  it('keeps to GA4’s 72 hours, with a margin', () => {
    expect(GA4_MAX_AGE_SECONDS).toBeLessThan(72 * 3600);
    expect(GA4_MAX_AGE_SECONDS).toBeGreaterThan(71 * 3600);
  });
});

describe('retries', () => {
  it('back off exponentially from 1 s to 15 min, half fixed and half random', () => {
    expect(retryDelay(1, () => 0)).toBe(RETRY_BASE_MS / 2);
    expect(retryDelay(1, () => 0.999999)).toBe(RETRY_BASE_MS);
    expect(retryDelay(4, () => 0)).toBe(4 * RETRY_BASE_MS);
    expect(retryDelay(4, () => 0.5)).toBe(6 * RETRY_BASE_MS);
    expect(retryDelay(40, () => 0.999999)).toBe(RETRY_CAP_MS);
    expect(retryDelay(40, () => 0)).toBe(RETRY_CAP_MS / 2);
    const spread = new Set(Array.from({ length: 20 }, () => retryDelay(3)));
    expect(spread.size).toBeGreaterThan(1);
    for (const d of spread) expect(d).toBeGreaterThanOrEqual(2 * RETRY_BASE_MS);
  });

  it('are for 5xx, 408 and 429; another 4xx is a refusal kept with its answer', () => {
    expect(verdictOf(204, '')).toEqual({ kind: 'sent' });
    expect(verdictOf(200, '{}')).toEqual({ kind: 'sent' });
    expect(verdictOf(503, 'down')).toEqual({ kind: 'retry', answer: 'HTTP 503: down' });
    expect(verdictOf(429, '')).toEqual({ kind: 'retry', answer: 'HTTP 429' });
    expect(verdictOf(408, '')).toMatchObject({ kind: 'retry' });
    expect(verdictOf(400, '{"error":"bad client_id"}')).toEqual({ kind: 'failed', answer: 'HTTP 400: {"error":"bad client_id"}' });
    expect(verdictOf(302, '')).toMatchObject({ kind: 'failed' });
    expect((verdictOf(400, 'x'.repeat(5000)) as { answer: string }).answer).toHaveLength('HTTP 400: '.length + 500);
  });
});

describe('sending over HTTP', () => {
  let server: Server;
  let base = '';
  const seen: { url: string; type: string; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', type: req.headers['content-type'] ?? '', body });
        if (req.url?.startsWith('/slow')) return; // never answers
        res.writeHead(req.url?.startsWith('/moved') ? 302 : 204, req.url?.startsWith('/moved') ? { Location: 'http://elsewhere.example/' } : {}).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('posts the stored body to /mp/collect with the measurement id and secret', async () => {
    const sender = ga4Sender({ measurementId: 'G-TEST123', apiSecret: 's3cret&x=1', url: base });
    const verdict = await sender.send({ body: '{"client_id":"1.2"}' } as Message);
    expect(verdict).toEqual({ kind: 'sent' });
    const last = seen[seen.length - 1]!;
    expect(last.url).toBe('/mp/collect?measurement_id=G-TEST123&api_secret=s3cret%26x%3D1');
    expect(last).toMatchObject({ type: 'application/json', body: '{"client_id":"1.2"}' });
  });

  it('tries again after a timeout or a network error, and never keeps the URL (it holds the secret)', async () => {
    const slow = await postJson(`${base}/slow?api_secret=SECRET`, '{}', 300);
    expect(slow).toEqual({ kind: 'retry', answer: 'no answer in 0.3 s' });
    server.closeAllConnections();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const a = closed.address();
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await postJson(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/mp/collect?api_secret=SECRET`, '{}', 1000);
    expect(refused).toEqual({ kind: 'retry', answer: 'network error: ECONNREFUSED' });
  });

  it('does not follow a redirect (the secret goes only where it was configured to)', async () => {
    const before = seen.length;
    expect(await postJson(`${base}/moved?api_secret=SECRET`, '{}', 1000)).toEqual({ kind: 'failed', answer: 'HTTP 302' });
    expect(seen.length).toBe(before + 1);
  });
});

describe('GA4 configuration', () => {
  it('is off unless both the measurement id and the API secret are set', () => {
    expect(loadConfig({}).ga4).toBeNull();
    expect(loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123XYZ', GA4_API_SECRET: 'abcdEFGH1234', GA4_URL: 'http://127.0.0.1:9/' }).ga4).toEqual({
      measurementId: 'G-ABC123XYZ',
      apiSecret: 'abcdEFGH1234',
      url: 'http://127.0.0.1:9',
    });
    expect(loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123XYZ', GA4_API_SECRET: 'abcdEFGH1234' }).ga4?.url).toBe('https://www.google-analytics.com');
    expect(() => loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123XYZ' })).toThrow(/GA4_MEASUREMENT_ID, GA4_API_SECRET: set both/);
    expect(() => loadConfig({ GA4_API_SECRET: 'abcdEFGH1234' })).toThrow(/set both/);
  });
  it('names a malformed id, secret or URL', () => {
    expect(() => loadConfig({ GA4_MEASUREMENT_ID: 'UA-1234-1', GA4_API_SECRET: 'abcdEFGH1234' })).toThrow(/GA4_MEASUREMENT_ID: a GA4 measurement id/);
    expect(() => loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123XYZ', GA4_API_SECRET: 'has space 123' })).toThrow(/GA4_API_SECRET/);
    expect(() => loadConfig({ GA4_MEASUREMENT_ID: 'G-ABC123XYZ', GA4_API_SECRET: 'abcdEFGH1234', GA4_URL: 'ftp://x.example' })).toThrow(/GA4_URL/);
  });
});

/** The outbox's calls the worker makes, over a map; `failWrites` settles fail as ClickHouse would when down. */
class MemoryOutbox {
  readonly messages = new Map<string, Message>();
  failWrites = 0;
  private pending = () => [...this.messages.values()].filter((m) => m.state === 'pending');
  async summary() {
    const p = this.pending();
    return p.length ? [{ sender: 'test', pending: p.length, nextAt: Math.min(...p.map((m) => m.nextAt)) }] : [];
  }
  async due(_senders: string[], now: number) {
    return this.pending().filter((m) => m.nextAt <= now);
  }
  async settle(m: Message, next: Pick<Message, 'state' | 'attempts' | 'nextAt' | 'answer'>) {
    if (this.failWrites > 0) {
      this.failWrites -= 1;
      throw new Error('ClickHouse is down');
    }
    const settled = { ...m, ...next };
    this.messages.set(m.id, settled);
    return settled;
  }
}

describe('the outbox worker', () => {
  const message = (id: string): Message => ({
    sender: 'test', id, subject: id, step: 1, basis: 1, event: 'purchase', reference: id, recipient: 'c', valueMinor: 100, currency: 'RUB', body: '{}',
    eventAt: Math.floor(Date.now() / 1000), createdAt: 0, state: 'pending', attempts: 0, nextAt: 0, answer: '', revision: 0,
  });
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(done()).toBe(true);
  };

  it('sends a due message once, marks it sent, and tells who waits for it', async () => {
    const outbox = new MemoryOutbox();
    outbox.messages.set('m1', message('m1'));
    const sent: string[] = [];
    const settled: string[] = [];
    const worker = new OutboxWorker(outbox as unknown as Outbox, [{ name: 'test', vendor: 'Test', maxAgeSeconds: 3600, send: async (m) => (sent.push(m.id), { kind: 'sent' }) }], pino({ level: 'silent' }), createMetrics(), (m) => settled.push(m.id));
    worker.wake();
    await until(() => outbox.messages.get('m1')!.state === 'sent');
    worker.wake();
    await new Promise((r) => setTimeout(r, 50));
    await worker.close();
    expect(sent).toEqual(['m1']);
    expect(settled).toEqual(['m1']);
    expect(outbox.messages.get('m1')).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('an answer ClickHouse failed to take is written at the next look, and its message not sent again', async () => {
    const outbox = new MemoryOutbox();
    outbox.messages.set('m1', message('m1'));
    outbox.failWrites = 1;
    let sends = 0;
    const worker = new OutboxWorker(outbox as unknown as Outbox, [{ name: 'test', vendor: 'Test', maxAgeSeconds: 3600, send: async () => (sends++, { kind: 'sent' }) }], pino({ level: 'silent' }), createMetrics(), () => undefined);
    worker.wake();
    await until(() => sends === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(outbox.messages.get('m1')!.state).toBe('pending');
    worker.wake();
    await until(() => outbox.messages.get('m1')!.state === 'sent');
    await worker.close();
    expect(sends).toBe(1);
  });

  it('a message past its sender’s time limit is not sent: too_old', async () => {
    const outbox = new MemoryOutbox();
    outbox.messages.set('old', { ...message('old'), eventAt: 1_717_200_000 });
    let sends = 0;
    const worker = new OutboxWorker(outbox as unknown as Outbox, [{ name: 'test', vendor: 'Test', maxAgeSeconds: 3600, send: async () => (sends++, { kind: 'sent' }) }], pino({ level: 'silent' }), createMetrics(), () => undefined);
    worker.wake();
    await until(() => outbox.messages.get('old')!.state === 'too_old');
    await worker.close();
    expect(sends).toBe(0);
    expect(outbox.messages.get('old')!.answer).toBe('not sent: the change of 2024-06-01 00:00:00 UTC is older than the 1 hours Test accepts');
  });
});
