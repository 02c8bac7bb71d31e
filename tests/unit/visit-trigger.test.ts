// The site-visit trigger's rules without ClickHouse: which pages a pattern
// matches (stars, trailing slashes, percent-encoding, hostile paths), the SQL
// narrowing that must let through every URL the exact match takes, the decision
// (forward only, same pipeline, open deals only, 10 minutes between moves, with
// a clock of the test's own), the move's request body, the configuration's
// checks with their messages, the setup form keeping the rules, and the
// TRIGGER_SCAN_SECONDS / CRM_CONFIG_REFRESH_SECONDS variables.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../collector/src/config.js';
import { loadCrmConfig, type Stage } from '../../collector/src/crm/config/schema.js';
import { configOfForm, formOfConfig } from '../../collector/src/crm/setup/form.js';
import { decide, moveInForce, moveRecipient, moveReference, movedTo, type DealNow, type MatchedRule, type MoveEntry, type StageOf } from '../../collector/src/outbound/trigger/decide.js';
import { compilePattern, decodePercent, matchesPath, pagePath, sqlPathRegex } from '../../collector/src/outbound/trigger/pattern.js';
import { rulesInForce } from '../../collector/src/outbound/trigger/rules.js';
import { AMOCRM_MOVE, moveBody, moveSender } from '../../collector/src/outbound/trigger/sender.js';
import { TriggerPlanner } from '../../collector/src/outbound/trigger/planner.js';
import { createMetrics } from '../../collector/src/metrics/registry.js';
import type { ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import type { Outbox } from '../../collector/src/outbound/outbox.js';
import { pino } from 'pino';
import { messageId, type Message } from '../../collector/src/outbound/outbox.js';
import type { Crm } from '../../collector/src/crm/service.js';

const matches = (pattern: string, url: string) => matchesPath(compilePattern(pattern), pagePath(url));
const page = (path: string) => `https://shop.example${path}`;

describe('page patterns', () => {
  it('match the path only: no host, no query, no fragment', () => {
    expect(pagePath('https://shop.example/pricing/plans?utm_source=x#top')).toBe('/pricing/plans');
    expect(pagePath('http://user:pw@shop.example:8080/pricing')).toBe('/pricing');
    expect(pagePath('https://shop.example')).toBe('');
    expect(pagePath('https://shop.example?x=/pricing')).toBe('');
    expect(pagePath('https://shop.example#/pricing')).toBe('');
    expect(matches('/pricing', 'https://pricing.example/?p=/pricing')).toBe(false);
    expect(matches('/pricing', page('/pricing?plan=pro#faq'))).toBe(true);
  });

  it('`*` is any run of characters, slashes included; paths are case-sensitive', () => {
    for (const path of ['/pricing', '/pricing/', '/pricing/plans/pro', '/pricing-old']) expect(matches('/pricing*', page(path))).toBe(true);
    for (const path of ['/Pricing', '/price', '/en/pricing', '/']) expect(matches('/pricing*', page(path))).toBe(false);
    expect(matches('*', page('/anything/at/all'))).toBe(true);
    expect(matches('*/pricing', page('/en/pricing'))).toBe(true);
    expect(matches('/shop/*/buy', page('/shop/a/b/buy'))).toBe(true);
    expect(matches('/shop/*/buy', page('/shop/buy'))).toBe(false);
    expect(matches('/a*b*a', page('/aba'))).toBe(true);
    expect(matches('/a*b*a', page('/ab'))).toBe(false);
    expect(matches('/**', page('/x'))).toBe(true);
  });

  it('a trailing slash is ignored, on either side', () => {
    expect(matches('/checkout/', page('/checkout'))).toBe(true);
    expect(matches('/checkout/', page('/checkout/'))).toBe(true);
    expect(matches('/checkout', page('/checkout/'))).toBe(true);
    expect(matches('/checkout/', page('/checkout/x'))).toBe(false);
    expect(matches('/pricing/*', page('/pricing'))).toBe(true);
    expect(matches('/', page(''))).toBe(true);
    expect(matches('/', page('/'))).toBe(true);
    expect(matches('/', page('/x'))).toBe(false);
  });

  it('percent-encoding: the path and the pattern are compared decoded, either case of hex digits', () => {
    for (const path of ['/%D1%86%D0%B5%D0%BD%D1%8B', '/%d1%86%d0%b5%d0%bd%d1%8b/', '/цены', '/ц%D0%B5ны/opt']) expect(matches('/цены*', page(path))).toBe(true);
    expect(matches('/%D1%86%D0%B5%D0%BD%D1%8B', page('/цены'))).toBe(true);
    expect(matches('/x%2Fy', page('/x/y'))).toBe(true);
    expect(matches('/x/y', page('/x%2fy'))).toBe(true);
    // %2A in a pattern is an asterisk, not a wildcard.
    expect(matches('/a%2Ab', page('/a*b'))).toBe(true);
    expect(matches('/a%2Ab', page('/a%2ab'))).toBe(true);
    expect(matches('/a%2Ab', page('/axb'))).toBe(false);
    expect(matches('/100%25', page('/100%'))).toBe(true);
  });

  it('hostile paths: escapes that are not UTF-8 stay as written, nothing throws', () => {
    expect(decodePercent('/%E0%A4%A')).toBe('/%E0%A4%A');
    expect(decodePercent('/%ED%A0%80x')).toBe('/%ED%A0%80x'); // a lone surrogate
    expect(decodePercent('/%C0%AFx')).toBe('/%C0%AFx'); // an overlong `/`
    expect(decodePercent('/%FF%D1%86%')).toBe('/%FFц%');
    expect(decodePercent('/%ZZ%4')).toBe('/%ZZ%4');
    expect(decodePercent('/%00%0A')).toBe('/\u0000\n');
    expect(matches('/%ED%A0%80*', page('/%ED%A0%80x'))).toBe(true);
    expect(matches('/pricing*', page('/%ED%A0%80pricing'))).toBe(false);
    expect(matches('/pricing*', 'https://shop.example\\pricing')).toBe(false);
    const long = `/${'a*'.repeat(240)}`;
    expect(matches(long, page(`/${'a'.repeat(4000)}`))).toBe(true);
    expect(matches(long, page(`/${'a'.repeat(100)}`))).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ maxLength: 60 }), (url, pattern) => {
        decodePercent(url);
        return typeof matchesPath(compilePattern(`/${pattern}`), pagePath(`https://x.example/${url}`)) === 'boolean';
      }),
    );
  });
});

