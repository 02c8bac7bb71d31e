// How the credit SQL (attribution/credits-sql.ts) splits a conversion's money
// over its touches, run on the real ClickHouse against an exact reference: the
// README's cumulative rounding, touch i gets round(R·Wᵢ) − round(R·Wᵢ₋₁) with Wᵢ
// the running sum of the model's weights and halves rounded up. The reference
// works in BigInt fractions, so a float running sum that lands just under a
// half cannot hide in it. The conversions and touches are written straight into
// a run of attribution_conversions / attribution_touches, as identity
// resolution writes them, and read back through creditsSql.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { creditsSql } from '../../collector/src/attribution/credits-sql.js';
import type { ModelName } from '../../collector/src/attribution/models.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';

type Conv = { revenue: bigint; channels: string[] };
type Credit = { conv_key: string; channel: string; credit_minor: string; share: number };

const CONV_TS = 1_773_000_000; // 2026-03-08 20:00:00 UTC
const CHANNELS = ['paid_search', 'direct', 'social', 'email'];

/** An exact fraction n/d, d > 0. */
type Q = { n: bigint; d: bigint };
const q = (n: bigint | number, d: bigint | number = 1n): Q => ({ n: BigInt(n), d: BigInt(d) });
const add = (a: Q, b: Q): Q => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
/** ⌊x + ½⌋: halves rounded up. */
const roundHalfUp = (x: Q): bigint => {
  const num = 2n * x.n + x.d;
  const den = 2n * x.d;
  const t = num / den; // BigInt division truncates toward zero
  return num % den !== 0n && num < 0n ? t - 1n : t;
};

/** The models' weights as the README defines them, as fractions of the whole. */
function reference(model: Exclude<ModelName, 'time_decay'>, chs: string[]): Q[] {
  const n = chs.length;
  const only = (k: number) => chs.map((_, i) => q(i === k ? 1 : 0));
  switch (model) {
    case 'first_click':
      return only(0);
    case 'last_click':
      return only(n - 1);
    case 'last_non_direct': {
      const k = chs.findLastIndex((c) => c !== 'direct');
      return only(k === -1 ? n - 1 : k);
    }
    case 'linear':
      return chs.map(() => q(1, n));
    case 'position_based':
      if (n <= 2) return chs.map(() => q(1, n));
      return chs.map((_, i) => (i === 0 || i === n - 1 ? q(2, 5) : q(1, 5 * (n - 2))));
  }
}

/** Cumulative rounding of `revenue` over exact weights summing to 1. */
function split(revenue: bigint, weights: Q[]): bigint[] {
  let cum = q(0);
  let prev = 0n;
  return weights.map((w) => {
    cum = add(cum, w);
    const bound = roundHalfUp({ n: revenue * cum.n, d: cum.d });
    const part = bound - prev;
    prev = bound;
    return part;
  });
}

