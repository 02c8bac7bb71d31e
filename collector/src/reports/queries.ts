// The report's SQL, next to the credit SQL it aggregates (attribution/credits-sql.ts).
// A report is four reads, merged by key in build.ts:
//   credits  the model's credited conversions: leads, deals, won, revenue, stages
//   traffic  visits and visitors by the channel grouping of each visit
//   costs    uploaded costs (costs_current)
// Money is in the report currency (currency/sql.ts): revenue and costs are summed
// per key and currency, the report currency's sums as `*_minor`, every other
// currency (an amount without a rate) apart, as parallel arrays.
//   stages   the funnel's stage names, in order
// and, for the page's empty states, whether anything is stored at all (stored).
import type { Snapshot } from '../attribution/snapshot.js';
import { creditsSql, periodWhere, UNATTRIBUTED, type Period } from '../attribution/credits-sql.js';
import type { ModelName } from '../attribution/models.js';
import { dateTime, ident, str } from '../clickhouse/sql.js';
import { DEFAULT_REPORT_MONEY, type ReportMoney } from '../currency/rate.js';
import { inReportCurrencySql } from '../currency/sql.js';
import { SAMPLE_ROWS } from '../sample/marks.js';

export type Group = 'channel' | 'source' | 'campaign' | 'month';
export const GROUPS: readonly Group[] = ['channel', 'source', 'campaign', 'month'];

/**
 * The row key of a grouping, over columns channel / source / campaign that every
 * read has, and its own date column (`timeCol`) for the month: a conversion's
 * creation, a visit's time, a cost's day.
 */
export function keySql(group: Group, timeCol: string): string {
  if (group === 'channel') return 'channel';
  if (group === 'source') return 'source';
  if (group === 'month') return `toString(toStartOfMonth(${timeCol}))`;
  return `if(campaign = '${UNATTRIBUTED}', campaign, concat(source, ' / ', if(campaign = '', '(none)', campaign)))`;
}

/** `snapshot`: the identity resolution the credits read (credits-sql.ts); `money`: the report currency and fixed rates. */
export type ReportQuery = { db: string; model: ModelName; windowDays: number; period: Period; group: Group; snapshot?: Snapshot; money?: ReportMoney };

/**
 * `amount` (per key and `currency`, one row each, from `from`) summed per key: the
 * report currency's as `name`, the others as `other_currencies` / `other_<name>`.
 */
function byKeyAndCurrency(from: string, money: ReportMoney, amount: string, currency: string, name: string, more: string[] = []): string {
  const other = `${currency} != ${str(money.currency)} AND ${amount} != 0`;
  return `
SELECT key,${more.map((m) => `\n  ${m},`).join('')}
  sumIf(${amount}, ${currency} = ${str(money.currency)}) AS ${name},
  groupArrayIf(${currency}, ${other}) AS other_currencies,
  groupArrayIf(${amount}, ${other}) AS other_${name}
FROM (${from})
GROUP BY key`;
}

export function creditsReportSql(q: ReportQuery, stages: string[]): string {
  const passed = stages.map((s) => `sumIf(share, has(stages_passed, ${str(s)}))`);
  const refused = stages.map((s) => `sumIf(share, outcome = 'lost' AND lost_from_stage = ${str(s)})`);
  const arr = (xs: string[]) => (xs.length ? `[${xs.join(', ')}]` : 'emptyArrayFloat64()');
  // Per key and currency first, then per key (inner names differ: 18.16 reads sum(x) AS x as nested aggregates).
  const perCurrency = `
SELECT ${keySql(q.group, 'conv_ts')} AS key, revenue_currency,
  sum(share) AS n_leads,
  sumIf(share, conv_kind = 'deal') AS n_deals,
  sumIf(share, outcome = 'won') AS n_won,
  sumIf(share, outcome = 'returned') AS n_returned,
  sumIf(share, outcome = 'lost') AS n_lost,
  sum(credit_minor) AS revenue,
  ${arr(passed)} AS n_passed,
  ${arr(refused)} AS n_refused
FROM (${creditsSql(q)})
GROUP BY key, revenue_currency`;
  const counts = ['leads', 'deals', 'won', 'returned', 'lost'].map((c) => `sum(n_${c}) AS ${c}`);
  return byKeyAndCurrency(perCurrency, q.money ?? DEFAULT_REPORT_MONEY, 'revenue', 'revenue_currency', 'revenue_minor', [
    ...counts,
    'sumForEach(n_passed) AS passed',
    'sumForEach(n_refused) AS refused',
  ]);
}