describe('the SQL narrowing of the URLs', () => {
  /** What ClickHouse's match() does with these expressions, for the subset they use (RE2 and JavaScript agree on it). */
  const narrowed = (patterns: string[], url: string) => new RegExp(sqlPathRegex(patterns.map(compilePattern))!).test(url);

  it('lets through every URL the exact match takes, whatever its encoding', () => {
    const token = fc.constantFrom('/', 'a', 'b', 'ц', '%D1%86', '%d1%86', '%2F', '%2f', '%', '%25', '%E0', '-', '.', "'", '\\', 'A');
    const text = (n: number) => fc.array(token, { maxLength: n }).map((t) => t.join(''));
    const patternText = fc.array(fc.oneof(token, fc.constant('*')), { minLength: 1, maxLength: 8 }).map((t) => `/${t.join('')}`);
    fc.assert(
      fc.property(patternText, text(12), fc.constantFrom('', '?q=1', '#f', '/'), (pattern, path, tail) => {
        const url = `https://shop.example/${path}${tail}`;
        if (!matches(pattern, url)) return true;
        return sqlPathRegex([compilePattern(pattern)]) === null || narrowed([pattern], url);
      }),
      { numRuns: 3000 },
    );
  });

  it('narrows by the leading text, anchored at the end for a pattern without a star', () => {
    expect(narrowed(['/pricing*'], page('/pricing/x'))).toBe(true);
    expect(narrowed(['/pricing*'], page('/about'))).toBe(false);
    expect(narrowed(['/checkout/'], page('/checkout?x'))).toBe(true);
    expect(narrowed(['/checkout/'], page('/checkout/more'))).toBe(false);
    expect(narrowed(['/pricing*', '/checkout/'], page('/checkout'))).toBe(true);
    expect(narrowed(['/pricing*'], 'https://shop.example/about?next=/pricing')).toBe(false);
  });

  it('needs none when a pattern begins with a star; spells every character as \\xHH or an escape', () => {
    expect(sqlPathRegex([compilePattern('/pricing*'), compilePattern('*')])).toBeNull();
    expect(sqlPathRegex([compilePattern('/*')])).toBeNull();
    expect(sqlPathRegex([compilePattern("/a'")])).toBe("^[^:]*:[/\\\\]*[^/\\\\?#]*(?:(?:\\x2f|%2[Ff])(?:\\x61|%61)(?:\\x27|%27)(?:\\x2f|%2[Ff])*(?:[?#]|$))");
  });
});

