// The rules of the Metrika senders without ClickHouse: the offline-conversion
// file (header, price with a dot from minor units, fields refused with named
// reasons, nothing that can start a spreadsheet formula), the CDP order line
// (status from the funnel marker, times on the counter's clock, CSV quoting),
// which deal changes become messages, the multipart upload and how its answer
// is judged, the admin's period parameters, and the METRIKA_* configuration.
import { createServer, type Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../collector/src/config.js';
import { nextConversion, type Entry as ConversionEntry } from '../../collector/src/outbound/metrika/conversion-plan.js';
import { CONVERSIONS_HEADER, conversionLine, conversionsCsv, type Conversion } from '../../collector/src/outbound/metrika/conversions.js';
import { majorUnits } from '../../collector/src/outbound/metrika/money.js';
import { ordersToSend, type OrderState } from '../../collector/src/outbound/metrika/order-plan.js';
import { localDateTime, orderLine, ordersCsv, orderStatus, type Order } from '../../collector/src/outbound/metrika/orders.js';
import { askedPeriod } from '../../collector/src/outbound/metrika/route.js';
import {
  cdpVerdict,
  CONVERSION_MAX_AGE_SECONDS,
  conversionsSender,
  ordersSender,
  postUpload,
  uploadRequest,
} from '../../collector/src/outbound/metrika/upload.js';
import type { Message } from '../../collector/src/outbound/outbox.js';

const conversion = (over: Partial<Conversion> = {}): Conversion => ({ clientId: '133591247640966458', goal: 'order_paid', at: 1_481_718_166, amountMinor: 12_345, currency: 'RUB', ...over });
const refusal = (over: Partial<Conversion>) => conversionLine(conversion(over));

describe('the offline-conversion file', () => {
  it('is Metrika’s CSV exactly: the header, then ClientId, Target, unix seconds, the price with a dot, the currency', () => {
    expect(conversionLine(conversion())).toEqual({ line: '133591247640966458,order_paid,1481718166,123.45,RUB' });
    expect(conversionsCsv(['1,g,2,0.05,RUB', '3,g,4,10.00,'])).toBe('ClientId,Target,DateTime,Price,Currency\n1,g,2,0.05,RUB\n3,g,4,10.00,\n');
    expect(conversionsCsv([])).toBe(`${CONVERSIONS_HEADER}\n`);
  });

  it('writes prices from minor units exactly, through digits, never a float', () => {
    expect(majorUnits(12_345)).toBe('123.45');
    expect(majorUnits(5)).toBe('0.05');
    expect(majorUnits(0)).toBe('0.00');
    expect(majorUnits(100)).toBe('1.00');
    expect(majorUnits(249_990)).toBe('2499.90');
    expect(majorUnits(-250)).toBe('-2.50');
    // 0.1 + 0.2 territory and the largest exact integer: still digit for digit.
    expect(majorUnits(30)).toBe('0.30');
    expect(majorUnits(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91');
    expect(majorUnits(2 ** 53)).toBeNull();
    expect(majorUnits(1.5)).toBeNull();
    expect(majorUnits(Number.NaN)).toBeNull();
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => BigInt(majorUnits(n)!.replace('.', '')) === BigInt(n)));
  });

  it('prices a negative amount at 0 and refuses an amount it cannot tell exactly', () => {
    expect(conversionLine(conversion({ amountMinor: -500 }))).toEqual({ line: '133591247640966458,order_paid,1481718166,0.00,RUB' });
    expect(refusal({ amountMinor: 2 ** 60 })).toEqual({ refused: 'absurd_amount' });
    expect(refusal({ amountMinor: Number.NaN })).toEqual({ refused: 'absurd_amount' });
    expect(refusal({ amountMinor: Infinity })).toEqual({ refused: 'absurd_amount' });
  });

  it('refuses a ClientId that is not digits, with its reason: control characters, formulas, lone surrogates', () => {
    for (const clientId of ['', '12a45', '123\n456', '123\r', '\t123', '=1+2', '+79990001122', '-123', '@SUM(1)', '1\ud800', '１２３', '1 2', `${'1'.repeat(65)}`, '12,34']) {
      expect(refusal({ clientId }), JSON.stringify(clientId)).toEqual({ refused: 'bad_client_id' });
    }
  });

  it('refuses a Target outside Metrika’s goal identifiers, and a currency or time that is not one', () => {
    for (const goal of ['', '=HYPERLINK("x")', '+goal', '-goal', '@goal', 'a,b', 'a"b', 'a/b', 'a#b', 'a b', 'цель', 'a\u0000b', 'x'.repeat(101)]) {
      expect(refusal({ goal }), JSON.stringify(goal)).toEqual({ refused: 'bad_goal' });
    }
    for (const goal of ['Order.Paid-2_x', '_lead', '1']) expect(conversionLine(conversion({ goal }))).toMatchObject({ line: expect.stringContaining(`,${goal},`) });
    for (const currency of ['rub', 'RUBX', 'R1B', '=1', 'RU']) expect(refusal({ currency })).toEqual({ refused: 'bad_currency' });
    expect(conversionLine(conversion({ currency: '' }))).toEqual({ line: '133591247640966458,order_paid,1481718166,123.45,' });
    for (const at of [0, -1, 1.5, Number.NaN, Infinity]) expect(refusal({ at })).toEqual({ refused: 'bad_time' });
  });

  it('never lets a line through that has a field more, a control character, or a field that starts a formula', () => {
    fc.assert(
      fc.property(
        // Near-misses as well as noise: the rules' own characters, and anything at all.
        fc.oneof(fc.stringMatching(/^[\d=+@\-\s,]{1,20}$/), fc.string({ unit: 'binary' })),
        fc.oneof(fc.stringMatching(/^[\w.=+@\-\s,"]{1,12}$/), fc.string({ unit: 'binary' })),
        fc.oneof(fc.constantFrom('RUB', ''), fc.string()),
        fc.oneof(fc.integer({ min: 1 }), fc.integer()),
        fc.oneof(fc.integer(), fc.double()),
        (clientId, goal, currency, at, amount) => {
          const made = conversionLine({ clientId, goal, currency, at, amountMinor: amount });
          if ('refused' in made) return true;
          const fields = made.line.split(',');
          return fields.length === 5 && !/[\u0000-\u001f\u007f"]/.test(made.line) && fields.every((f) => !/^[=+\-@]/.test(f)) && made.line.isWellFormed();
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('the CDP order', () => {
  const order = (over: Partial<Order> = {}): Order => ({ id: 'amo:10701093', clientId: '133591247640966458', createdAt: 1_772_458_752, updatedAt: 1_772_458_867, status: 'PAID', amountMinor: 249_990, ...over });

  it('takes its status from the funnel marker; a deleted deal is cancelled whatever its marker', () => {
    expect(orderStatus('open', false)).toBe('IN_PROGRESS');
    expect(orderStatus('won', false)).toBe('PAID');
    expect(orderStatus('lost', false)).toBe('CANCELLED');
    expect(orderStatus('returned', false)).toBe('CANCELLED');
    expect(orderStatus('paused', false)).toBe('OTHER');
    expect(orderStatus('won', true)).toBe('CANCELLED');
    expect(orderStatus('open', true)).toBe('CANCELLED');
  });

  it('is one line of id, ClientID, creation and update times on the counter’s clock, status and revenue with a dot', () => {
    // 2026-03-02 13:39:12 UTC is 16:39:12 in Moscow (UTC+3 all year).
    expect(orderLine(order(), 'Europe/Moscow')).toEqual({ line: 'amo:10701093,133591247640966458,2026-03-02 16:39:12,2026-03-02 16:41:07,PAID,2499.90' });
    expect(orderLine(order(), 'UTC')).toEqual({ line: 'amo:10701093,133591247640966458,2026-03-02 13:39:12,2026-03-02 13:41:07,PAID,2499.90' });
    expect(ordersCsv('x')).toBe('id,client_ids,create_date_time,update_date_time,order_status,revenue\nx\n');
    expect(localDateTime(0, 'UTC')).toBe('1970-01-01 00:00:00');
    // Midnight is 00, not 24 (hourCycle h23).
    expect(localDateTime(Date.parse('2026-01-01T21:00:00Z') / 1000, 'Europe/Moscow')).toBe('2026-01-02 00:00:00');
  });

  it('quotes an id with a comma or a quote, and refuses one that would break the line or is not UTF-8', () => {
    expect(orderLine(order({ id: 'shop:A,1' }), 'UTC')).toMatchObject({ line: expect.stringMatching(/^"shop:A,1",/) });
    expect(orderLine(order({ id: 'shop:say "hi"' }), 'UTC')).toMatchObject({ line: expect.stringMatching(/^"shop:say ""hi""",/) });
    for (const id of ['', 'shop:a\nb', 'shop:a\rb', 'shop:\u0000', 'shop:\u0085', 'shop:\ud83d', `shop:${'x'.repeat(200)}`]) {
      expect(orderLine(order({ id }), 'UTC'), JSON.stringify(id)).toEqual({ refused: 'bad_order_id' });
    }
    expect(orderLine(order({ clientId: '=cmd' }), 'UTC')).toEqual({ refused: 'bad_client_id' });
    expect(orderLine(order({ createdAt: 0 }), 'UTC')).toEqual({ refused: 'bad_time' });
    expect(orderLine(order({ updatedAt: 2 ** 40 }), 'UTC')).toEqual({ refused: 'bad_time' });
    expect(orderLine(order({ amountMinor: 2 ** 60 }), 'UTC')).toEqual({ refused: 'absurd_amount' });
  });
});

describe('which won deals become conversions', () => {
  const entry = (step: number, state: ConversionEntry['state'], basis = 10 * step, eventAt = 1000): ConversionEntry => ({ step, state, basis, eventAt });
  const won = { version: 100, won: true, winAt: 1000 };

  it('a won deal with nothing sent: its first conversion', () => {
    expect(nextConversion(won, [])).toEqual({ kind: 'send', step: 1 });
  });
  it('nothing for a deal not won now, or whose conversion waits or was sent: one conversion per deal, ever', () => {
    expect(nextConversion({ ...won, won: false }, [])).toEqual({ kind: 'none' });
    expect(nextConversion(won, [entry(1, 'pending')])).toEqual({ kind: 'none' });
    expect(nextConversion({ ...won, version: 500, winAt: 5000 }, [entry(1, 'sent')])).toEqual({ kind: 'none' });
  });
  it('a refused conversion is planned again only when the deal changes', () => {
    expect(nextConversion(won, [entry(1, 'failed', 100)])).toEqual({ kind: 'none' });
    expect(nextConversion(won, [entry(1, 'failed', 90)])).toEqual({ kind: 'send', step: 2 });
  });
  it('a conversion too old for Metrika is not planned again for the same win; a later win may be', () => {
    expect(nextConversion(won, [entry(1, 'too_old', 90, 1000)])).toEqual({ kind: 'none' });
    expect(nextConversion({ ...won, winAt: 9000 }, [entry(1, 'too_old', 90, 1000)])).toEqual({ kind: 'send', step: 2 });
  });
});

describe('which deal changes become CDP order upserts', () => {
  const v = (version: number, outcome: string, over: Partial<OrderState> = {}): OrderState => ({ version, outcome, deleted: false, amountMinor: 1000, currency: 'RUB', stage: outcome, ...over });

  it('a deal met for the first time: its current state only', () => {
    expect(ordersToSend([v(1, 'open'), v(2, 'won')], [])).toEqual([{ version: 2, step: 1 }]);
  });
  it('every later version that changes the outcome, deletion, amount, currency or stage, in order', () => {
    const versions = [v(1, 'open'), v(2, 'open', { stage: 'open' }), v(3, 'won'), v(4, 'won', { amountMinor: 2000 }), v(5, 'returned'), v(6, 'returned', { deleted: true })];
    expect(ordersToSend(versions, [{ step: 1, basis: 1 }])).toEqual([
      { version: 3, step: 2 },
      { version: 4, step: 3 },
      { version: 5, step: 4 },
      { version: 6, step: 5 },
    ]);
    expect(ordersToSend([v(1, 'won'), v(2, 'won', { currency: 'USD' })], [{ step: 1, basis: 1 }])).toEqual([{ version: 2, step: 2 }]);
  });
  it('nothing for versions that change nothing of the order, nor for a version already planned (a repeated delivery)', () => {
    expect(ordersToSend([v(1, 'won'), v(2, 'won')], [{ step: 1, basis: 1 }])).toEqual([]);
    expect(ordersToSend([v(1, 'open'), v(2, 'won')], [{ step: 1, basis: 1 }, { step: 2, basis: 2 }])).toEqual([]);
    expect(ordersToSend([], [])).toEqual([]);
  });
  it('a change back to an earlier state is a change too', () => {
    expect(ordersToSend([v(1, 'open'), v(2, 'won'), v(3, 'open')], [{ step: 1, basis: 1 }, { step: 2, basis: 2 }])).toEqual([{ version: 3, step: 3 }]);
  });
});

describe('the multipart upload', () => {
  it('is a form with one field `file`: the CSV as conversions.csv, text/csv; the token in the Authorization header', async () => {
    const csv = 'ClientId,Target,DateTime,Price,Currency\n1,g,2,0.05,RUB\n';
    const req = new Request('http://metrika.test/upload', uploadRequest('y0_token', csv, 'conversions.csv'));
    expect(req.headers.get('authorization')).toBe('OAuth y0_token');
    expect(req.redirect).toBe('manual');
    const type = req.headers.get('content-type')!;
    expect(type).toMatch(/^multipart\/form-data; boundary=/);
    const raw = await req.clone().text();
    expect(raw).toContain('Content-Disposition: form-data; name="file"; filename="conversions.csv"\r\nContent-Type: text/csv\r\n\r\n');
    expect(raw).toContain(`\r\n\r\n${csv}\r\n--`);
    const form = await req.formData();
    expect([...form.keys()]).toEqual(['file']);
    const file = form.get('file') as File;
    expect(file.name).toBe('conversions.csv');
    expect(file.type).toBe('text/csv');
    expect(await file.text()).toBe(csv);
  });
});

describe('Metrika’s answers', () => {
  it('a CDP 200 that failed validation is a refusal; other answers as every sender judges them', () => {
    expect(cdpVerdict(200, '{"uploading":{"id":1,"api_validation_status":"PASSED"}}')).toEqual({ kind: 'sent' });
    expect(cdpVerdict(200, '{"uploading":{"id":1,"api_validation_status":"FAILED"}}')).toEqual({ kind: 'failed', answer: 'HTTP 200: {"uploading":{"id":1,"api_validation_status":"FAILED"}}' });
    expect(cdpVerdict(200, 'not json')).toEqual({ kind: 'sent' });
    expect(cdpVerdict(200, 'null')).toEqual({ kind: 'sent' });
    expect(cdpVerdict(503, 'busy')).toEqual({ kind: 'retry', answer: 'HTTP 503: busy' });
    expect(cdpVerdict(400, '{"message":"bad"}')).toEqual({ kind: 'failed', answer: 'HTTP 400: {"message":"bad"}' });
  });

  it('keeps to Metrika’s 21 days for conversions, with a margin', () => {
    expect(CONVERSION_MAX_AGE_SECONDS).toBeLessThan(21 * 86_400);
    expect(CONVERSION_MAX_AGE_SECONDS).toBeGreaterThan(21 * 86_400 - 3600);
  });

  describe('over HTTP', () => {
    let server: Server;
    let base = '';
    const seen: { url: string; auth: string; type: string }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '', type: req.headers['content-type'] ?? '' });
          if (req.url?.startsWith('/slow')) return;
          if (req.url?.startsWith('/moved')) return void res.writeHead(302, { Location: 'http://elsewhere.example/' }).end();
          if (req.url?.startsWith('/echo')) return void res.writeHead(403, { 'Content-Type': 'application/json' }).end(`{"message":"token ${req.headers.authorization?.slice(6)} is not allowed"}`);
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"uploading":{"id":7,"api_validation_status":"PASSED"}}');
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
    const api = () => ({ counterId: '2215573', token: 'y0_SECRET_token', url: base });

    it('posts conversions and orders to their paths, the token in the header only', async () => {
      expect(await conversionsSender(api()).send({ body: 'ClientId,Target,DateTime,Price,Currency\n' } as Message)).toEqual({ kind: 'sent' });
      expect(await ordersSender(api()).send({ body: 'id\n' } as Message)).toEqual({ kind: 'sent' });
      expect(seen.slice(-2)).toEqual([
        { url: '/management/v1/counter/2215573/offline_conversions/upload', auth: 'OAuth y0_SECRET_token', type: expect.stringMatching(/^multipart\/form-data; boundary=/) },
        { url: '/cdp/api/v1/counter/2215573/data/simple_orders?merge_mode=SAVE&delimiter_type=COMMA', auth: 'OAuth y0_SECRET_token', type: expect.stringMatching(/^multipart\/form-data/) },
      ]);
    });

    it('never keeps the token: an answer that echoes it is masked; no redirect is followed', async () => {
      expect(await postUpload(`${base}/echo`, 'y0_SECRET_token', 'x', 'f.csv')).toEqual({ kind: 'failed', answer: 'HTTP 403: {"message":"token [token] is not allowed"}' });
      const before = seen.length;
      expect(await postUpload(`${base}/moved`, 'y0_SECRET_token', 'x', 'f.csv')).toEqual({ kind: 'failed', answer: 'HTTP 302' });
      expect(seen.length).toBe(before + 1);
    });

    it('tries again after a timeout or a network error', async () => {
      expect(await postUpload(`${base}/slow`, 't0ken-123', 'x', 'f.csv', 300)).toEqual({ kind: 'retry', answer: 'no answer in 0.3 s' });
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const a = closed.address();
      await new Promise<void>((r) => closed.close(() => r()));
      expect(await postUpload(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/x`, 't0ken-123', 'x', 'f.csv', 1000)).toEqual({ kind: 'retry', answer: 'network error: ECONNREFUSED' });
    });
  });
});

describe('the period the admin asks for', () => {
  const url = (q: string) => `/admin/metrika/conversions.csv?${q}`;
  it('takes from, to and a goal (METRIKA_GOAL by default)', () => {
    expect(askedPeriod(url('from=2026-03-01&to=2026-03-31&goal=paid'), null)).toEqual({ period: { from: '2026-03-01', to: '2026-03-31' }, goal: 'paid' });
    expect(askedPeriod(url('from=2026-03-01&to=2026-03-01'), 'order_paid')).toEqual({ period: { from: '2026-03-01', to: '2026-03-01' }, goal: 'order_paid' });
  });
  it('refuses what it cannot answer, with a named reason', () => {
    expect(askedPeriod(url('from=2026-03-01'), 'g')).toMatchObject({ error: 'bad_period' });
    expect(askedPeriod(url('from=2026-3-1&to=2026-03-31'), 'g')).toMatchObject({ error: 'bad_period', reason: expect.stringContaining('from must be') });
    expect(askedPeriod(url('from=2026-03-31&to=2026-03-01'), 'g')).toEqual({ error: 'bad_period', reason: 'from is after to' });
    expect(askedPeriod(url('from=2024-01-01&to=2026-01-01'), 'g')).toEqual({ error: 'bad_period', reason: 'a period of at most 366 days' });
    expect(askedPeriod(url('from=2026-03-01&to=2026-03-02'), null)).toMatchObject({ error: 'no_goal' });
    expect(askedPeriod(url('from=2026-03-01&to=2026-03-02&goal=%3DSUM(A1)'), null)).toMatchObject({ error: 'bad_goal' });
    expect(askedPeriod(url('from=2026-03-01&to=2026-03-02&from=2026-03-01'), 'g')).toEqual({ error: 'bad_parameters', reason: 'from is given more than once' });
    expect(askedPeriod(url('from=2026-03-01&to=2026-03-02&token=x'), 'g')).toMatchObject({ error: 'bad_parameters' });
  });
});

describe('Metrika configuration', () => {
  it('is off with none of the counter, the token and the goal; the goal alone is the download’s default', () => {
    expect(loadConfig({}).metrika).toBeNull();
    expect(loadConfig({ METRIKA_GOAL: 'order_paid' }).metrika).toEqual({ api: null, goal: 'order_paid', cdp: true, timeZone: 'Europe/Moscow' });
  });
  it('uploads with the counter and the token, both or neither', () => {
    expect(loadConfig({ METRIKA_COUNTER_ID: '2215573', METRIKA_TOKEN: 'y0_AgAAAA-token', METRIKA_URL: 'http://127.0.0.1:9/', METRIKA_CDP: 'off', METRIKA_TIMEZONE: 'Asia/Yekaterinburg' }).metrika).toEqual({
      api: { counterId: '2215573', token: 'y0_AgAAAA-token', url: 'http://127.0.0.1:9' },
      goal: null,
      cdp: false,
      timeZone: 'Asia/Yekaterinburg',
    });
    expect(loadConfig({ METRIKA_COUNTER_ID: '1', METRIKA_TOKEN: 'y0_AgAAAA-token' }).metrika?.api?.url).toBe('https://api-metrika.yandex.net');
    expect(() => loadConfig({ METRIKA_COUNTER_ID: '2215573' })).toThrow(/METRIKA_COUNTER_ID, METRIKA_TOKEN: set both/);
    expect(() => loadConfig({ METRIKA_TOKEN: 'y0_AgAAAA-token' })).toThrow(/set both/);
  });
  it('names a malformed counter, token, goal, URL, switch or time zone', () => {
    const ok = { METRIKA_COUNTER_ID: '2215573', METRIKA_TOKEN: 'y0_AgAAAA-token' };
    expect(() => loadConfig({ ...ok, METRIKA_COUNTER_ID: '22x' })).toThrow(/METRIKA_COUNTER_ID: the counter number/);
    expect(() => loadConfig({ ...ok, METRIKA_TOKEN: 'has space token' })).toThrow(/METRIKA_TOKEN/);
    expect(() => loadConfig({ ...ok, METRIKA_TOKEN: 'line\nbreak-token' })).toThrow(/METRIKA_TOKEN/);
    expect(() => loadConfig({ ...ok, METRIKA_GOAL: '=cmd' })).toThrow(/METRIKA_GOAL: a goal identifier/);
    expect(() => loadConfig({ ...ok, METRIKA_URL: 'ftp://x.example' })).toThrow(/METRIKA_URL/);
    expect(() => loadConfig({ ...ok, METRIKA_CDP: 'yes' })).toThrow(/METRIKA_CDP/);
    expect(() => loadConfig({ ...ok, METRIKA_TIMEZONE: 'Mars/Olympus' })).toThrow(/METRIKA_TIMEZONE: an IANA time zone/);
  });
});
