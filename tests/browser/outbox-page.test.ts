// The outbox page in Chromium, as an admin reaches it: plain HTTP on a host name
// (outbox-page.test, mapped to loopback), the built collector with GA4 on, the
// real ClickHouse and Redis, deals made through the JSON import, and a local
// GA4 Measurement Protocol stand-in that records every request and answers as
// each test scripts it per client id (204 by default). The scenario: sign in and
// follow the setup page's link; a 400 is listed as failed with GA4's answer
// shown as text (markup as text, control characters as marked escapes); Try again writes it again as pending (shown while GA4 holds its
// answer) and GA4's 204 then makes it sent, the very request sent again; a 500
// is listed as pending with its next try; what Try again refuses, and why. A
// screenshot is kept in test-results/outbox-page.png.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromiumResolving } from '../helpers/browser-hosts.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { readMetrics } from '../helpers/metrics-text.js';
import { SCENARIO_COLLECTOR_ENV } from '../helpers/report-scenario.js';
import { screenshot, watchedPage, type WatchedPage } from '../helpers/report-page.js';

const HOST = 'outbox-page.test';
const SECRET = 'shop_outbox_page_secret_0123456789';
const ADMIN = 'admin-outbox-page-token-0123456789';
const MEASUREMENT_ID = 'G-OUTBOX123';
const API_SECRET = 'mp-outbox-secret-0123456789';
const NOW = Math.floor(Date.now() / 1000);
let clock = NOW - 3600;
const nextTime = () => (clock += 60);

type Recorded = { path: string; query: Record<string, string>; body: { client_id: string; timestamp_micros: number; events: { name: string; params: Record<string, unknown> }[] } };
/** A scripted answer; `hold` keeps it back until the promise settles. */
type Answer = { status: number; body?: string; hold?: Promise<void> };

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
        this.requests.push({ path: u.pathname, query: Object.fromEntries(u.searchParams), body });
        const answer = this.scripts.get(body.client_id)?.shift() ?? { status: 204 };
        void (answer.hold ?? Promise.resolve()).then(() => res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body ?? ''));
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

/** A purchase exactly as the collector must send it. */
const purchase = (clientId: string, at: number, transactionId: string, value: number): Recorded => ({
  path: '/mp/collect',
  query: { measurement_id: MEASUREMENT_ID, api_secret: API_SECRET },
  body: { client_id: clientId, timestamp_micros: at * 1_000_000, events: [{ name: 'purchase', params: { transaction_id: transactionId, value, currency: 'RUB' } }] },
});

let cids = 0;
const newClientId = () => `${1_000_000 + ++cids}.${NOW - 86_400}`;

/** What GA4 answers to the failed purchase: markup, a bell, a right-to-left override and a newline, for the page to show as text. */
const HOSTILE = '{"error":"<b>invalid</b> client_id\u0007\u202e\nexe"}';
const HOSTILE_SHOWN = 'HTTP 400: {"error":"<b>invalid</b> client_id\\u0007\\u202E\\nexe"}';

