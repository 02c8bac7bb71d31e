// The site-visit trigger end to end: the built collector, the real ClickHouse
// (both engines) and Redis; deals from amoCRM webhooks as amoCRM posts them,
// visits as the tracker posts them to POST /hit (a form lead to POST /lead),
// and a local amoCRM API stand-in that records every request and answers as
// each test scripts it (200 by default, 500, 400). Each test asserts the exact
// requests — method, path, Authorization and the PATCH body — and the ones
// that must not be made (no message of the deal in the outbox, the reason
// counted).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amoLeadPairs, amoWebhookBody } from '../helpers/amocrm-webhook.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { EMBEDDED_ENGINE } from '../helpers/env.js';
import { newEventId, newVisitorId } from '../helpers/ids.js';
import { readMetrics } from '../helpers/metrics-text.js';
import { shape, startStandIn, type Answer, type Recorded, type StandIn } from './crm-standin.js';

const SECRET = 'amo_trigger_secret_0123456789';
const ADMIN = 'admin-trigger-token-0123456789';
const TOKEN = 'amo-long-lived-token-0123';
const REFRESH = 'amo-refresh-token-0123';
const RENEWED = 'amo-renewed-token-0456';
const ACCOUNT = { id: '17769199', subdomain: 'apfitness' };
const P = '7012345';
const Q = '7019999';
const S = { request: '7012346', qualified: '7012347', proposal: '7012348', contract: '7012349', won: '142', lost: '143' };
const QS = { request: '7019991', qualified: '7019992' };
const SITE = 'https://shop.example';

const FUNNEL = [{ stage: '1 Request' }, { stage: '2 Qualified' }, { stage: '3 Proposal' }, { stage: '4 Contract' }, { stage: 'Won', marker: 'won' }, { stage: 'Lost', marker: 'lost' }];
const RULES = [
  { page: '/pricing*', pipeline: P, status: S.qualified },
  { page: '/checkout/', pipeline: P, status: S.proposal },
];

/** The CRM configuration, with these rules. */
const crmConfig = (api: StandIn, rules: unknown[]) => ({
  funnel: FUNNEL,
  sources: {
    amo: {
      kind: 'amocrm',
      secret: SECRET,
      account: ACCOUNT,
      api: { baseUrl: api.url, clientId: 'client-1', clientSecret: 'client-secret-1', redirectUri: 'https://collector.example/crm/amocrm/amo/oauth', accessToken: TOKEN, refreshToken: REFRESH },
      pipelines: {
        [P]: { [S.request]: '1 Request', [S.qualified]: '2 Qualified', [S.proposal]: '3 Proposal', [S.contract]: '4 Contract', [S.won]: 'Won', [S.lost]: 'Lost' },
        [Q]: { [QS.request]: '1 Request', [QS.qualified]: '2 Qualified' },
      },
      visitTriggers: rules,
    },
  },
});

