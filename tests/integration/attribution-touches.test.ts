// A conversion's touches are its person's visits themselves: each stored event
// once (by its event id), however alike two visits look; time decay measures
// them to the millisecond; the look-back window includes its start. Visits are
// written as rows of hits, a deal names their visitor, and an identity
// resolution (attribution/resolve.ts) then the credit SQL (credits-sql.ts) read
// them as a report would.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsSql } from '../../collector/src/attribution/credits-sql.js';
import type { ModelName } from '../../collector/src/attribution/models.js';
import { resolveNow } from '../../collector/src/attribution/resolve.js';
import { toDateTimeString } from '../../collector/src/clickhouse/sql.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { insertDeals } from '../helpers/crm-fixtures.js';

const DAY_MS = 86_400_000;
/** The README's time-decay half-life. */
const HALF_LIFE_MS = 7 * DAY_MS;
const DEAL_AT = Date.parse('2026-03-20T12:00:00Z');

type Visit = { visitor: string; at: number; channel: string; source?: string; eventId?: string };
type Credit = { touches: string; touch_ts: string; channel: string; credit_minor: string };

/** A visit as the hit pipeline stores it (row of hits; columns left out are empty). */
function hitRow(v: Visit) {
  return {
    event_id: v.eventId ?? randomBytes(8).toString('hex'),
    site_id: 'shop',
    kind: 'visit',
    ts: toDateTimeString(v.at),
    ts_ms: ((v.at % 1000) + 1000) % 1000,
    received_at: toDateTimeString(v.at),
    visitor_id: v.visitor,
    channel: v.channel,
    source: v.source ?? v.channel,
    medium: '',
    campaign: '',
  };
}

describe('touches are the visits themselves', () => {
  let db: TestDatabase;
  let deals = 0;

  beforeAll(async () => {
    db = await freshDatabase();
    // Duplicate rows of one event stay apart, as they are until a merge.
    await db.client.command({ query: 'SYSTEM STOP MERGES hits' });
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Stores the visits (each array one insert), a won deal of `revenue` for their visitor at DEAL_AT, resolves, and reads its credits. */
  async function creditsOf(inserts: Visit[][], revenue: number, model: ModelName, windowDays = 90): Promise<Credit[]> {
    const dealId = String(++deals);
    for (const visits of inserts) await db.client.insert({ table: 'hits', values: visits.map(hitRow), format: 'JSONEachRow' });
    await insertDeals(db.client, [
      { source: 'amo', deal_id: dealId, version: 1, created_at: toDateTimeString(DEAL_AT), outcome: 'won', amount_minor: revenue, visitor_id: inserts[0]![0]!.visitor },
    ]);
    const { run } = await resolveNow(db.client, db.name, `f${dealId}`);
    return db.rows<Credit>(
      `SELECT touches, touch_ts, channel, credit_minor FROM (${creditsSql({ db: db.name, model, windowDays, snapshot: { generation: run, run } })}) WHERE deal_id = '${dealId}' ORDER BY touch_ts, channel`,
    );
  }

  const sums = (cs: Credit[]) => {
    const out: Record<string, number> = {};
    for (const c of cs) out[c.channel] = (out[c.channel] ?? 0) + Number(c.credit_minor);
    return out;
  };

  it('counts two visits in the same millisecond, alike in channel, source, medium and campaign, twice', async () => {
    const at = DEAL_AT - DAY_MS;
    const cs = await creditsOf(
      [[
        { visitor: 'TWNS22', at: at - 3_600_000, channel: 'organic_search', source: 'google' },
        { visitor: 'TWNS22', at, channel: 'paid_search', source: 'yandex' },
        { visitor: 'TWNS22', at, channel: 'paid_search', source: 'yandex' },
      ]],
      300_000,
      'linear',
    );
    expect(cs.map((c) => Number(c.touches))).toEqual([3, 3, 3]);
    expect(sums(cs)).toEqual({ organic_search: 100_000, paid_search: 200_000 });
  });

  it('counts one event stored twice (not yet merged) once', async () => {
    const twice: Visit = { visitor: 'TWCE22', at: DEAL_AT - DAY_MS, channel: 'paid_search', eventId: 'replayed-event-1' };
    const cs = await creditsOf([[{ visitor: 'TWCE22', at: DEAL_AT - 2 * DAY_MS, channel: 'social' }, twice], [twice]], 300_001, 'linear');
    expect(Number((await db.rows<{ n: string }>("SELECT count() AS n FROM hits WHERE event_id = 'replayed-event-1'"))[0]!.n)).toBe(2);
    expect(cs.map((c) => Number(c.touches))).toEqual([2, 2]);
    expect(sums(cs)).toEqual({ social: 150_001, paid_search: 150_000 });
  });

  it('time decay weighs touches by milliseconds, not whole seconds', async () => {
    // Two visits a week before the deal, in the same second: .000 and .999.
    const week = DEAL_AT - 7 * DAY_MS;
    const revenue = 100_000_000;
    const cs = await creditsOf(
      [[
        { visitor: 'DCAY22', at: week, channel: 'email' },
        { visitor: 'DCAY22', at: week + 999, channel: 'social' },
      ]],
      revenue,
      'time_decay',
    );
    const w = [2 ** (-(7 * DAY_MS) / HALF_LIFE_MS), 2 ** (-(7 * DAY_MS - 999) / HALF_LIFE_MS)];
    const first = Math.floor((revenue * w[0]!) / (w[0]! + w[1]!) + 0.5);
    expect(first).toBe(49_999_971); // the later visit weighs 2^(0.999 s / 7 d) ≈ 1.0000011 as much
    expect(sums(cs)).toEqual({ email: first, social: revenue - first });
  });

  it('includes a visit exactly a window before the conversion and leaves out one a millisecond earlier', async () => {
    const cs = await creditsOf(
      [[
        { visitor: 'EDGE92', at: DEAL_AT - 90 * DAY_MS - 1, channel: 'display' },
        { visitor: 'EDGE92', at: DEAL_AT - 90 * DAY_MS, channel: 'referral' },
        { visitor: 'EDGE92', at: DEAL_AT - 365 * DAY_MS, channel: 'email' },
        { visitor: 'EDGE92', at: DEAL_AT - 365 * DAY_MS - 1, channel: 'social' },
        { visitor: 'EDGE92', at: DEAL_AT, channel: 'organic_search' },
      ]],
      100,
      'first_click',
    );
    expect(cs.map((c) => [c.channel, Number(c.credit_minor)])).toEqual([['referral', 100], ['organic_search', 0]]);
    // The longest window a report may ask for (365 days) has the same edges: resolution keeps the touch exactly a year before.
    const year = await db.rows<Credit>(
      `SELECT touches, channel, credit_minor FROM (${creditsSql({ db: db.name, model: 'first_click', windowDays: 365 })}) WHERE deal_id = '${deals}' ORDER BY touch_ts`,
    );
    expect(year.map((c) => c.channel)).toEqual(['email', 'display', 'referral', 'organic_search']);
    expect(Number(year[0]!.credit_minor)).toBe(100);
  });
});