describe('the outbox page', () => {
  const ga4 = new Ga4StandIn();
  let db: TestDatabase;
  let dir: string;
  let collector: RunningCollector;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  const site = () => collector.url.replace('127.0.0.1', HOST);
  const outboxUrl = () => `${site()}/crm/setup/outbox`;

  const deliver = async (...deals: { id: string; amount: string; cid: string; updated_at: number }[]) => {
    const res = await fetch(`${collector.url}/crm/import/shop/${SECRET}/deals`, {
      method: 'POST',
      body: JSON.stringify({ deals: deals.map((d) => ({ id: d.id, pipeline: 'shop', status: 'paid', amount: d.amount, updated_at: d.updated_at, fields: { tl_ga: d.cid } })) }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(200);
  };
  const sent = (cid: string, n: number) => eventually(async () => ga4.to(cid), 15_000, (r) => r.length >= n);
  const history = (subject: string) => db.rows<{ state: string; attempts: number }>(`SELECT state, attempts FROM outbound_current WHERE subject = '${subject}' ORDER BY step`);
  const metric = async (outcome: string) => (await readMetrics(collector.url)).get(`throughline_outbound_messages_total{sender="ga4",outcome="${outcome}"}`);
  /** A listed message's row: its cells' text (the Try again cell left out). */
  const row = (table: string, id: string) =>
    page.locator(`#${table} tr[data-id="${id}"]`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].filter((td) => !td.querySelector('form')).map((td) => (td as HTMLElement).innerText.trim())));
  /** Reloads the page until `table` lists the message (or stops listing it, `gone`). */
  const listed = async (table: string, id: string, gone = false) =>
    eventually(
      async () => {
        await page.goto(outboxUrl());
        return row(table, id);
      },
      15_000,
      (rows) => (gone ? rows.length === 0 : rows.length === 1),
    );
  const counts = async (sender: string) => page.locator(`#counts-table tr[data-sender="${sender}"] td`).allInnerTexts();
  /**
   * The counts once the page shows `want`: a page reads its counts and its lists by separate
   * queries, so a state written between them shows in one and not yet in the other until the next.
   */
  const countsBecome = (sender: string, want: string[]) =>
    eventually(
      async () => {
        await page.goto(outboxUrl());
        return counts(sender);
      },
      15_000,
      (c) => JSON.stringify(c) === JSON.stringify(want),
    );
  /** The Try again form of a failed message, as the page carries it. */
  const formOf = async (id: string) =>
    Object.fromEntries(await page.locator(`#failed-table tr[data-id="${id}"] form input`).evaluateAll((inputs) => inputs.map((i) => [(i as HTMLInputElement).name, (i as HTMLInputElement).value])));
  /** A Try again posted with the browser's session cookie, as a form would; not followed. */
  const post = async (form: Record<string, string>) => {
    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const res = await fetch(`${collector.url}/crm/setup/outbox/try-again`, { method: 'POST', body: new URLSearchParams(form), headers: { cookie }, redirect: 'manual' });
    const text = await res.text();
    return { status: res.status, location: res.headers.get('location'), why: /data-why="([a-z_]+)"/.exec(text)?.[1], text };
  };

  beforeAll(async () => {
    await ga4.start();
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-outbox-page-'));
    const config = { funnel: [{ stage: 'Order' }, { stage: 'Paid', marker: 'won' }], sources: { shop: { kind: 'import', secret: SECRET, pipelines: { shop: { new: 'Order', paid: 'Paid' } } } } };
    await writeFile(join(dir, 'crm.json'), JSON.stringify(config));
    collector = await startCollector({
      CLICKHOUSE_DATABASE: db.name,
      REDIS_PREFIX: `t_${db.name}:`,
      CRM_CONFIG: join(dir, 'crm.json'),
      CRM_ADMIN_TOKEN: ADMIN,
      IDENTITY_KEY: 'outbox-page-identity-key-0123456789',
      GA4_MEASUREMENT_ID: MEASUREMENT_ID,
      GA4_API_SECRET: API_SECRET,
      GA4_URL: ga4.url,
      BATCH_MAX_MS: '100',
      ...SCENARIO_COLLECTOR_ENV,
    });
    browser = await launchChromiumResolving([HOST]);
    watched = await watchedPage(browser, { width: 1300 });
    page = watched.page;
  });
  afterAll(async () => {
    await watched?.close();
    await browser?.close();
    await collector?.stop();
    await db?.drop();
    await ga4.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('asks to sign in, then is reached from the setup page’s link; with nothing sent, says so', async () => {
    const denied = await page.goto(outboxUrl());
    expect(denied!.status()).toBe(401);
    expect((await fetch(`${collector.url}/crm/setup/outbox`)).status).toBe(401);
    await page.fill('#token', ADMIN);
    await Promise.all([page.waitForURL(`${site()}/crm/setup`), page.click('#sign-in')]);
    await Promise.all([page.waitForURL(outboxUrl()), page.click('#to-outbox')]);
    expect(await page.locator('h1').innerText()).toBe('Outbox');
    // GA4's sender among the senders on (the parts always on, acting on the CRM configuration, list theirs too).
    expect(await page.locator('#senders-list li[data-sender="ga4"]').innerText()).toBe('ga4 (GA4): changes older than 72 hours are not sent');
    expect(await page.locator('#pending .empty').innerText()).toBe('Nothing waits: every message written has been sent or settled.');
    expect(await page.locator('#failed .empty').innerText()).toBe('Nothing was refused.');
    expect(await counts('ga4')).toEqual(['0', '0', '0', '0']);
    await Promise.all([page.waitForURL(`${site()}/crm/setup`), page.click('#to-setup')]);
    expect(watched.errors.splice(0)).toEqual([]);
  });

  it('a 400 is listed as failed with GA4’s answer as text; Try again sends the same request again, and GA4’s 204 makes it sent', async () => {
    const cid = newClientId();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The first try refused; the second held until the page has shown it pending, then taken.
    ga4.answer(cid, { status: 400, body: HOSTILE }, { status: 204, hold: held });
    const t = nextTime();
    await deliver({ id: 'F-1', amount: '2499.90', cid, updated_at: t });
    expect(await sent(cid, 1)).toEqual([purchase(cid, t, 'shop:F-1', 2499.9)]);

    const id = 'ga4:shop:F-1#1';
    const [failed] = await listed('failed-table', id);
    expect(failed!.slice(0, 5)).toEqual(['ga4', 'shop:F-1', 'purchase', '2,499.90 RUB', '1']);
    expect(failed![5]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(failed![6]).toBe(HOSTILE_SHOWN);
    expect(await page.locator(`#failed-table tr[data-id="${id}"] td.answer b`).count()).toBe(0);
    expect(await page.locator(`#failed-table tr[data-id="${id}"] td.answer .esc`).allInnerTexts()).toEqual(['\\u0007', '\\u202E', '\\n']);
    expect(await countsBecome('ga4', ['0', '0', '1', '0'])).toEqual(['0', '0', '1', '0']);
    expect(await page.locator('#failed .note').innerText()).toContain('A 4xx usually needs a configuration fix first');
    await screenshot(page, 'outbox-page');

    const retriedBefore = await metric('retried');
    await Promise.all([page.waitForURL(`${outboxUrl()}?tried=1`), page.locator(`#failed-table tr[data-id="${id}"] button.try-again`).click()]);
    expect(await page.locator('#tried').innerText()).toContain('Tried again: the message waits to be sent');
    // The same request again, held by GA4: meanwhile it is pending, its attempts and GA4's first answer kept.
    expect(await sent(cid, 2)).toEqual([purchase(cid, t, 'shop:F-1', 2499.9), purchase(cid, t, 'shop:F-1', 2499.9)]);
    const [pending] = await listed('pending-table', id);
    expect(pending!.slice(0, 6)).toEqual(['ga4', 'shop:F-1', 'purchase', '2,499.90 RUB', expect.stringMatching(/^\d{4}-/), '1']);
    expect(pending![7]).toBe(`tried again by hand after: ${HOSTILE_SHOWN}`);
    expect(await metric('retried')).toBe(retriedBefore + 1);

    release();
    await listed('failed-table', id, true);
    expect(await eventually(() => history('shop:F-1'), 5000, (r) => r[0]?.state === 'sent')).toEqual([{ state: 'sent', attempts: 2 }]);
    await page.goto(outboxUrl());
    expect(await countsBecome('ga4', ['0', '1', '0', '0'])).toEqual(['0', '1', '0', '0']);
    expect(await page.locator(`tr[data-id="${id}"]`).count()).toBe(0);
    expect(watched.errors.splice(0)).toEqual([]);
  });

  it('Try again refuses, with its reason: a sent message, a superseded one, one of a sender not on, an unknown one, a form not of this session; and two at once write it once', async () => {
    // A refusal that is superseded: the purchase refused, then the deal's next change planned and sent in its place.
    const cid = newClientId();
    ga4.answer(cid, { status: 400, body: '{"error":"bad"}' });
    const t1 = nextTime();
    await deliver({ id: 'S-1', amount: '100', cid, updated_at: t1 });
    await listed('failed-table', 'ga4:shop:S-1#1');
    const superseded = await formOf('ga4:shop:S-1#1');
    await deliver({ id: 'S-1', amount: '150', cid, updated_at: nextTime() });
    // GA4 holds nothing of the deal (the refused purchase never reached it): the purchase reports the win, at its time.
    expect(await sent(cid, 2)).toEqual([purchase(cid, t1, 'shop:S-1', 100), purchase(cid, t1, 'shop:S-1', 150)]);
    await eventually(() => history('shop:S-1'), 5000, (r) => r[1]?.state === 'sent');

    // Two messages refused, to be tried again: one twice at once, one by a form without the token.
    const twice = newClientId();
    const other = newClientId();
    ga4.answer(twice, { status: 400 });
    ga4.answer(other, { status: 400 });
    await deliver({ id: 'D-1', amount: '10', cid: twice, updated_at: nextTime() }, { id: 'X-1', amount: '20', cid: other, updated_at: nextTime() });
    await listed('failed-table', 'ga4:shop:D-1#1');
    await listed('failed-table', 'ga4:shop:X-1#1');
    const both = await formOf('ga4:shop:D-1#1');
    const foreign = await formOf('ga4:shop:X-1#1');
    const sentForm = { ...both };
    const retriedBefore = await metric('retried');

    expect(await post(superseded)).toMatchObject({ status: 409, why: 'superseded' });
    expect((await post(superseded)).text).toContain('A later message of the same subject (step 2) was planned after it failed');

    const [a, b] = await Promise.all([post(both), post(both)]);
    expect([a.status, b.status].sort()).toEqual([303, 409]);
    expect([a, b].find((x) => x.status === 409)).toMatchObject({ why: 'not_failed' });
    expect([a, b].find((x) => x.status === 303)!.location).toBe('/crm/setup/outbox?tried=1');
    expect(await sent(twice, 2)).toHaveLength(2);
    await eventually(() => history('shop:D-1'), 5000, (r) => r[0]?.state === 'sent');
    // Sent: never again, by the page's form or the admin token.
    expect(await post(sentForm)).toMatchObject({ status: 409, why: 'not_failed' });
    expect((await post(sentForm)).text).toContain('It was sent: sending it again would make the vendor count it twice.');

    // The cookie alone is not enough: the form token must come with it; the admin token as Bearer needs none.
    expect(await post({ message: foreign.message! })).toMatchObject({ status: 403, why: 'foreign' });
    expect(await post({ ...foreign, form_token: 'x'.repeat(43) })).toMatchObject({ status: 403, why: 'foreign' });
    const bearer = await fetch(`${collector.url}/crm/setup/outbox/try-again`, {
      method: 'POST',
      body: new URLSearchParams({ message: foreign.message! }),
      headers: { Authorization: `Bearer ${ADMIN}` },
      redirect: 'manual',
    });
    expect(bearer.status).toBe(303);
    expect(await sent(other, 2)).toHaveLength(2);

    const key = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(await post({ ...both, message: key(['metrika', 'shop:D-1', 1]) })).toMatchObject({ status: 409, why: 'sender_off' });
    expect(await post({ ...both, message: key(['ga4', 'shop:nothing', 1]) })).toMatchObject({ status: 404, why: 'unknown' });
    expect(await post({ ...both, message: 'garbage!' })).toMatchObject({ status: 404, why: 'unknown' });
    expect(await post({ ...both, message: key(['ga4', 'shop:D-1\u0000\u202e', 1]) })).toMatchObject({ status: 404, why: 'unknown' });
    // Signed out: the sign-in form, nothing done.
    expect((await fetch(`${collector.url}/crm/setup/outbox/try-again`, { method: 'POST', body: new URLSearchParams(both), redirect: 'manual' })).status).toBe(401);

    // Counted: the two that were written again, and nothing for the refusals.
    expect(await metric('retried')).toBe(retriedBefore + 2);
    expect(ga4.to(cid)).toHaveLength(2);
    expect(ga4.to(twice)).toHaveLength(2);
    expect(ga4.to(other)).toHaveLength(2);
    expect(watched.errors.splice(0)).toEqual([]);
  });

  // Last: its message is tried again in the background, with back-off, to the end (counted as retried).
  it('a 500 is listed as pending, with GA4’s answer and the next try', async () => {
    const cid = newClientId();
    ga4.answer(cid, ...Array.from({ length: 30 }, () => ({ status: 500, body: 'backend error' })));
    const t = nextTime();
    await deliver({ id: 'P-1', amount: '99.99', cid, updated_at: t });
    const [cells] = await eventually(
      async () => {
        await page.goto(`${outboxUrl()}?lang=ru`);
        return row('pending-table', 'ga4:shop:P-1#1');
      },
      15_000,
      (rows) => rows.length === 1 && rows[0]![7] === 'HTTP 500: backend error',
    );
    const attempts = Number(cells![5]);
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(cells!.slice(0, 4)).toEqual(['ga4', 'shop:P-1', 'purchase', '99,99 RUB']);
    // The next try: a UTC time after the message was written (1 s, 2 s, 4 s … after each try).
    const next = Date.parse(`${cells![6]!.split('\n')[0]!.replace(' ', 'T')}Z`) / 1000;
    expect(next).toBeGreaterThanOrEqual(Date.parse(`${cells![4]!.replace(' ', 'T')}Z`) / 1000);
    expect(next).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 15 * 60);
    expect(await page.locator('h1').innerText()).toBe('Исходящие');
    expect(await page.locator('#pending h2').innerText()).toBe('Ждут отправки');
    expect(ga4.to(cid).length).toBeGreaterThanOrEqual(attempts);
    await page.goto(`${outboxUrl()}?lang=en`);
    expect(watched.errors.splice(0)).toEqual([]);
  });
});
