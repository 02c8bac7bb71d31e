// @vitest-environment jsdom
// Stage actions without ClickHouse: the webhook signature (against vectors
// computed with openssl, not with the code under test), the configuration's
// checks and their messages, when a deal enters a stage (repeats, skipped
// stages, back and forward, late deliveries), which actions an entry fires and
// under which step, when an action came into force, the exact bodies, the
// webhook sender's request, and the setup page's save keeping the actions.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS_PER_STAGE, ga4NameProblem, paramValueProblem } from '../../collector/src/crm/config/actions.js';
import { loadCrmConfig, type CrmConfig } from '../../collector/src/crm/config/schema.js';
import { configOfForm, FIELD, formOfConfig, readForm } from '../../collector/src/crm/setup/form.js';
import { setupPage, type SourcePanel } from '../../collector/src/crm/setup/page.js';
import { statusGroups } from '../../collector/src/crm/setup/statuses.js';
import { webhookUrls } from '../../collector/src/crm/setup/webhooks.js';
import { entriesOf, type Versioned } from '../../collector/src/outbound/actions/entries.js';
import { stageEventBody } from '../../collector/src/outbound/actions/ga4-event.js';
import { actionKey, actionsOf, firings, GA4_EVENT, WEBHOOK, type Action, type Clock, type Known, type Received } from '../../collector/src/outbound/actions/plan.js';
import { keysOfSaved, sinceOf } from '../../collector/src/outbound/actions/since.js';
import { sign, signatureHeader, verifySignature } from '../../collector/src/outbound/actions/signature.js';
import { NO_SECRET, webhookBody, webhookSender } from '../../collector/src/outbound/actions/webhook.js';
import type { Message } from '../../collector/src/outbound/outbox.js';

const SECRET = 'whsec_0123456789abcdefghijklmnopqrstuv';

describe('the webhook signature', () => {
  // printf '%s' '1700000000.{"type":"deal.stage_entered","id":"webhook:shop:A-1#17"}' | openssl dgst -sha256 -hmac "$SECRET" -hex
  const BODY = '{"type":"deal.stage_entered","id":"webhook:shop:A-1#17"}';
  const VECTOR = '93a51d7103791341dc97dfa4e7ed2bc47341bbffd898372552d764c2dd0f5497';
  // printf '%s' '1700000300.{"name":"Сделка №7"}' | openssl dgst -sha256 -hmac "$SECRET" -hex: the body's UTF-8 bytes are signed.
  const UTF8_VECTOR = 'dcf9b094a87a394f15e0338eacf8572b2baf3be3d50116cfa6efb0242b484505';

  it('is the hex HMAC-SHA256 of "<timestamp>.<body>", as openssl computes it', () => {
    expect(sign(SECRET, 1700000000, BODY)).toBe(VECTOR);
    expect(signatureHeader(SECRET, 1700000000, BODY)).toBe(`v1=${VECTOR}`);
    expect(sign(SECRET, 1700000300, '{"name":"Сделка №7"}')).toBe(UTF8_VECTOR);
    expect(sign(SECRET, '1700000300', Buffer.from('{"name":"Сделка №7"}'))).toBe(UTF8_VECTOR);
  });

  it('a receiver accepts it within 5 minutes either way, and names why it refuses', () => {
    const header = `v1=${VECTOR}`;
    expect(verifySignature(SECRET, '1700000000', BODY, header, 300, 1700000000)).toEqual({ ok: true });
    expect(verifySignature(SECRET, '1700000000', BODY, header, 300, 1700000300)).toEqual({ ok: true });
    expect(verifySignature(SECRET, '1700000000', BODY, header, 300, 1699999700)).toEqual({ ok: true });
    expect(verifySignature(SECRET, '1700000000', BODY, header, 300, 1700000301)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(SECRET, '1700000000', BODY, header, 300, 1699999699)).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(SECRET, '1700000000', BODY.replace('17', '18'), header, 300, 1700000000)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(`${SECRET}x`, '1700000000', BODY, header, 300, 1700000000)).toEqual({ ok: false, reason: 'mismatch' });
    // The timestamp is signed: another one with the same signature is refused.
    expect(verifySignature(SECRET, '1700000001', BODY, header, 300, 1700000000)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(SECRET, 1700000000, BODY, header.toUpperCase().replace('V1=', 'v1='), 300, 1700000000)).toEqual({ ok: true });
  });

  it('hostile headers are refused with a reason, never a crash', () => {
    const now = 1700000000;
    for (const ts of ['', 'abc', '1e9', ' 1700000000', '-1700000000', '1700000000.5', '9'.repeat(40), '17000\u00000000', undefined, null]) {
      expect(verifySignature(SECRET, ts, BODY, `v1=${VECTOR}`, 300, now)).toEqual({ ok: false, reason: expect.stringMatching(/^(bad_timestamp|stale)$/) });
    }
    for (const header of [undefined, null, '', 'v1=', `v0=${VECTOR}`, `v1=${VECTOR.slice(1)}`, `v1=${'z'.repeat(64)}`, 'v1=\u0000\ud800', ','.repeat(10_000)]) {
      expect(verifySignature(SECRET, '1700000000', BODY, header, 300, now)).toEqual({ ok: false, reason: 'no_signature' });
    }
  });

  it('one matching value among several is enough (a secret being rotated)', () => {
    const other = sign('another_secret_0123456789abcdefghij', 1700000000, BODY);
    expect(verifySignature(SECRET, '1700000000', BODY, `v1=${other}, v1=${VECTOR}`, 300, 1700000000)).toEqual({ ok: true });
    expect(verifySignature(SECRET, '1700000000', BODY, `v1=${other}`, 300, 1700000000)).toEqual({ ok: false, reason: 'mismatch' });
  });
});

