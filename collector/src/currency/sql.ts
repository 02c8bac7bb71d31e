// Money in the report currency, in SQL. Every amount keeps its own currency where
// it is stored (deals, costs); a report converts each amount once (one deal's
// revenue before it is split among touches, one cost row) at the rate of its day,
// rounding half away from zero, in integer arithmetic only:
//   rate      the uploaded rate of that day for (currency, report currency), else
//             the latest uploaded one before it, else the fixed rate of the
//             configuration, else none;
//   none      the amount stays in its own currency, and says so (`*_currency`),
//             so that no report ever adds it to the report currency's figures.
// An amount without a currency ('') is in the report currency.
import { ident, str } from '../clickhouse/sql.js';
import { type ReportMoney } from './rate.js';

const SCALE = 1_000_000_000;

/**
 * round(minor × rateE9 / 1e9), half away from zero, exact for any amount whose result
 * fits an Int64: the rate is split into its whole part and its billionths, and the
 * amount into its billions and the rest, so that no partial product exceeds 2e18.
 */
export function convertedMinorSql(minor: string, rateE9: string): string {
  const a = `toInt64(abs(${minor}))`;
  const whole = `toInt64(intDiv(${rateE9}, ${SCALE}))`;
  const frac = `toInt64(${rateE9} % ${SCALE})`;
  const magnitude = `${a} * ${whole} + intDiv(${a}, ${SCALE}) * ${frac} + intDiv(2 * (${a} % ${SCALE}) * ${frac} + ${SCALE}, ${2 * SCALE})`;
  return `if(${minor} < 0, -1, 1) * (${magnitude})`;
}

/**
 * Per currency, its rates into the report currency as two parallel arrays sorted by
 * day: the fixed rates of the configuration as of day 0, then the uploaded ones
 * (on the same day an uploaded rate sorts after, and so wins).
 */
export function ratesByCurrencySql(db: string, money: ReportMoney): string {
  const uploaded = `SELECT currency, day, toUInt8(1) AS uploaded, argMax(rate_e9, uploaded_at) AS rate_e9
    FROM ${ident(db)}.exchange_rates WHERE base = ${str(money.currency)} GROUP BY currency, day`;
  const fixed = money.fixedRates.length
    ? `SELECT tupleElement(r, 1) AS currency, toDate(0) AS day, toUInt8(0) AS uploaded, tupleElement(r, 2) AS rate_e9
    FROM system.one ARRAY JOIN [${money.fixedRates.map((r) => `(${str(r.currency)}, toUInt64(${digits(r.rateE9)}))`).join(', ')}] AS r
    UNION ALL `
    : '';
  return `SELECT currency, arrayMap(x -> tupleElement(x, 1), rs) AS rate_days, arrayMap(x -> tupleElement(x, 3), rs) AS rate_e9s
  FROM (
    SELECT currency, arraySort(groupArray(tuple(day, uploaded, rate_e9))) AS rs
    FROM (${fixed}${uploaded})
    GROUP BY currency
  )`;
}

/** A string of decimal digits, checked (rates are never spliced unchecked). */
function digits(s: string): string {
  if (!/^\d{1,19}$/.test(s)) throw new TypeError(`not a rate: ${s}`);
  return s;
}

export type InReportCurrency = {
  db: string;
  money: ReportMoney;
  /** A SELECT giving `keep`, `currency`, `own_minor` (the amount in its currency) and `money_day` (the Date whose rate applies). */
  from: string;
  keep: string[];
  /** Names of the amount and of its currency in the result. */
  minor: string;
  currency: string;
};

/**
 * `from`'s rows with the amount in the report currency where a rate is known:
 * `minor` is then converted and `currency` is the report currency; without a rate
 * `minor` is the amount as it was and `currency` its own.
 */
export function inReportCurrencySql(x: InReportCurrency): string {
  const base = str(x.money.currency);
  // The latest rate on or before the day: the rate days are sorted, so their count up to it is its index.
  // money_day reaches the lambda as an array argument (18.16 prunes a column used only in a lambda).
  const at = `arrayCount((d, m) -> d <= m, rate_days, arrayResize([money_day], length(rate_days), money_day))`;
  return `SELECT ${x.keep.join(', ')},
    currency IN ('', ${base}) AS same_currency,
    if(same_currency, toUInt64(0), if(rate_i = 0, toUInt64(0), rate_e9s[rate_i])) AS rate_e9,
    ${at} AS rate_i,
    if(same_currency OR rate_e9 = 0, own_minor, ${convertedMinorSql('own_minor', 'rate_e9')}) AS ${ident(x.minor)},
    if(same_currency OR rate_e9 > 0, ${base}, currency) AS ${ident(x.currency)}
  FROM (${x.from}) AS a ANY LEFT JOIN (${ratesByCurrencySql(x.db, x.money)}) AS r USING currency`;
}