const stage = (name: string, index: number, marker: Stage['marker'] = null): Stage => ({ name, index, marker });
const STAGES: Record<string, Stage> = {
  '101': stage('1 Request', 1),
  '102': stage('2 Qualified', 2),
  '103': stage('3 Proposal', 3),
  '104': stage('4 Contract', 4),
  '142': stage('Won', 5, 'won'),
  '143': stage('Lost', 6, 'lost'),
};
const stageOf: StageOf = (pipeline, status) => (pipeline === 'P' ? (STAGES[status] ?? null) : status === '901' ? stage('1 Request', 1) : null);
const rule = (index: number, status: string, pipeline = 'P'): MatchedRule => ({ index, page: `/page-${index}*`, pipeline, status, stage: STAGES[status] ?? stage('?', 0) });

const NOW = 1_750_000_000;
const SUBJECT = 'amo:1001';
const open = (over: Partial<DealNow> = {}): DealNow => ({ subject: SUBJECT, pipeline: 'P', status: '101', outcome: 'open', deleted: false, receivedAt: NOW - 3600, ...over });
const visit = (at = NOW - 5, eventId = `hit-${at}`) => ({ id: messageId(AMOCRM_MOVE, SUBJECT, at), at, eventId });
const move = (at: number, to: string, state: MoveEntry['state'] = 'sent', createdAt = at + 2, from = '101', eventId = `hit-${at}`): MoveEntry => ({
  id: messageId(AMOCRM_MOVE, SUBJECT, at),
  reference: moveReference(0, '/page-0*', eventId),
  state,
  eventAt: at,
  createdAt,
  recipient: moveRecipient('P', from, to),
});

