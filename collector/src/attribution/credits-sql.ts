// The one place the attribution SQL is written. `creditsSql` gives one row per
// (conversion, credited touch): the touch's channel / source / medium / campaign,
// its share of the conversion (shares of a conversion sum to 1) and its credit in
// minor units (credits of a conversion sum exactly to its revenue). The analyst
// views (views.ts), the HTTP report, the page and the CLI all read this SQL.
//
// Levels (ClickHouse 18.16 allows one JOIN per SELECT level). Subquery columns
// reach lambdas as array arguments (conv_tss, revs), never captured: 18.16 prunes
// a column that only a lambda uses (CLICKHOUSE.md §5).
//   1. the touches of the run (resolve.ts joined them once from hits, one row per
//      visit event), kept when inside the look-back window before the conversion
//      (its start included), grouped per conversion into one array sorted by time;
//   2. every conversion, its revenue in the report currency where a rate is known
//      (currency/sql.ts), ANY LEFT JOIN its touches (none: unattributed, kept);
//   3. the model's weights, normalised, and the money split by cumulative
//      rounding: touch i gets round(R·W_i) − round(R·W_{i−1}), W the running sum
//      of weights, halves rounded up, the last bound being R itself, so the parts
//      sum to R exactly and the same input always gives the same kopecks. Exact
//      models' bounds are integer arithmetic on minor units (splitBounds);
//      time decay's are R·W_i in Float64, rounded half up;
//   4. ARRAY JOIN into one row per touch.
import { dateTime, ident, num } from '../clickhouse/sql.js';
import { DEFAULT_REPORT_MONEY, type ReportMoney } from '../currency/rate.js';
import { inReportCurrencySql } from '../currency/sql.js';
import { MAX_WINDOW_DAYS } from './resolve.js';
import { MODELS, type ModelName } from './models.js';
import { inSnapshot, type Snapshot } from './snapshot.js';

/** ⌊a / b⌋ of Int64s, b > 0 (intDiv truncates toward zero). */
const floorDiv = (a: string, b: string) => `(intDiv(${a}, ${b}) - (modulo(${a}, ${b}) < 0))`;

/**
 * The cumulative bounds round(R·C_i / D) of revenue R (`revs`) over the whole-number
 * weights `w` (C_i their running sum, D their total), halves rounded up, in Int64
 * without overflow: with R = q·D + m (0 ≤ m < D), R·C/D + ½ = q·C + (2·m·C + D) / 2D,
 * and q·C ≤ |R| + D, 2·m·C + D < 2·D² + D — safe while D < 2·10⁹ (position-based
 * gives D = 5(n − 2): some 400 million touches of one conversion). The last
 * bound is R itself (C = D).
 */
function splitBounds(exact: boolean): string {
  if (!exact) {
    return `arrayMap((c, i, r) -> if(i = length(cum), r, toInt64(floor(r * c + 0.5))), arrayCumSum(ws) AS cum, arrayEnumerate(cum), revs)`;
  }
  const q = floorDiv('r', 'd');
  return `arrayMap((c, r, d) -> ${q} * c + intDiv(2 * (r - ${q} * d) * c + d, 2 * d),
      arrayMap(x -> toInt64(x), arrayCumSum(w)), revs, arrayResize([toInt64(arraySum(w))], length(w), toInt64(arraySum(w))))`;
}

/** Inclusive day range `YYYY-MM-DD`; either end may be open. */
export type Period = { from?: string | undefined; to?: string | undefined };

/**
 * `snapshot`: the identity resolution to read (a report names the one it used); the newest when left out (the views).
 * `money`: the report currency and fixed rates (REPORT_CURRENCY, REPORT_RATES).
 */
export type CreditsQuery = { db: string; model: ModelName; windowDays: number; period?: Period; snapshot?: Snapshot | undefined; money?: ReportMoney };

const CONVERSION = 'conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage, amount_minor, currency';

/**
 * The conversions of `from` with their revenue in the report currency: converted once
 * per deal, before it is split, at the rate of the day it was won (of its creation
 * when no closing time is known); `revenue_currency` says which currency it is in.
 */