const FUNNEL = [{ stage: '1 Request' }, { stage: '2 Qualified' }, { stage: '3 Proposal' }, { stage: 'Paid', marker: 'won' }, { stage: 'Refused', marker: 'lost' }];
const HOOK = { url: 'https://hooks.example.com/throughline', secret: SECRET };
const base = (stageActions: unknown) => ({ funnel: FUNNEL, stageActions });
/** The problems of a configuration, one per line ([] when it loads). */
function problems(value: unknown): string[] {
  try {
    loadCrmConfig(value);
    return [];
  } catch (err) {
    return (err as Error).message.split('\n');
  }
}
const one = (action: Record<string, unknown>) => problems(base([{ stage: '2 Qualified', ...action }]));

describe('the stageActions configuration', () => {
  it('loads a stage with a GA4 event and a webhook, parameters defaulting to none', () => {
    const config = loadCrmConfig(base([{ stage: '2 Qualified', ga4Event: { name: 'qualify_lead' }, webhook: HOOK }, { stage: '3 Proposal', ga4Event: { name: 'Предложение_1', params: { lead_source: 'crm', score: 7.5 } } }]));
    expect(config.raw.stageActions).toEqual([
      { stage: '2 Qualified', ga4Event: { name: 'qualify_lead', params: {} }, webhook: HOOK },
      { stage: '3 Proposal', ga4Event: { name: 'Предложение_1', params: { lead_source: 'crm', score: 7.5 } } },
    ]);
    expect(loadCrmConfig({ funnel: FUNNEL }).raw.stageActions).toEqual([]);
  });

  it('names the stage missing from the funnel, an action with nothing to do, and a key it does not know', () => {
    expect(problems(base([{ stage: 'Paid?', webhook: HOOK }]))).toEqual(['stageActions.0.stage: no stage "Paid?" in the funnel']);
    expect(one({})).toEqual(['stageActions.0: give a ga4Event, a webhook or both']);
    expect(one({ webhook: HOOK, email: 'x' })).toEqual([expect.stringMatching(/^stageActions\.0: .*email/)]);
    expect(one({ stage: 'a\u202eb', webhook: HOOK })).toEqual(['stageActions.0.stage: control and invisible format characters are not allowed']);
  });

  it('holds GA4 event names to GA4’s rules', () => {
    const name = (n: string) => one({ ga4Event: { name: n } });
    expect(name('a'.repeat(40))).toEqual([]);
    expect(name('a'.repeat(41))).toEqual(["stageActions.0.ga4Event.name: longer than 40 characters (GA4's limit on event names)"]);
    expect(name('')).toEqual(['stageActions.0.ga4Event.name: empty']);
    expect(name('1st_call')).toEqual(["stageActions.0.ga4Event.name: must start with a letter (GA4's rule for event names)"]);
    expect(name('_lead')).toEqual(["stageActions.0.ga4Event.name: must start with a letter (GA4's rule for event names)"]);
    expect(name('qualify-lead')).toEqual(["stageActions.0.ga4Event.name: letters, digits and _ only (GA4's rule for event names)"]);
    expect(name('qualify lead')).toEqual(["stageActions.0.ga4Event.name: letters, digits and _ only (GA4's rule for event names)"]);
    expect(name('page_view')).toEqual(['stageActions.0.ga4Event.name: "page_view" is a name GA4 reserves']);
    expect(name('session_start')).toEqual(['stageActions.0.ga4Event.name: "session_start" is a name GA4 reserves']);
    expect(name('ga_lead')).toEqual(['stageActions.0.ga4Event.name: the prefix "ga_" is reserved by GA4']);
    expect(name('Google_lead')).toEqual(['stageActions.0.ga4Event.name: the prefix "google_" is reserved by GA4']);
    expect(ga4NameProblem('lead\u0000', 'event')).toBe("letters, digits and _ only (GA4's rule for event names)");
  });

  it('holds parameters to GA4’s limits, leaving room for the three Throughline adds', () => {
    const params = (p: Record<string, unknown>) => one({ ga4Event: { name: 'qualify_lead', params: p } });
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
    expect(params(many(22))).toEqual([]);
    expect(params(many(23))).toEqual(['stageActions.0.ga4Event.params: at most 22 parameters: GA4 takes 25 per event, and Throughline adds deal_stage, value, currency']);
    expect(params({ value: 1 })).toEqual(['stageActions.0.ga4Event.params.value: set by Throughline on every stage event']);
    expect(params({ deal_stage: 'x' })).toEqual(['stageActions.0.ga4Event.params.deal_stage: set by Throughline on every stage event']);
    expect(params({ session_id: '1' })).toEqual(['stageActions.0.ga4Event.params.session_id: "session_id" is a name GA4 reserves']);
    expect(params({ firebase_x: '1' })).toEqual(['stageActions.0.ga4Event.params.firebase_x: the prefix "firebase_" is reserved by GA4']);
    expect(params({ ['p'.repeat(41)]: '1' })).toEqual([`stageActions.0.ga4Event.params.${'p'.repeat(41)}: longer than 40 characters (GA4's limit on parameter names)`]);
    expect(params({ note: 'x'.repeat(100) })).toEqual([]);
    expect(params({ note: 'x'.repeat(101) })).toEqual(["stageActions.0.ga4Event.params.note: longer than 100 characters (GA4's limit on parameter values)"]);
    expect(params({ note: 'a\u0007b' })).toEqual(['stageActions.0.ga4Event.params.note: control and invisible format characters are not allowed']);
    expect(params({ note: { nested: 1 } })).toEqual(['stageActions.0.ga4Event.params.note: a text or a number']);
    expect(params({ note: null })).toEqual(['stageActions.0.ga4Event.params.note: a text or a number']);
    expect(one({ ga4Event: { name: 'lead', params: ['x'] } })).toEqual(['stageActions.0.ga4Event.params: an object of parameter names and values']);
    expect(params({ big: 2 ** 60 })).toEqual([`stageActions.0.ga4Event.params.big: a number beyond ±${Number.MAX_SAFE_INTEGER}`]);
    // As parsed from a body: 1e400 is Infinity, `__proto__` an own key.
    const parsed = JSON.parse('{"funnel":[{"stage":"S"}],"stageActions":[{"stage":"S","ga4Event":{"name":"lead","params":{"__proto__":"x","huge":1e400}}}]}');
    expect(problems(parsed)).toEqual([
      "stageActions.0.ga4Event.params.__proto__: must start with a letter (GA4's rule for parameter names)",
      'stageActions.0.ga4Event.params.huge: not a finite number',
    ]);
    expect(paramValueProblem(Number.NaN)).toBe('not a finite number');
    // A lone surrogate anywhere is named before the schema runs.
    expect(params({ note: 'a\ud800' })).toEqual(['stageActions.0.ga4Event.params.note: not well-formed text (a lone surrogate)']);
  });

  it('holds the webhook to an http(s) URL without credentials and a secret of 32 printable characters', () => {
    const hook = (h: Record<string, unknown>) => one({ webhook: { ...HOOK, ...h } });
    expect(hook({ url: 'http://127.0.0.1:8080/hook?x=1' })).toEqual([]);
    expect(hook({ url: 'ftp://hooks.example.com/x' })).toEqual(['stageActions.0.webhook.url: an http(s) URL']);
    expect(hook({ url: 'hooks.example.com/x' })).toEqual(['stageActions.0.webhook.url: an http(s) URL']);
    expect(hook({ url: 'https://hooks.example.com/\nx' })).toEqual(['stageActions.0.webhook.url: control and invisible format characters are not allowed']);
    expect(hook({ url: 'https://user:pass@hooks.example.com/x' })).toEqual(['stageActions.0.webhook.url: no user or password in the URL: the receiver checks the signature instead']);
    expect(hook({ url: 'http://hooks.example.com:6000/x' })).toEqual(['stageActions.0.webhook.url: port 6000 is one the Fetch standard blocks (a "bad port"): no request would ever be made']);
    expect(hook({ url: `https://hooks.example.com/${'x'.repeat(2000)}` })).toEqual(['stageActions.0.webhook.url: at most 2000 characters']);
    expect(hook({ secret: 'x'.repeat(31) })).toEqual(['stageActions.0.webhook.secret: at least 32 characters']);
    expect(hook({ secret: `${'x'.repeat(31)} y` })).toEqual(['stageActions.0.webhook.secret: printable ASCII characters only, no spaces']);
    expect(hook({ secret: 'ж'.repeat(40) })).toEqual(['stageActions.0.webhook.secret: printable ASCII characters only, no spaces']);
    expect(hook({ secret: 'x'.repeat(257) })).toEqual(['stageActions.0.webhook.secret: at most 256 characters']);
  });

  it('refuses the same event or URL twice on a stage, and more actions of a kind than a stage has steps for', () => {
    expect(
      problems(base([{ stage: '2 Qualified', ga4Event: { name: 'lead' }, webhook: HOOK }, { stage: '2 Qualified', ga4Event: { name: 'lead' } }, { stage: '2 Qualified', webhook: { ...HOOK, secret: `${SECRET}2` } }])),
    ).toEqual([
      'stageActions.1.ga4Event: stage "2 Qualified" already has a GA4 event "lead" (stageActions.0)',
      'stageActions.2.webhook: stage "2 Qualified" already has a webhook "https://hooks.example.com/throughline" (stageActions.0)',
    ]);
    // The same event on two stages is two actions.
    expect(problems(base([{ stage: '2 Qualified', ga4Event: { name: 'lead' } }, { stage: '3 Proposal', ga4Event: { name: 'lead' } }]))).toEqual([]);
    const hooks = (n: number) => Array.from({ length: n }, (_, i) => ({ stage: '2 Qualified', webhook: { ...HOOK, url: `${HOOK.url}/${i}` } }));
    expect(problems(base(hooks(ACTIONS_PER_STAGE)))).toEqual([]);
    expect(problems(base(hooks(ACTIONS_PER_STAGE + 1)))).toEqual([`stageActions.16.webhook: stage "2 Qualified" has more than ${ACTIONS_PER_STAGE} actions of this kind`]);
    expect(problems(base(hooks(101)))).toEqual(['stageActions: at most 100 stage actions']);
  });
});

