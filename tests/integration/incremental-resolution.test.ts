// Incremental identity resolution (attribution/incremental.ts) gives what a full
// resolution gives. A random sequence of what a live installation receives
// (visits with GA / Metrika ids shared between visitors, form leads, deals created,
// changed, re-pointed and deleted, links between e-mails, phones, contacts and
// visitors) in a small id space, so that components merge and split often;
// after each step an incremental run on top of the previous one and a full
// resolution of the same inputs must give the same conversions (keys, kinds,
// times, outcomes, money, visitor ids), the same touches and the same credits.
// The full resolution's generation is dropped again, so the incremental runs
// build on each other across the whole sequence.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsSql } from '../../collector/src/attribution/credits-sql.js';
import { resolveIncrementally } from '../../collector/src/attribution/incremental.js';
import { resolveNow } from '../../collector/src/attribution/resolve.js';
import { Resolver } from '../../collector/src/attribution/resolver.js';
import { newestRun, readFingerprint, type Run } from '../../collector/src/attribution/runs.js';
import { inSnapshot, type Snapshot } from '../../collector/src/attribution/snapshot.js';
import { toDateTimeString } from '../../collector/src/clickhouse/sql.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { insertDeals, insertLinks, type DealVersion } from '../helpers/crm-fixtures.js';

const BASE = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;
const TABLES = ['attribution_members', 'attribution_conversions', 'attribution_touches', 'attribution_ids', 'attribution_runs'];