function conversionsInReportCurrency(db: string, money: ReportMoney, from: string): string {
  return inReportCurrencySql({
    db,
    money,
    from: `SELECT ${CONVERSION}, revenue_minor AS own_minor, toDate(if(toUInt32(closed_at) > 0, closed_at, conv_ts)) AS money_day FROM ${from}`,
    keep: CONVERSION.split(', '),
    minor: 'revenue_minor',
    currency: 'revenue_currency',
  });
}

export const UNATTRIBUTED = '(unattributed)';

/** `col` inside the period: from 00:00 of `from` to the end of `to`, UTC. */
export function periodWhere(col: string, p: Period | undefined, widenBackSeconds = 0): string {
  const parts: string[] = [];
  if (p?.from) parts.push(`${col} >= toDateTime(${dateTime(`${p.from} 00:00:00`)}, 'UTC') - ${num(widenBackSeconds)}`);
  if (p?.to) parts.push(`${col} < toDateTime(${dateTime(`${p.to} 00:00:00`)}, 'UTC') + 86400`);
  return parts.length ? parts.join(' AND ') : '1';
}

/** The conversions of an identity resolution (the newest finished one by default). */
export function conversionsFrom(db: string, snapshot?: Snapshot): string {
  return `${ident(db)}.attribution_conversions WHERE ${inSnapshot(db, snapshot)} AND removed = 0`;
}

export function creditsSql(q: CreditsQuery): string {
  const d = ident(q.db);
  const windowSec = Math.round(q.windowDays * 86400);
  if (!(windowSec > 0) || q.windowDays > MAX_WINDOW_DAYS) throw new TypeError(`look-back window must be 1 to ${MAX_WINDOW_DAYS} days: ${q.windowDays}`);
  const convs = conversionsFrom(q.db, q.snapshot);
  const inPeriod = periodWhere('conv_ts', q.period);
  const weights = MODELS[q.model].weights();
  return `
SELECT conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage,
  amount_minor, currency, revenue_minor, revenue_currency, touches, touch_ts, channel, source, medium, campaign, share, credit_minor
FROM (
  SELECT conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage,
    amount_minor, currency, revenue_minor, revenue_currency, length(t) AS touches,
    if(touches = 0, ['${UNATTRIBUTED}'], arrayMap(x -> tupleElement(x, 3), t)) AS chs,
    if(touches = 0, ['${UNATTRIBUTED}'], arrayMap(x -> tupleElement(x, 4), t)) AS srcs,
    if(touches = 0, ['${UNATTRIBUTED}'], arrayMap(x -> tupleElement(x, 5), t)) AS meds,
    if(touches = 0, ['${UNATTRIBUTED}'], arrayMap(x -> tupleElement(x, 6), t)) AS camps,
    if(touches = 0, [conv_ts], arrayMap(x -> tupleElement(x, 1), t)) AS tss,
    if(touches = 0, [toUInt16(0)], arrayMap(x -> tupleElement(x, 2), t)) AS mss,
    arrayResize([conv_ts], length(tss), conv_ts) AS conv_tss,
    arrayResize([revenue_minor], length(tss), revenue_minor) AS revs,
    ${weights} AS w,
    arrayMap(x -> x / arraySum(w), w) AS ws,
    ${splitBounds(MODELS[q.model].exact)} AS bounds,
    arrayMap((b, i) -> b - if(i = 1, toInt64(0), bounds[i - 1]), bounds, arrayEnumerate(bounds)) AS credits
  FROM (${conversionsInReportCurrency(q.db, q.money ?? DEFAULT_REPORT_MONEY, `${convs} AND ${inPeriod}`)}) AS cv ANY LEFT JOIN (
    SELECT conv_key, arraySort(groupArray(tuple(ts, ts_ms, channel, source, medium, campaign, event_id))) AS t
    FROM ${d}.attribution_touches
    WHERE ${inSnapshot(q.db, q.snapshot)} AND ${inPeriod} AND ts >= conv_ts - ${windowSec}
    GROUP BY conv_key
  ) AS tch USING conv_key
) ARRAY JOIN chs AS channel, srcs AS source, meds AS medium, camps AS campaign, tss AS touch_ts, ws AS share, credits AS credit_minor`;
}