/** A deal history: one version per stage given, versions 10, 20, …, received at 1000, 1010, …. */
const history = (...stages: string[]): (Versioned & Received)[] =>
  stages.map((stage, i) => ({ version: 10 * (i + 1), stage, receivedAt: 1000 + 10 * i, deleted: false }));

describe('entering a stage', () => {
  it('the first version enters its stage; an edit inside the stage enters nothing', () => {
    expect(entriesOf(history('A', 'A', 'B', 'B', 'B'))).toEqual([
      { ordinal: 1, row: expect.objectContaining({ version: 10 }), previousStage: null, first: 10, last: 20 },
      { ordinal: 2, row: expect.objectContaining({ version: 30 }), previousStage: 'A', first: 30, last: 50 },
    ]);
  });

  it('a skipped stage is never entered', () => {
    expect(entriesOf(history('A', 'C')).map((e) => [e.row.stage, e.previousStage])).toEqual([
      ['A', null],
      ['C', 'A'],
    ]);
  });

  it('moved back and forward, each arrival is an entry of its own', () => {
    expect(entriesOf(history('A', 'B', 'A', 'B', 'B')).map((e) => [e.ordinal, e.row.stage, e.first, e.last])).toEqual([
      [1, 'A', 10, 10],
      [2, 'B', 20, 20],
      [3, 'A', 30, 30],
      [4, 'B', 40, 50],
    ]);
  });

  it('a status mapped to no stage enters nothing, and the stage after it is entered again', () => {
    expect(entriesOf(history('A', '', 'A', '')).map((e) => [e.ordinal, e.row.stage, e.previousStage])).toEqual([
      [1, 'A', null],
      [2, 'A', ''],
    ]);
    expect(entriesOf([])).toEqual([]);
  });
});