/** A small deterministic generator (mulberry32): the same sequence on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!, chance: (p: number) => next() < p };
}

const VISITORS = ['AAAAAA', 'BBBBBB', 'CCCCCC', 'DDDDDD', 'EEEEEE', 'FFFFFF', 'GGGGGG', 'HHHHHH', 'JJJJJJ', 'KKKKKK', 'MMMMMM', 'NNNNNN'];
const GA = ['111.1', '222.2', '333.3', '444.4', '555.5', '666.6'];
const YM = ['17000000001', '17000000002', '17000000003', '17000000004'];
const EMAILS = ['e1', 'e2', 'e3', 'e4'];
const PHONES = ['p1', 'p2', 'p3'];
const CONTACTS = ['c1', 'c2', 'c3'];
const DEALS = ['1', '2', '3', '4', '5', '6', '7', '8'];
const CHANNELS = ['direct', 'paid_search', 'organic', 'email', 'social'];

type Conv = { conv_key: string; conv_kind: string; conv_ts: string; outcome: string; amount_minor: string; revenue_minor: string; visitor_ids: string[] };
type Touch = { conv_key: string; event_id: string; ts: string; channel: string };
type Credit = { conv_key: string; channel: string; credit_minor: string };

describe('incremental identity resolution', () => {
  let db: TestDatabase;
  const now = () => toDateTimeString(Date.now());

  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function hit(kind: 'visit' | 'lead', visitor: string, at: number, ids: { ga?: string; ym?: string; channel?: string; receivedAt?: string } = {}) {
    await db.client.insert({
      table: 'hits',
      format: 'JSONEachRow',
      values: [
        {
          event_id: randomBytes(8).toString('hex'), site_id: 'shop', kind, ts: toDateTimeString(at), ts_ms: at % 1000,
          received_at: ids.receivedAt ?? now(), visitor_id: visitor, ga_cid: ids.ga ?? '', ym_uid: ids.ym ?? '',
          channel: ids.channel ?? 'direct', source: ids.channel ?? 'direct', medium: '', campaign: '',
        },
      ],
    });
  }

  /** What a snapshot gives: conversions, touches, and last-non-direct and linear credits. */
  async function state(at: Snapshot) {
    const where = inSnapshot(db.name, at);
    const conversions = await db.rows<Conv>(
      `SELECT conv_key, conv_kind, toString(conv_ts) AS conv_ts, outcome, toString(amount_minor) AS amount_minor, toString(revenue_minor) AS revenue_minor, visitor_ids
       FROM attribution_conversions WHERE ${where} AND removed = 0 ORDER BY conv_key`,
    );
    const touches = await db.rows<Touch>(`SELECT conv_key, event_id, toString(ts) AS ts, channel FROM attribution_touches WHERE ${where} ORDER BY conv_key, event_id`);
    const credits: Credit[] = [];
    for (const model of ['last_non_direct', 'linear'] as const) {
      credits.push(
        ...(await db.rows<Credit>(
          `SELECT conv_key, channel, toString(sum(credit_minor)) AS credit_minor FROM (${creditsSql({ db: db.name, model, windowDays: 90, snapshot: at })})
           GROUP BY conv_key, channel ORDER BY conv_key, channel`,
        )).map((c) => ({ ...c, channel: `${model}:${c.channel}` })),
      );
    }
    return { conversions, touches, credits };
  }

  async function dropGeneration(generation: number) {
    for (const t of TABLES) await db.client.command({ query: `ALTER TABLE ${db.name}.${t} DROP PARTITION ${generation}` });
  }

  /** One incremental run on top of the newest, checked against a full resolution of the same inputs (dropped again). */
  async function incrementalEqualsFull(step: string): Promise<Run> {
    const last = (await newestRun(db.client, db.name))!;
    const fingerprint = await readFingerprint(db.client, db.name);
    const inc = await resolveIncrementally(db.client, db.name, last, fingerprint, {}, '', 0);
    if ('full' in inc) throw new Error(`${step}: a full resolution was needed (${inc.full}: ${inc.detail ?? ''})`);
    expect(inc).toMatchObject({ kind: 'incremental', generation: last.generation });
    const full = await resolveNow(db.client, db.name, fingerprint, {}, '', 0);
    const [a, b] = [await state(inc), await state(full)];
    expect(a.conversions, `${step}: conversions`).toEqual(b.conversions);
    expect(a.touches, `${step}: touches`).toEqual(b.touches);
    expect(a.credits, `${step}: credits`).toEqual(b.credits);
    expect(inc.conversions, `${step}: the run's count`).toBe(b.conversions.length);
    await dropGeneration(full.generation);
    return inc;
  }

  it('gives what a full resolution gives, step after step, as components merge and split', async () => {
    const rnd = prng(20261204);
    const versions = new Map<string, number>();
    // A start: some visits, then the first generation.
    for (const v of VISITORS.slice(0, 4)) await hit('visit', v, BASE + rnd.int(30) * DAY, { channel: rnd.pick(CHANNELS) });
    await resolveNow(db.client, db.name, await readFingerprint(db.client, db.name), {}, '', 0);
    let touched = 0;
    for (let step = 0; step < 60; step++) {
      const op = rnd.int(7);
      let what = '';
      if (op <= 1) {
        const v = rnd.pick(VISITORS);
        const ids = { ga: rnd.chance(0.5) ? rnd.pick(GA) : '', ym: rnd.chance(0.3) ? rnd.pick(YM) : '', channel: rnd.pick(CHANNELS) };
        await hit('visit', v, BASE + rnd.int(60) * DAY + rnd.int(DAY), ids);
        what = `visit ${v} ${ids.ga} ${ids.ym}`;
      } else if (op === 2) {
        const v = rnd.pick(VISITORS);
        await hit('lead', v, BASE + rnd.int(60) * DAY);
        what = `lead ${v}`;
      } else if (op <= 4) {
        const id = rnd.pick(DEALS);
        const version = (versions.get(id) ?? 0) + 1;
        versions.set(id, version);
        const deleted = version > 1 && rnd.chance(0.2) ? 1 : 0;
        const deal: DealVersion = {
          source: 'amo', deal_id: id, version, created_at: toDateTimeString(BASE + (20 + rnd.int(50)) * DAY), received_at: now(),
          outcome: rnd.pick(['open', 'won', 'lost'] as const), amount_minor: 100 * (1 + rnd.int(50)), deleted,
          ...(rnd.chance(0.5) ? { visitor_id: rnd.pick(VISITORS).toLowerCase() } : {}),
          ...(rnd.chance(0.3) ? { ga_cid: rnd.pick(GA) } : {}),
          ...(rnd.chance(0.2) ? { ym_uid: rnd.pick(YM) } : {}),
          ...(rnd.chance(0.4) ? { email_hashes: [rnd.pick(EMAILS)] } : {}),
          ...(rnd.chance(0.3) ? { phone_hashes: [rnd.pick(PHONES)] } : {}),
          ...(rnd.chance(0.3) ? { contact_ids: [rnd.pick(CONTACTS)] } : {}),
        };
        await insertDeals(db.client, [deal]);
        what = `deal ${id} v${version}${deleted ? ' deleted' : ''}`;
      } else {
        const kinds = [
          () => ['email', rnd.pick(EMAILS), 'visitor', rnd.pick(VISITORS)],
          () => ['phone', rnd.pick(PHONES), 'email', rnd.pick(EMAILS)],
          () => ['deal', `amo:${rnd.pick(DEALS)}`, 'contact', `amo:${rnd.pick(CONTACTS)}`],
          () => ['contact', `amo:${rnd.pick(CONTACTS)}`, 'email', rnd.pick(EMAILS)],
          () => ['visitor', rnd.pick(VISITORS), 'ga', rnd.pick(GA)],
        ] as const;
        const [ka, a, kb, b] = rnd.pick(kinds)();
        await db.client.insert({
          table: 'identity_links',
          format: 'JSONEachRow',
          values: [{ kind_a: ka, id_a: a, kind_b: kb, id_b: b, evidence: 'form', linked_at: now() }],
        });
        what = `link ${ka}:${a} ${kb}:${b}`;
      }
      const inc = await incrementalEqualsFull(`step ${step}: ${what}`);
      touched += inc.conversions;
    }
    expect(touched).toBeGreaterThan(0);
    // The sequence did reach merges: some conversion holds several visitors.
    const last = (await newestRun(db.client, db.name))!;
    const { conversions } = await state(last);
    expect(conversions.some((c) => c.visitor_ids.length > 1)).toBe(true);
    expect(conversions.some((c) => c.conv_kind === 'lead')).toBe(true);
  }, 240_000);

  it('rewrites only the conversions a change touched', async () => {
    if (!(await newestRun(db.client, db.name))) await resolveNow(db.client, db.name, await readFingerprint(db.client, db.name), {}, '', 0);
    // A run reads from the second the one before it started: one more run a second later has read everything before.
    await new Promise((r) => setTimeout(r, 1100));
    await incrementalEqualsFull('nothing new');
    const last = (await newestRun(db.client, db.name))!;
    const before = Number((await db.rows<{ n: string }>(`SELECT count() AS n FROM attribution_conversions WHERE ${inSnapshot(db.name, last)} AND removed = 0`))[0]!.n);
    await insertDeals(db.client, [{ source: 'amo', deal_id: 'solo', version: 1, created_at: toDateTimeString(BASE + 40 * DAY), received_at: now(), outcome: 'won', amount_minor: 5000, visitor_id: 'ZZZZZZ' }]);
    await hit('visit', 'ZZZZZZ', BASE + 39 * DAY, { channel: 'organic' });
    const run = await incrementalEqualsFull('a deal of a visitor of its own');
    const written = await db.rows<{ conv_key: string }>(`SELECT conv_key FROM attribution_conversions WHERE run = ${run.run}`);
    expect(written.map((w) => w.conv_key)).toEqual(['deal:amo:solo']);
    expect(run.conversions).toBe(before + 1);
    const ids = await db.rows<{ kind: string; id: string }>(`SELECT kind, id FROM attribution_ids WHERE run = ${run.run} ORDER BY kind, id`);
    expect(ids).toEqual([
      { kind: 'deal', id: 'amo:solo' },
      { kind: 'visitor', id: 'ZZZZZZ' },
    ]);
  });

  it('makes a full resolution instead when a row arrives late or rows are deleted', async () => {
    const reasons: string[] = [];
    const r = new Resolver(db.client, db.name, { lateSeconds: 0, onRun: (_run, why) => reasons.push(why ?? 'incremental') });
    await hit('visit', 'AAAAAA', BASE + 10 * DAY, { ga: '999.9' });
    expect((await r.refresh()).kind).toBe('incremental');
    // A spill replayed after an outage: stored now, arrived an hour ago.
    await hit('visit', 'BBBBBB', BASE + 11 * DAY, { ga: '999.9', receivedAt: toDateTimeString(Date.now() - 3_600_000) });
    const late = await r.refresh();
    expect(late.kind).toBe('full');
    await db.client.command({ query: `ALTER TABLE ${db.name}.hits DELETE WHERE visitor_id = 'BBBBBB'` });
    await hit('visit', 'CCCCCC', BASE + 12 * DAY);
    const deleted = await r.refresh();
    expect(deleted.kind).toBe('full');
    expect(reasons).toEqual(['incremental', 'late_rows', 'deleted_rows']);
  });
});