/**
 * Visits and visitors per key and in total: one row of parallel arrays. Visits
 * are the distinct event ids of hits of kind 'visit': a batch stored twice
 * (partly inserted, then replayed) keeps both copies until a merge folds them,
 * which may be never (ReplacingMergeTree folds only rows that meet in one merge),
 * and a visit must count once whatever the merge state. The copies of one event
 * are one row twice, so they share its day: ids are counted per key and day and
 * the days added up, which is as exact as one count per key and costs half of it
 * (a day's set of ids stays in the processor's cache; a set of every id of a
 * channel did not). Visitors are uniqCombined per key (exact for small sets,
 * within about 1% at millions), because an exact count of a million ids per key
 * took several times longer than the whole report; they are read in a scan of
 * their own, since uniqCombined states per key and day cost more than the scan.
 */
export function trafficSql(q: Pick<ReportQuery, 'db' | 'period' | 'group'>): string {
  const visits = (select: string, by: string) => `
    SELECT ${select}
    FROM ${ident(q.db)}.hits
    WHERE kind = 'visit' AND ${periodWhere('ts', q.period)}
    GROUP BY ${by}`;
  return `
SELECT groupArray(key) AS keys, groupArray(v) AS visits, groupArray(finalizeAggregation(s)) AS visitors, uniqCombinedMerge(s) AS total_visitors
FROM (
  SELECT key, s, v
  FROM (${visits(`${keySql(q.group, 'ts')} AS key, uniqCombinedState(visitor_id) AS s`, 'key')}) AS u
  ANY LEFT JOIN (
    SELECT key, sum(n) AS v
    FROM (${visits(`${keySql(q.group, 'ts')} AS key, toDate(ts) AS day, uniqExact(event_id) AS n`, 'key, day')})
    GROUP BY key
  ) AS n USING key
)`;
}

/** Costs per key, each cost row converted at the rate of its day. */
export function costsSql(q: Pick<ReportQuery, 'db' | 'period' | 'group' | 'money'>): string {
  const money = q.money ?? DEFAULT_REPORT_MONEY;
  const where: string[] = [];
  if (q.period.from) where.push(`day >= toDate(${dateTime(q.period.from)})`);
  if (q.period.to) where.push(`day <= toDate(${dateTime(q.period.to)})`);
  const rows = inReportCurrencySql({
    db: q.db,
    money,
    from: `SELECT day, channel, source, campaign, currency, cost_minor AS own_minor, day AS money_day
      FROM ${ident(q.db)}.costs_current WHERE ${where.length ? where.join(' AND ') : '1'}`,
    keep: ['day', 'channel', 'source', 'campaign'],
    minor: 'cost_minor',
    currency: 'cost_currency',
  });
  const perCurrency = `SELECT ${keySql(q.group, 'day')} AS key, cost_currency, sum(cost_minor) AS cost FROM (${rows}) GROUP BY key, cost_currency`;
  return byKeyAndCurrency(perCurrency, money, 'cost', 'cost_currency', 'cost_minor');
}

/** The stages of the newest funnel configuration, in funnel order. */
export function stagesSql(db: string): string {
  const d = ident(db);
  return `SELECT stage FROM ${d}.funnel_stages
WHERE version = (SELECT max(version) FROM ${d}.funnel_stages)
GROUP BY stage ORDER BY min(stage_index), stage`;
}

/**
 * Whether any visit, deal (deleted ones too: a CRM is connected) and cost is
 * stored at all, whatever the period: one row of 0/1, each a read that stops at
 * its first row.
 */
export function storedSql(db: string): string {
  const d = ident(db);
  const any = (from: string) => `(SELECT count() FROM (SELECT 1 FROM ${from} LIMIT 1))`;
  const sample = `${any(`${d}.hits WHERE ${SAMPLE_ROWS.hits}`)} + ${any(`${d}.deals WHERE ${SAMPLE_ROWS.deals}`)}`;
  return `SELECT ${any(`${d}.hits WHERE kind = 'visit'`)} AS visits, ${any(`${d}.deals`)} AS deals, ${any(`${d}.costs`)} AS costs, ${sample} AS sample`;
}