const ACTIONS = actionsOf(
  loadCrmConfig({
    funnel: [{ stage: 'A' }, { stage: 'B' }, { stage: 'C' }],
    stageActions: [
      { stage: 'B', ga4Event: { name: 'b_event' }, webhook: HOOK },
      { stage: 'B', webhook: { ...HOOK, url: `${HOOK.url}/2` } },
      { stage: 'C', webhook: HOOK },
    ],
  }).raw.stageActions,
);
const since = (at: number) => new Map(ACTIONS.map((a) => [a.key, at]));
const clock = (over: Partial<Clock> = {}): Clock => ({ now: 2000, since: since(0), window: { [GA4_EVENT]: 10_000, [WEBHOOK]: 10_000 }, ...over });
/** A message in the outbox for a firing: what the planner writes. */
const knownOf = (action: Action, step: number, basis: number): Known => ({
  sender: action.sender,
  step,
  basis,
  event: action.sender === GA4_EVENT ? action.event.name : 'deal.stage_entered',
  reference: action.stage,
  recipient: action.sender === WEBHOOK ? action.webhook.url : 'cid.1',
});
const fired = (list: ReturnType<typeof firings>) => list.map((f) => [f.action.sender, f.action.stage, f.action.slot, f.entry.first, f.step]);

describe('what an entry fires', () => {
  it('each action of the stage entered, in slots of their kind, under ordinal × 16 + slot', () => {
    expect(ACTIONS.map((a) => [a.sender, a.stage, a.slot])).toEqual([
      [GA4_EVENT, 'B', 0],
      [WEBHOOK, 'B', 0],
      [WEBHOOK, 'B', 1],
      [WEBHOOK, 'C', 0],
    ]);
    expect(fired(firings(entriesOf(history('A', 'B', 'C')), ACTIONS, [], clock()))).toEqual([
      [GA4_EVENT, 'B', 0, 20, 2 * ACTIONS_PER_STAGE],
      [WEBHOOK, 'B', 0, 20, 2 * ACTIONS_PER_STAGE],
      [WEBHOOK, 'B', 1, 20, 2 * ACTIONS_PER_STAGE + 1],
      [WEBHOOK, 'C', 0, 30, 3 * ACTIONS_PER_STAGE],
    ]);
  });

  it('a repeated delivery, an edit inside the stage or a plan made again fires nothing new', () => {
    const entries = entriesOf(history('A', 'B'));
    const first = firings(entries, ACTIONS, [], clock());
    const known = first.map((f) => knownOf(f.action, f.step, f.entry.first));
    expect(firings(entries, ACTIONS, known, clock())).toEqual([]);
    expect(firings(entriesOf(history('A', 'B', 'B', 'B')), ACTIONS, known, clock())).toEqual([]);
  });

  it('moved back and forward: each entry fires again, under later steps', () => {
    const entries = entriesOf(history('A', 'B', 'A', 'B'));
    const known = [knownOf(ACTIONS[1]!, 32, 20)];
    expect(fired(firings(entries, ACTIONS.filter((a) => a.sender === WEBHOOK && a.slot === 0), known, clock()))).toEqual([[WEBHOOK, 'B', 0, 40, 4 * ACTIONS_PER_STAGE]]);
  });

  it('a change delivered late that moves the start of a stay keeps the message planned from it', () => {
    // B was entered at version 30 and fired; version 25 (also B) arrives later: the stay now starts at 25.
    const late = [...history('A'), { version: 25, stage: 'B', receivedAt: 1500, deleted: false }, { version: 30, stage: 'B', receivedAt: 1020, deleted: false }];
    const webhook = ACTIONS.filter((a) => a.sender === WEBHOOK && a.stage === 'B' && a.slot === 0);
    expect(firings(entriesOf(late), webhook, [knownOf(webhook[0]!, 32, 30)], clock())).toEqual([]);
  });

  it('a step already taken by another message goes past every step taken', () => {
    const webhook = ACTIONS.filter((a) => a.sender === WEBHOOK && a.stage === 'C');
    // A C entered at 30 was planned under step 48; a late version makes the deal enter B first, and C gets ordinal 3.
    const entries = entriesOf(history('A', 'B', 'C', 'B', 'C'));
    const known = [knownOf(webhook[0]!, 3 * ACTIONS_PER_STAGE, 30), knownOf(ACTIONS[1]!, 5 * ACTIONS_PER_STAGE, 999)];
    expect(fired(firings(entries, webhook, known, clock()))).toEqual([[WEBHOOK, 'C', 0, 50, 5 * ACTIONS_PER_STAGE + 1]]);
  });

  it('an entry received before its action came into force, or before the window, or of a deleted deal, fires nothing', () => {
    const entries = entriesOf(history('A', 'B', 'C'));
    // B received at 1010, C at 1020: an action in force from 1015 fires for C only.
    expect(fired(firings(entries, ACTIONS, [], clock({ since: since(1015) })))).toEqual([[WEBHOOK, 'C', 0, 30, 48]]);
    expect(fired(firings(entries, ACTIONS, [], clock({ since: since(1010) }))).map((f) => f[3])).toEqual([20, 20, 20, 30]);
    // An action whose time is unknown (not in the map) fires nothing.
    expect(firings(entries, ACTIONS, [], clock({ since: new Map() }))).toEqual([]);
    // The window: 2000 - 985 = 1015.
    expect(fired(firings(entries, ACTIONS, [], clock({ window: { [GA4_EVENT]: 985, [WEBHOOK]: 985 } })))).toEqual([[WEBHOOK, 'C', 0, 30, 48]]);
    const deleted = history('A', 'B').map((v, i) => ({ ...v, deleted: i === 1 }));
    expect(firings(entriesOf(deleted), ACTIONS, [], clock())).toEqual([]);
  });
});