describe('money split over touches', () => {
  let db: TestDatabase;
  let runs = 0;

  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Writes the conversions as one full run (a generation of its own), recorded; touch i of n is n − i minutes before its conversion. */
  async function writeRun(convs: Conv[]): Promise<number> {
    const run = Date.now() * 1000 + ++runs;
    await db.client.insert({
      table: 'attribution_conversions',
      format: 'JSONEachRow',
      values: convs.map((c, k) => ({
        generation: run, run, conv_key: `deal:t:${k}`, conv_kind: 'deal', conv_ts: CONV_TS, deal_source: 't', deal_id: String(k), outcome: 'won',
        stage: '', stages_passed: [], lost_from_stage: '', amount_minor: c.revenue.toString(), revenue_minor: c.revenue.toString(), visitor_ids: ['AAAAAA'],
      })),
    });
    await db.client.insert({
      table: 'attribution_touches',
      format: 'JSONEachRow',
      values: convs.flatMap((c, k) =>
        c.channels.map((channel, i) => ({
          generation: run, run, conv_key: `deal:t:${k}`, conv_ts: CONV_TS, ts: CONV_TS - (c.channels.length - i) * 60, ts_ms: 0,
          channel, source: channel, medium: '', campaign: '',
        })),
      ),
    });
    await db.client.insert({ table: 'attribution_runs', format: 'JSONEachRow', values: [{ generation: run, run, kind: 'full' }] });
    return run;
  }

  /** Credits per conversion, oldest touch first. */
  async function credits(run: number, model: ModelName): Promise<Map<string, Credit[]>> {
    const rows = await db.rows<Credit>(`SELECT conv_key, channel, credit_minor, share FROM (${creditsSql({ db: db.name, model, windowDays: 365, snapshot: { generation: run, run } })}) ORDER BY conv_key, touch_ts`);
    const out = new Map<string, Credit[]>();
    for (const r of rows) out.set(r.conv_key, [...(out.get(r.conv_key) ?? []), r]);
    return out;
  }

  const byChannel = (cs: Credit[]) => {
    const sums: Record<string, number> = {};
    for (const c of cs) sums[c.channel] = (sums[c.channel] ?? 0) + Number(c.credit_minor);
    return sums;
  };

  it('linear over 12 touches gives 1,000.01 as 500.01 / 500.00: the sixth bound is 50 000.5, a half rounded up', async () => {
    const run = await writeRun([{ revenue: 100_001n, channels: [...Array(6).fill('paid_search'), ...Array(6).fill('social')] }]);
    const [cs] = [...(await credits(run, 'linear')).values()];
    expect(byChannel(cs!)).toEqual({ paid_search: 50_001, social: 50_000 });
    // bounds round(100 001·i/12): 8 333, 16 667, 25 000, 33 334, 41 667, 50 001, 58 334, 66 667, 75 001, 83 334, 91 668, 100 001
    expect(cs!.map((c) => Number(c.credit_minor))).toEqual([8333, 8334, 8333, 8334, 8333, 8334, 8333, 8333, 8334, 8333, 8334, 8333]);
  });

  it('position-based over 10 touches gives 1,000.10 to the first three as 450.05: 40% + 2·2.5% of it is 45 004.5', async () => {
    const run = await writeRun([{ revenue: 100_010n, channels: [...Array(3).fill('paid_search'), ...Array(7).fill('social')] }]);
    const [cs] = [...(await credits(run, 'position_based')).values()];
    expect(byChannel(cs!)).toEqual({ paid_search: 45_005, social: 55_005 });
  });

  it('splits exactly as the rational reference for every exact model, any revenue and path', async () => {
    const conv = fc.record({
      revenue: fc.oneof(fc.bigInt({ min: 0n, max: 10_000_000n }), fc.bigInt({ min: 0n, max: 2n ** 62n }), fc.bigInt({ min: -10_000_000n, max: 0n })),
      channels: fc.array(fc.constantFrom(...CHANNELS), { minLength: 1, maxLength: 40 }),
    });
    const exact = ['first_click', 'last_click', 'last_non_direct', 'linear', 'position_based'] as const;
    await fc.assert(
      fc.asyncProperty(fc.array(conv, { minLength: 1, maxLength: 20 }), async (convs) => {
        const run = await writeRun(convs);
        for (const model of exact) {
          const got = await credits(run, model);
          convs.forEach((c, k) => {
            const cs = got.get(`deal:t:${k}`)!;
            expect(cs.map((x) => x.channel), model).toEqual(c.channels);
            expect(cs.map((x) => BigInt(x.credit_minor)), `${model} ${c.revenue} over ${c.channels.join(',')}`).toEqual(split(c.revenue, reference(model, c.channels)));
          });
        }
        // Time decay's weights are real: its parts still sum exactly to the revenue, each within a kopeck of its share.
        const decay = await credits(run, 'time_decay');
        convs.forEach((c, k) => {
          const cs = decay.get(`deal:t:${k}`)!;
          expect(cs.reduce((s, x) => s + BigInt(x.credit_minor), 0n)).toBe(c.revenue);
          if (c.revenue < 2n ** 40n && c.revenue > -(2n ** 40n)) for (const x of cs) expect(Math.abs(Number(x.credit_minor) - Number(c.revenue) * x.share)).toBeLessThan(1.001);
        });
      }),
      { numRuns: 25 },
    );
  });
});