/** The move request exactly as amoCRM must receive it. */
const patch = (lead: string, status: string, pipeline = P, token = TOKEN) => ({
  method: 'PATCH',
  path: '/api/v4/leads',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: `[{"id":${lead},"status_id":${status},"pipeline_id":${pipeline}}]`,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the site-visit trigger', () => {
  let api: StandIn;
  let db: TestDatabase;
  let dir: string;
  let collector: RunningCollector;
  let env: Record<string, string>;
  let nextLead = 1000;
  /** Scripted answers by lead id, in turn; then 200. */
  const scripts = new Map<string, Answer[]>();
  /** The access token amoCRM takes; another one is refused with 401. */
  let accepted = TOKEN;

  const leadOf = (r: Recorded) => (/^\[\{"id":(\d+),/.exec(r.body) ?? [])[1];
  const movesOf = (lead: string) => api.requests.filter((r) => r.method === 'PATCH' && leadOf(r) === lead).map((r) => shape(r));
  const moved = (lead: string, n = 1, ms = 15_000) => eventually(async () => movesOf(lead), ms, (r) => r.length >= n);

  /** A deal as amoCRM's webhook of a new lead carries it; tied to a visitor by the tracker's hidden field when one is given. */
  const deal = async (pipeline: string, status: string, fields: [string, string, string][] = []) => {
    const id = String(++nextLead);
    const body = amoWebhookBody(ACCOUNT, amoLeadPairs('add', 0, { id, status, pipeline, fields }));
    const res = await fetch(`${collector.url}/crm/amocrm/amo/${SECRET}`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    return id;
  };
  const dealOf = (visitor: string, pipeline = P, status = S.request) => deal(pipeline, status, [['501', 'tl_vid', visitor.toLowerCase()]]);
  /** A page visit, as the tracker posts it; returns its event id. */
  const visit = async (visitor: string, path: string, kind: 'visit' | 'lead' = 'visit', props?: Record<string, string>) => {
    const e = newEventId();
    const hit = { s: 'shop', k: kind, e, t: Date.now(), u: `${SITE}${path}`, r: '', g: '', y: '', v: visitor, ...(props ? { p: props } : {}) };
    const res = await fetch(`${collector.url}/${kind === 'visit' ? 'hit' : 'lead'}`, { method: 'POST', body: JSON.stringify(hit), headers: { 'Content-Type': 'text/plain' } });
    expect(res.status).toBe(204);
    return e;
  };
  const messages = (lead: string) =>
    db.rows<{ id: string; step: number; event: string; reference: string; recipient: string; body: string; state: string; attempts: number }>(
      `SELECT id, step, event, reference, recipient, body, state, attempts FROM outbound_current WHERE sender = 'amocrm_move' AND subject = 'amo:${lead}' ORDER BY step`,
    );
  const notMoved = async (reason: string) => (await readMetrics(collector.url)).get(`throughline_outbound_changes_unsent_total{sender="amocrm_move",reason="${reason}"}`) ?? 0;
  const outbox = () => fetch(`${collector.url}/admin/outbox`, { headers: { Authorization: `Bearer ${ADMIN}` } }).then((r) => r.json() as Promise<OutboxAnswer>);
  /**
   * A visit of its own that moves a deal of its own, waited for: the scan that
   * read it read every visit stored before it, and wrote (or counted) their
   * outcome in the same step.
   */
  const settle = async () => {
    const v = newVisitorId();
    const lead = await dealOf(v);
    await visit(v, '/pricing');
    await moved(lead);
  };

  beforeAll(async () => {
    api = await startStandIn((r) => {
      if (r.method === 'POST' && r.path === '/oauth2/access_token') {
        return { status: 200, json: { token_type: 'Bearer', expires_in: 86400, access_token: accepted, refresh_token: 'amo-refresh-token-0789' } };
      }
      if (r.method !== 'PATCH' || r.path !== '/api/v4/leads') return { status: 404, json: { title: 'Not Found' } };
      if (r.headers.authorization !== `Bearer ${accepted}`) return { status: 401, json: { title: 'Unauthorized' } };
      const lead = leadOf(r) ?? '';
      return scripts.get(lead)?.shift() ?? { status: 200, json: { _embedded: { leads: [{ id: Number(lead), updated_at: Math.floor(Date.now() / 1000) }] } } };
    });
    db = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tl-trigger-'));
    await writeFile(join(dir, 'crm.json'), JSON.stringify(crmConfig(api, RULES)));
    env = {
      CLICKHOUSE_DATABASE: db.name,
      REDIS_PREFIX: `t_${db.name}:`,
      CRM_CONFIG: join(dir, 'crm.json'),
      CRM_ADMIN_TOKEN: ADMIN,
      IDENTITY_KEY: 'trigger-identity-key-0123456789',
      BATCH_MAX_MS: '100',
      TRIGGER_SCAN_SECONDS: '1',
      CRM_CONFIG_REFRESH_SECONDS: '2',
      // A visitor's visits minutes apart are all stored (the tracker's own 10-minute rule is the browser tests').
      VISIT_THROTTLE_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
    };
    collector = await startCollector(env);
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
    await api?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a visitor with an open deal at an early stage visits a matching page: exactly one PATCH, the exact JSON, the Bearer token', async () => {
    const v = newVisitorId();
    const lead = await dealOf(v);
    await visit(v, '/about');
    const hit = await visit(v, '/pricing/plans?utm_source=newsletter');
    expect(await moved(lead)).toEqual([patch(lead, S.qualified)]);
    const at = (await db.rows<{ at: string }>(`SELECT toString(toUInt32(received_at)) AS at FROM hits WHERE event_id = '${hit}'`))[0]!.at;
    expect(await eventually(() => messages(lead), 5000, (m) => m[0]?.state === 'sent')).toEqual([
      {
        id: `amocrm_move:amo:${lead}#${at}`,
        step: Number(at),
        event: 'move',
        reference: `visitTriggers.0 /pricing* hit ${hit}`,
        recipient: `${P}:${S.request}→${S.qualified}`,
        body: patch(lead, S.qualified).body,
        state: 'sent',
        attempts: 1,
      },
    ]);
    await settle();
    expect(movesOf(lead)).toHaveLength(1);
  });

  it('a deal in another pipeline, or already past the rule’s stage, is not moved: nothing written, the reason counted', async () => {
    const [otherBefore, backBefore] = [await notMoved('other_pipeline'), await notMoved('backward')];
    const [v1, v2] = [newVisitorId(), newVisitorId()];
    const other = await dealOf(v1, Q, QS.request);
    const ahead = await dealOf(v2, P, S.contract);
    await visit(v1, '/pricing');
    await visit(v2, '/pricing');
    await settle();
    expect(movesOf(other)).toEqual([]);
    expect(movesOf(ahead)).toEqual([]);
    expect(await messages(other)).toEqual([]);
    expect(await messages(ahead)).toEqual([]);
    expect(await notMoved('other_pipeline')).toBe(otherBefore + 1);
    expect(await notMoved('backward')).toBe(backBefore + 1);
  });

  it('a second matching visit within 10 minutes moves nothing: forward is too soon, the same rule is behind', async () => {
    const v = newVisitorId();
    const lead = await dealOf(v);
    await visit(v, '/pricing');
    await moved(lead);
    const [soonBefore, backBefore] = [await notMoved('too_soon'), await notMoved('backward')];
    // Forward of the stage it was moved to (3 Proposal), but within 10 minutes of the move.
    await visit(v, '/checkout');
    // The same rule: the deal counts as at 2 Qualified already (amoCRM's webhook has not reported it).
    await visit(v, '/pricing/faq');
    await settle();
    expect(movesOf(lead)).toEqual([patch(lead, S.qualified)]);
    expect(await messages(lead)).toHaveLength(1);
    expect(await notMoved('too_soon')).toBe(soonBefore + 1);
    expect(await notMoved('backward')).toBe(backBefore + 1);
  });

  it('a deal tied to the visitor only by an e-mail (a form lead) is moved, once the identity resolution ties them', async () => {
    const v = newVisitorId();
    await visit(v, '/contact', 'lead', { email: 'Anna.Trigger@Example.com' });
    await eventually(() => db.rows(`SELECT id_a FROM identity_links WHERE kind_b = 'email' AND id_a = '${v}'`));
    // The deal carries the e-mail, not the visitor id; the delivery asks for a resolution.
    const lead = await deal(P, S.request, [['601', 'email', 'anna.trigger@example.com']]);
    await eventually(() => db.rows(`SELECT visitor_id FROM attribution_members WHERE conv_key = 'deal:amo:${lead}' AND visitor_id = '${v}'`), 20_000);
    await visit(v, '/pricing');
    expect(await moved(lead)).toEqual([patch(lead, S.qualified)]);
  });

  it('a 500 is tried again until amoCRM takes the move', async () => {
    const v = newVisitorId();
    const lead = await dealOf(v);
    scripts.set(lead, [{ status: 500, json: { title: 'Internal Server Error' } }]);
    await visit(v, '/pricing');
    expect(await moved(lead, 2)).toEqual([patch(lead, S.qualified), patch(lead, S.qualified)]);
    expect(await eventually(() => messages(lead), 5000, (m) => m[0]?.state === 'sent')).toMatchObject([{ state: 'sent', attempts: 2 }]);
  });

  it('a 400 is not tried again: the move is failed, and listed with amoCRM’s answer', async () => {
    const v = newVisitorId();
    const lead = await dealOf(v);
    scripts.set(lead, [{ status: 400, json: { title: 'Bad Request', detail: 'status_id is not in the pipeline' } }]);
    await visit(v, '/pricing');
    expect(await moved(lead)).toEqual([patch(lead, S.qualified)]);
    await eventually(() => messages(lead), 5000, (m) => m[0]?.state === 'failed');
    // Longer than the first back-off: nothing more goes out.
    await sleep(2500);
    expect(movesOf(lead)).toHaveLength(1);
    const listed = (await outbox()).failed.find((m) => m.subject === `amo:${lead}`);
    expect(listed).toMatchObject({
      sender: 'amocrm_move',
      event: 'move',
      recipient: `${P}:${S.request}→${S.qualified}`,
      attempts: 1,
      reason: 'HTTP 400: {"title":"Bad Request","detail":"status_id is not in the pipeline"}',
    });
    expect((await outbox()).senders).toContainEqual({ name: 'amocrm_move', maxAgeHours: 1 });
  });

  it('a rule added to the CRM_CONFIG file is in force within CRM_CONFIG_REFRESH_SECONDS, without a restart', async () => {
    await writeFile(join(dir, 'crm.json'), JSON.stringify(crmConfig(api, [...RULES, { page: '/promo/*', pipeline: P, status: S.contract }])));
    const v = newVisitorId();
    const lead = await dealOf(v);
    await visit(v, '/promo/spring');
    expect(await moved(lead, 1, 10_000)).toEqual([patch(lead, S.contract)]);
  });

  it.skipIf(EMBEDDED_ENGINE)('a rule saved through PUT /crm/config on one collector is in force on another sharing the database', async () => {
    // (An embedded data directory is one process's: two collectors share a ClickHouse server only.)
    const other = await startCollector({ ...env, TRIGGER_SCAN_SECONDS: '0' });
    try {
      const config = (await (await fetch(`${other.url}/crm/config`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json()) as ReturnType<typeof crmConfig>;
      config.sources.amo.visitTriggers = [...config.sources.amo.visitTriggers, { page: '/sale', pipeline: P, status: S.proposal }];
      const put = await fetch(`${other.url}/crm/config`, { method: 'PUT', body: JSON.stringify(config), headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' } });
      expect(put.status).toBe(200);
      const v = newVisitorId();
      const lead = await dealOf(v);
      await visit(v, '/sale/');
      // The move is the first collector's: the other one runs no trigger.
      expect(await moved(lead, 1, 10_000)).toEqual([patch(lead, S.proposal)]);
    } finally {
      await other.stop();
    }
  });

  it('an access token amoCRM no longer takes is renewed with the refresh token, and the move sent again with the new one', async () => {
    accepted = RENEWED;
    const v = newVisitorId();
    const lead = await dealOf(v);
    const from = api.requests.length;
    await visit(v, '/pricing');
    expect(await moved(lead, 2)).toEqual([patch(lead, S.qualified), patch(lead, S.qualified, P, RENEWED)]);
    const renewal = api.requests.slice(from).filter((r) => r.path === '/oauth2/access_token');
    expect(renewal.map((r) => ({ ...shape(r, ['content-type']), body: JSON.parse(r.body) as unknown }))).toEqual([
      {
        method: 'POST',
        path: '/oauth2/access_token',
        headers: { 'content-type': 'application/json' },
        body: { client_id: 'client-1', client_secret: 'client-secret-1', grant_type: 'refresh_token', refresh_token: REFRESH, redirect_uri: 'https://collector.example/crm/amocrm/amo/oauth' },
      },
    ]);
    expect(await eventually(() => messages(lead), 5000, (m) => m[0]?.state === 'sent')).toMatchObject([{ state: 'sent', attempts: 1 }]);
  });

  it('after a SIGKILL, the visits looked at again move nothing twice', async () => {
    const v = newVisitorId();
    const lead = await dealOf(v);
    await visit(v, '/pricing');
    expect(await moved(lead)).toEqual([patch(lead, S.qualified, P, RENEWED)]);
    await eventually(() => messages(lead), 5000, (m) => m[0]?.state === 'sent');
    expect(await collector.stop('SIGKILL')).toBeNull();
    collector = await startCollector(env);
    // The start's sweep is a scan from where the last one ended, less its overlap: the visit is read again.
    const sweep = await eventually(async () => (await outbox()).sweep, 15_000, (s) => s?.looked.trigger !== undefined);
    expect(sweep?.looked.trigger).toBeGreaterThanOrEqual(1);
    await settle();
    expect(movesOf(lead)).toEqual([patch(lead, S.qualified, P, RENEWED)]);
    expect(await messages(lead)).toHaveLength(1);
  });
});

type Listed = { id: string; sender: string; subject: string; event: string; recipient: string; attempts: number; reason: string };
type OutboxAnswer = {
  senders: { name: string; maxAgeHours: number }[];
  sweep: { at: string; looked: Record<string, number> } | null;
  failed: Listed[];
};