describe('when an action came into force', () => {
  const key = actionKey('B', WEBHOOK, HOOK.url);
  const saved = (at: number, ...keys: string[]) => ({ at, keys: new Set(keys) });

  it('the oldest save of the unbroken run of the newest saves that have it', () => {
    expect(sinceOf([key], [saved(300, key), saved(200, key), saved(100), saved(50, key)], null, new Map([[key, 400]]))).toEqual(new Map([[key, 200]]));
    // A file older than the newest save is not the configuration in force.
    expect(sinceOf([key], [saved(300, key), saved(200, key)], saved(250, key), new Map([[key, 400]]))).toEqual(new Map([[key, 200]]));
  });

  it('the CRM_CONFIG file’s time when it is newer than every save (a start puts it in force)', () => {
    expect(sinceOf([key], [saved(300)], saved(350, key), new Map([[key, 400]]))).toEqual(new Map([[key, 350]]));
    expect(sinceOf([key], [], saved(100, key), new Map([[key, 400]]))).toEqual(new Map([[key, 100]]));
  });

  it('when neither has it (changed since), when this process first saw it; else the earlier of both', () => {
    expect(sinceOf([key], [saved(300), saved(200, key)], null, new Map([[key, 400]]))).toEqual(new Map([[key, 400]]));
    expect(sinceOf([key], [saved(300)], saved(350), new Map([[key, 400]]))).toEqual(new Map([[key, 400]]));
    expect(sinceOf([key], [saved(300, key)], null, new Map([[key, 250]]))).toEqual(new Map([[key, 250]]));
    expect(sinceOf([key], [], null, new Map())).toEqual(new Map());
  });

  it('reads the keys of a saved body, and nothing from one that is not a configuration', () => {
    const body = JSON.stringify({ funnel: [], stageActions: [{ stage: 'B', ga4Event: { name: 'b_event', params: {} }, webhook: HOOK }] });
    expect(keysOfSaved(body)).toEqual(new Set([actionKey('B', GA4_EVENT, 'b_event'), key]));
    for (const junk of ['', 'null', '{', '[]', '{"stageActions":{}}', '{"stageActions":[null,1,{"stage":3}]}']) expect(keysOfSaved(junk)).toEqual(new Set());
  });
});