describe('the decision', () => {
  it('an open deal at an early stage of the pipeline moves forward to the rule’s status', () => {
    expect(decide({ deal: open(), rules: [rule(0, '102')], moves: [], visit: visit(), now: NOW, stageOf })).toEqual({ kind: 'move', rule: rule(0, '102'), from: '101' });
  });

  it('never backward, nor to the stage it is at', () => {
    expect(decide({ deal: open({ status: '104' }), rules: [rule(0, '102')], moves: [], visit: visit(), now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'backward' });
    expect(decide({ deal: open({ status: '102' }), rules: [rule(0, '102')], moves: [], visit: visit(), now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'backward' });
  });

  it('never to another pipeline', () => {
    expect(decide({ deal: open({ pipeline: 'Q', status: '901' }), rules: [rule(0, '102')], moves: [], visit: visit(), now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'other_pipeline' });
  });

  it('only open deals, not deleted ones', () => {
    for (const over of [{ outcome: 'won', status: '142' }, { outcome: 'lost', status: '143' }, { outcome: 'paused' }, { outcome: 'returned' }, { deleted: true }]) {
      expect(decide({ deal: open(over), rules: [rule(0, '102')], moves: [], visit: visit(), now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'closed' });
    }
  });

  it('a deal whose status has no stage is not moved: forward cannot be told', () => {
    expect(decide({ deal: open({ status: '555' }), rules: [rule(0, '102')], moves: [], visit: visit(), now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'unmapped_status' });
  });

  it('of several rules, the one furthest forward; of two at one stage, the first listed', () => {
    const rules = [rule(0, '102'), rule(1, '104'), rule(2, '103'), rule(3, '104')];
    expect(decide({ deal: open(), rules, moves: [], visit: visit(), now: NOW, stageOf })).toMatchObject({ kind: 'move', rule: { index: 1, status: '104' } });
  });

  it('at most one move per 10 minutes, by an injected clock: of now, and of the visit', () => {
    const rules = [rule(0, '103')];
    // Moved to 2 Qualified by a visit at t; the deal is still at 1 Request in the store.
    const t = NOW - 1000;
    const at = (now: number, visitAt: number, m: MoveEntry) => decide({ deal: open(), rules, moves: [m], visit: visit(visitAt), now, stageOf });
    expect(at(t + 599, t + 599, move(t, '102', 'sent', t))).toEqual({ kind: 'not_moved', reason: 'too_soon' });
    expect(at(t + 600, t + 600, move(t, '102', 'sent', t))).toMatchObject({ kind: 'move', from: '102' });
    // Pending counts as made; failed and too_old never reached amoCRM.
    expect(at(t + 10, t + 10, move(t, '102', 'pending', t))).toEqual({ kind: 'not_moved', reason: 'too_soon' });
    expect(at(t + 10, t + 10, move(t, '102', 'failed', t))).toMatchObject({ kind: 'move', from: '101' });
    expect(at(t + 10, t + 10, move(t, '102', 'too_old', t))).toMatchObject({ kind: 'move', from: '101' });
    // Decided late (a scan catching up): a move written just now is within 10 minutes, whatever its visit's time.
    expect(at(t + 700, t + 650, move(t, '102', 'sent', t + 200))).toEqual({ kind: 'not_moved', reason: 'too_soon' });
    // Two visits 5 minutes apart decided together after an outage: the second is too soon by their times.
    expect(at(t + 2000, t + 300, move(t, '102', 'pending', t + 1990))).toEqual({ kind: 'not_moved', reason: 'too_soon' });
  });

  it('after a move, the deal counts as at the moved-to status until the CRM reports a newer one', () => {
    const t = NOW - 3000;
    const moved = move(t, '102', 'sent', t);
    // The same rule again, well after 10 minutes: the deal is at 2 Qualified already.
    expect(decide({ deal: open({ receivedAt: t - 100 }), rules: [rule(0, '102')], moves: [moved], visit: visit(NOW - 5), now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'backward' });
    expect(moveInForce(open({ receivedAt: t - 100 }), [moved])).toBe(moved);
    // amoCRM then reported the deal back at 1 Request (a manager moved it back): the visit moves it again.
    const back = open({ receivedAt: t + 500 });
    expect(moveInForce(back, [moved])).toBeNull();
    expect(decide({ deal: back, rules: [rule(0, '102')], moves: [moved], visit: visit(NOW - 5), now: NOW, stageOf })).toMatchObject({ kind: 'move', from: '101' });
    // Moved to won: closed from then on.
    expect(decide({ deal: open({ receivedAt: t - 100 }), rules: [rule(0, '104')], moves: [move(t, '142', 'sent', t)], visit: visit(), now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'closed' });
  });

  it('the message of this visit and deal written already (an overlapping scan, a restart): nothing, not counted', () => {
    const v = visit(NOW - 30);
    expect(decide({ deal: open(), rules: [rule(0, '102')], moves: [move(NOW - 30, '102', 'failed', NOW - 28)], visit: v, now: NOW, stageOf })).toEqual({ kind: 'planned' });
  });

  it('another visit in the second of a move (its message id taken) is decided, and held as too soon', () => {
    // The first visit's move, then a second visit of a page further on, arriving in the same second.
    const first = move(NOW - 30, '102', 'sent', NOW - 29, '101', 'hit-a');
    const second = visit(NOW - 30, 'hit-b');
    expect(decide({ deal: open(), rules: [rule(1, '103')], moves: [first], visit: second, now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'too_soon' });
    // Even when that move never reached amoCRM: the second's message id is the first's, so it cannot be written.
    const failed = move(NOW - 30, '102', 'failed', NOW - 29, '101', 'hit-a');
    expect(decide({ deal: open(), rules: [rule(1, '103')], moves: [failed], visit: second, now: NOW, stageOf })).toEqual({ kind: 'not_moved', reason: 'too_soon' });
  });

  it('a move’s recipient names the pipeline, from and to', () => {
    expect(moveRecipient('7012345', '7012346', '7012347')).toBe('7012345:7012346→7012347');
    expect(movedTo('7012345:7012346→7012347')).toBe('7012347');
  });
});

describe('the move request', () => {
  it('is amoCRM’s PATCH body, the ids as numbers written out in full', () => {
    expect(moveBody('1001', '7012345', '7012347')).toBe('[{"id":1001,"status_id":7012347,"pipeline_id":7012345}]');
    expect(JSON.parse(moveBody('98765432109876543210', '1', '2'))).toBeDefined();
    expect(moveBody('98765432109876543210', '1', '2')).toContain('"id":98765432109876543210');
    for (const bad of ['10 01', '1e3', '-1', '', '1,"x":2']) expect(() => moveBody(bad, '1', '2')).toThrow(/not an amoCRM id/);
  });

  it('is refused, not retried, when its source is gone or has no API access', async () => {
    const msg = { subject: 'amo:1001', body: moveBody('1001', '1', '2') } as Message;
    const crmOf = (raw: unknown) => ({ config: loadCrmConfig(raw), amoApi: () => null }) as unknown as Crm;
    expect(await moveSender(crmOf({})).send(msg)).toEqual({ kind: 'failed', answer: 'not sent: source "amo" is no longer an amoCRM source' });
    const noApi = { sources: { amo: { kind: 'amocrm', secret: 'amo_secret_0123456789', account: { id: '1' } } } };
    expect(await moveSender(crmOf(noApi)).send(msg)).toEqual({ kind: 'failed', answer: 'not sent: source "amo" has no API credentials' });
    expect(moveSender(crmOf({}))).toMatchObject({ name: 'amocrm_move', vendor: 'amoCRM', maxAgeSeconds: 3600 });
  });
});

const API = { baseUrl: 'https://apfitness.amocrm.ru', clientId: 'c', clientSecret: 'client-secret', redirectUri: 'https://x/crm/amocrm/amo/oauth', accessToken: 'long-lived' };
const FUNNEL = [{ stage: '1 Request' }, { stage: '2 Qualified' }, { stage: 'Won', marker: 'won' }, { stage: 'Refused', marker: 'lost' }, { stage: 'On hold', marker: 'paused' }];
const amo = (over: Record<string, unknown> = {}) => ({
  funnel: FUNNEL,
  sources: {
    amo: {
      kind: 'amocrm',
      secret: 'amo_secret_0123456789',
      account: { id: '17769199' },
      api: API,
      pipelines: { '7012345': { '7012346': '1 Request', '7012347': '2 Qualified', '7012350': 'On hold' }, '*': { '7012399': '2 Qualified', '143': 'Refused', '142': 'Won' } },
      ...over,
    },
  },
});
const problems = (value: unknown) => {
  try {
    loadCrmConfig(value);
    return [];
  } catch (err) {
    return (err as Error).message.split('\n');
  }
};

describe('the rules in the CRM configuration', () => {
  it('are read from an amoCRM source; ids may be written as numbers', () => {
    const loaded = loadCrmConfig(amo({ visitTriggers: [{ page: '/pricing*', pipeline: 7012345, status: '7012347' }, { page: '/x', pipeline: '7012345', status: '7012399' }] }));
    const src = loaded.raw.sources.amo!;
    expect(src.kind === 'amocrm' && src.visitTriggers).toEqual([
      { page: '/pricing*', pipeline: '7012345', status: '7012347' },
      { page: '/x', pipeline: '7012345', status: '7012399' },
    ]);
    // Stored as JSON and loaded again (what a restart does), they are the same.
    expect(loadCrmConfig(JSON.parse(JSON.stringify(loaded.raw))).raw).toEqual(loaded.raw);
    const inForce = rulesInForce(loaded);
    expect(inForce.any).toBe(true);
    expect(inForce.sources[0]!.rules.map((r) => [r.index, r.status, r.stage.name])).toEqual([
      [0, '7012347', '2 Qualified'],
      [1, '7012399', '2 Qualified'],
    ]);
    expect(rulesInForce(loaded)).toBe(inForce);
    expect(rulesInForce(loadCrmConfig(amo()))).toMatchObject({ any: false, sources: [], urlRegex: null });
  });

  it('refuse what could never move a deal forward, each with its path and reason', () => {
    const at = (i: number) => `sources.amo.visitTriggers.${i}.status`;
    expect(
      problems(
        amo({
          visitTriggers: [
            { page: '/a', pipeline: '7012345', status: '143' },
            { page: '/b', pipeline: '7012345', status: '7012348' },
            { page: '/c', pipeline: '7012345', status: '7012350' },
            { page: '/d', pipeline: '7012345', status: '142' },
          ],
        }),
      ),
    ).toEqual([
      `${at(0)}: 143 is amoCRM's "closed — lost": a visit moves a deal forward, never to a loss`,
      `${at(1)}: status 7012348 is not mapped in pipeline 7012345 of sources.amo.pipelines; map it to a funnel stage, so that "forward" can be told`,
      `${at(2)}: its stage "On hold" carries the paused marker; a visit moves a deal forward, never to a paused stage`,
    ]);
    expect(problems(amo({ api: undefined, visitTriggers: [{ page: '/a', pipeline: '7012345', status: '7012347' }] }))).toEqual([
      "sources.amo.visitTriggers: needs api credentials (sources.amo.api): deals are moved through amoCRM's API",
    ]);
  });

  it('refuse a pattern that is not a path, and ids that are not amoCRM ids', () => {
    const bad = (page: unknown, pipeline: unknown = '7012345', status: unknown = '7012347') => problems(amo({ visitTriggers: [{ page, pipeline, status }] }));
    const p = 'sources.amo.visitTriggers.0';
    expect(bad('https://shop.example/pricing*')).toEqual([`${p}.page: a path pattern starts with / or * (no host: write /pricing*, not https://site.example/pricing*)`]);
    expect(bad('/pricing?plan=pro')).toEqual([`${p}.page: a path only: no query (?) and no fragment (#)`]);
    expect(bad('/pri cing')).toEqual([`${p}.page: no spaces, control or invisible characters (write a space as %20)`]);
    expect(bad('/pri\u200bcing')).toEqual([`${p}.page: no spaces, control or invisible characters (write a space as %20)`]);
    expect(bad('')[0]).toMatch(/^sources\.amo\.visitTriggers\.0\.page: /);
    expect(bad(`/${'a'.repeat(500)}`)[0]).toMatch(/^sources\.amo\.visitTriggers\.0\.page: /);
    expect(bad('/a', 'P-1')).toEqual([`${p}.pipeline: an amoCRM pipeline id (digits)`]);
    expect(bad('/a', '7012345', -1)[0]).toMatch(/^sources\.amo\.visitTriggers\.0\.status: /);
    expect(problems(amo({ visitTriggers: [{ page: '/a', pipeline: '7012345', status: '7012347', extra: 1 }] }))[0]).toMatch(/^sources\.amo\.visitTriggers\.0: /);
    // Only an amoCRM source has them.
    expect(problems({ funnel: FUNNEL, sources: { shop: { kind: 'import', secret: 'shop_secret_0123456789', visitTriggers: [] } } })[0]).toMatch(/^sources\.shop: /);
  });

  it('are kept when the setup page saves its form', () => {
    const rules = [{ page: '/pricing*', pipeline: '7012345', status: '7012347' }];
    const current = loadCrmConfig(amo({ visitTriggers: rules })).raw;
    const form = formOfConfig(current);
    // The owner renames a stage and saves.
    form.stages[0]!.name = '1 Lead';
    const made = configOfForm(current, form);
    expect(made.problems).toEqual([]);
    const saved = loadCrmConfig(made.value).raw.sources.amo!;
    expect(saved.kind === 'amocrm' && saved.visitTriggers).toEqual(rules);
  });
});

describe('the planner without rules', () => {
  it('reads and writes nothing at all', async () => {
    // A tripwire, not a stand-in: any use of ClickHouse or the outbox fails the test.
    const tripwire = new Proxy({}, { get: (_t, name) => () => Promise.reject(new Error(`used: ${String(name)}`)) });
    const metrics = createMetrics();
    const crm = { config: loadCrmConfig(amo()) };
    const planner = new TriggerPlanner(tripwire as ClickHouseClient, tripwire as Outbox, crm, pino({ level: 'silent' }), metrics, () => {
      throw new Error('woke the worker');
    });
    expect(await planner.scan()).toBe(0);
    expect(await planner.scan()).toBe(0);
    // Every reason is on /metrics from the start, at 0.
    const text = await metrics.registry.metrics();
    for (const reason of ['closed', 'other_pipeline', 'unmapped_status', 'backward', 'too_soon']) {
      expect(text).toContain(`throughline_outbound_changes_unsent_total{sender="amocrm_move",reason="${reason}"} 0`);
    }
  });
});

describe('the variables', () => {
  it('TRIGGER_SCAN_SECONDS: 15 by default, 0 turns the trigger off on this collector', () => {
    expect(loadConfig({}).trigger).toEqual({ scanSeconds: 15 });
    expect(loadConfig({ TRIGGER_SCAN_SECONDS: '0' }).trigger).toEqual({ scanSeconds: 0 });
    expect(() => loadConfig({ TRIGGER_SCAN_SECONDS: 'often' })).toThrow(/TRIGGER_SCAN_SECONDS/);
    expect(() => loadConfig({ TRIGGER_SCAN_SECONDS: '3601' })).toThrow(/TRIGGER_SCAN_SECONDS/);
  });

  it('CRM_CONFIG_REFRESH_SECONDS: 300 by default, at least 1', () => {
    expect(loadConfig({}).crm.refreshSeconds).toBe(300);
    expect(loadConfig({ CRM_CONFIG_REFRESH_SECONDS: '2' }).crm.refreshSeconds).toBe(2);
    expect(() => loadConfig({ CRM_CONFIG_REFRESH_SECONDS: '0' })).toThrow(/CRM_CONFIG_REFRESH_SECONDS/);
  });
});