describe('the bodies', () => {
  it('the webhook: the deal as it entered, no personal data', () => {
    const body = webhookBody('webhook:shop:A-1#33', 1717232400, {
      source: 'shop',
      id: 'A-1',
      name: 'Order "7"',
      pipeline: 'shop',
      status: 'qualified',
      stage: '2 Qualified',
      previousStage: null,
      outcome: 'open',
      amount: 2499.9,
      currency: 'RUB',
    });
    expect(body).toBe(
      '{"type":"deal.stage_entered","id":"webhook:shop:A-1#33","occurredAt":"2024-06-01T09:00:00.000Z","deal":{"source":"shop","id":"A-1","name":"Order \\"7\\"","pipeline":"shop","status":"qualified","stage":"2 Qualified","previousStage":null,"outcome":"open","amount":2499.9,"currency":"RUB"}}',
    );
  });

  it('the GA4 event: the configured parameters, the stage, and the amount when the deal has one', () => {
    const e = { clientId: '908899769.1600020018', eventAt: 1717232400, name: 'qualify_lead', params: { lead_source: 'crm', score: 3 }, stage: '2 Qualified', currency: 'RUB' };
    expect(JSON.parse(stageEventBody({ ...e, amountMinor: 249990 }))).toEqual({
      client_id: '908899769.1600020018',
      timestamp_micros: 1717232400000000,
      events: [{ name: 'qualify_lead', params: { lead_source: 'crm', score: 3, deal_stage: '2 Qualified', value: 2499.9, currency: 'RUB' } }],
    });
    expect(JSON.parse(stageEventBody({ ...e, amountMinor: 0 })).events[0].params).toEqual({ lead_source: 'crm', score: 3, deal_stage: '2 Qualified' });
  });
});

describe('the webhook sender', () => {
  type Got = { headers: IncomingHttpHeaders; body: string; path: string };
  const got: Got[] = [];
  let status = 200;
  let server: Server;
  let url = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ headers: req.headers, body, path: req.url ?? '' });
        if (status === 302) res.writeHead(302, { Location: `${url}/elsewhere` }).end();
        else res.writeHead(status).end(status === 200 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = server.address();
    url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const message = (over: Partial<Message> = {}): Message => ({
    sender: WEBHOOK,
    id: 'webhook:shop:A-1#32',
    subject: 'shop:A-1',
    step: 32,
    basis: 20,
    event: 'deal.stage_entered',
    reference: 'B',
    recipient: `${url}/hook`,
    valueMinor: 0,
    currency: 'RUB',
    body: '{"type":"deal.stage_entered","id":"webhook:shop:A-1#32"}',
    eventAt: 1700000000,
    createdAt: 1700000000,
    state: 'pending',
    attempts: 0,
    nextAt: 1700000000,
    answer: '',
    revision: 0,
    ...over,
  });

  it('POSTs the stored body with the timestamp of the attempt, its signature and the message id', async () => {
    got.length = 0;
    status = 200;
    const sender = webhookSender(() => SECRET, () => 1700000123_000);
    expect(await sender.send(message())).toEqual({ kind: 'sent' });
    expect(got).toHaveLength(1);
    const { headers, body, path } = got[0]!;
    expect(path).toBe('/hook');
    expect(body).toBe(message().body);
    expect(headers['content-type']).toBe('application/json');
    expect(headers['throughline-timestamp']).toBe('1700000123');
    expect(headers['throughline-message-id']).toBe('webhook:shop:A-1#32');
    // Recomputed here with node:crypto directly, not with the module under test.
    const expected = createHmac('sha256', SECRET).update(`1700000123.${body}`).digest('hex');
    expect(headers['throughline-signature']).toBe(`v1=${expected}`);
    expect(JSON.stringify(headers)).not.toContain(SECRET);
  });

  it('judges the answer: 5xx tried again, 4xx and a redirect refused (not followed), a removed action not sent', async () => {
    got.length = 0;
    const sender = webhookSender((m) => (m.reference === 'B' ? SECRET : null));
    status = 503;
    expect(await sender.send(message())).toEqual({ kind: 'retry', answer: 'HTTP 503: nope' });
    status = 400;
    expect(await sender.send(message())).toEqual({ kind: 'failed', answer: 'HTTP 400: nope' });
    status = 302;
    expect(await sender.send(message())).toEqual({ kind: 'failed', answer: 'HTTP 302' });
    expect(got.map((g) => g.path)).toEqual(['/hook', '/hook', '/hook']);
    expect(await sender.send(message({ reference: 'C' }))).toEqual({ kind: 'failed', answer: NO_SECRET });
    expect(got).toHaveLength(3);
    // A port nothing listens on: tried again, and the answer names no URL.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await sender.send(message({ recipient: `http://127.0.0.1:${port}/hook` }))).toEqual({ kind: 'retry', answer: 'network error: ECONNREFUSED' });
  });
});

describe('the setup page’s save', () => {
  const CONFIG: CrmConfig = loadCrmConfig({
    funnel: [{ stage: 'Request' }, { stage: 'Qualified' }, { stage: 'Won', marker: 'won' }],
    sources: { shop: { kind: 'import', secret: 'shop_secret_0123456789ab', pipelines: { shop: { new: 'Request', qualified: 'Qualified', paid: 'Won' } } } },
    stageActions: [
      { stage: 'Qualified', ga4Event: { name: 'qualify_lead', params: { lead_source: 'crm' } }, webhook: HOOK },
      { stage: 'Won', webhook: { ...HOOK, url: `${HOOK.url}/won` } },
    ],
  }).raw;
  const panels = (config: CrmConfig): SourcePanel[] =>
    Object.entries(config.sources).map(([id, src]) => ({
      id,
      kind: src.kind,
      lists: { api: false, vendor: null, problem: null },
      groups: statusGroups(src, null, []),
      webhooks: webhookUrls('http://crm.test:8080', id, src),
    }));
  /** The page's form as a browser posts it, after `edit`. */
  const posted = (edit: (form: HTMLFormElement) => void = () => {}) => {
    const html = setupPage({ lang: 'en', formToken: 'tok', saved: false, problems: [], form: formOfConfig(CONFIG), panels: panels(CONFIG), deliveries: [] });
    const form = new DOMParser().parseFromString(html, 'text/html').getElementById('setup') as HTMLFormElement;
    edit(form);
    return new URLSearchParams([...new FormData(form)].map(([k, v]) => [k, String(v)]));
  };
  const field = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as HTMLInputElement;

  it('keeps the stage actions, secrets included, which the form never shows', () => {
    const pairs = posted();
    const made = configOfForm(CONFIG, readForm(pairs));
    expect(made.problems).toEqual([]);
    expect(made.value.stageActions).toEqual(CONFIG.stageActions);
    expect(made.value).toEqual(CONFIG);
    expect([...pairs.values()].join('\n')).not.toContain(SECRET);
  });

  it('a stage renamed takes its actions along; a stage removed leaves them for the check to name', () => {
    const renamed = configOfForm(CONFIG, readForm(posted((f) => (field(f, FIELD.stage('1', 'name')).value = 'Qualified lead'))));
    expect(renamed.value.stageActions.map((a) => a.stage)).toEqual(['Qualified lead', 'Won']);
    expect(loadCrmConfig(renamed.value).raw.stageActions[0]!.webhook).toEqual(HOOK);
    const removed = configOfForm(CONFIG, readForm(posted((f) => (field(f, FIELD.stage('1', 'remove')).checked = true))));
    expect(problems(removed.value)).toContain('stageActions.0.stage: no stage "Qualified" in the funnel');
  });
});
