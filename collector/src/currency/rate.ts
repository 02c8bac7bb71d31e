// Exchange rates as the user gives them: how many units of the report currency
// one unit of another currency is worth ("USD=92.5": one dollar is 92.50 rubles
// when reports are in RUB). A rate is kept as an integer count of billionths
// (`rateE9`), so that conversion works on integers end to end: 92.5 is
// 92 500 000 000, and no binary fraction ever touches money.
//
// Minor units are hundredths of every currency here (crm/money.ts, costs), so a
// rate between major units is also the rate between minor units.

/** An ISO 4217 code as stored: three capital letters. */
export const CURRENCY = /^[A-Z]{3}$/;

/** Billionths in one unit of a rate. */
export const RATE_SCALE = 1_000_000_000n;

/** Up to 9 digits before the point and 9 after: rateE9 then fits an Int64 with room for the arithmetic. */
const RATE_TEXT = /^(\d{1,9})(?:\.(\d{1,9}))?$/;

export const RATE_RULE = 'a positive decimal with at most 9 digits before and after the point (92.5, 0.0105)';

/** "92.5" or 92.5 -> "92500000000" (billionths, as decimal digits); null when not a rate or not positive. */
export function rateE9(raw: unknown): string | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  if (typeof raw === 'number' && !Number.isFinite(raw)) return null;
  const m = RATE_TEXT.exec(String(raw).trim().replace(',', '.'));
  if (!m) return null;
  const units = BigInt(m[1]!) * RATE_SCALE + BigInt((m[2] ?? '').padEnd(9, '0'));
  return units > 0n ? units.toString() : null;
}

/** A rate of the configuration (REPORT_RATES): it applies on any day without an uploaded rate on or before it. */
export type FixedRate = { currency: string; rateE9: string };

/** What reports need to know about money: their currency and the fixed rates of the configuration. */
export type ReportMoney = { currency: string; fixedRates: FixedRate[] };

export const DEFAULT_REPORT_MONEY: ReportMoney = { currency: 'RUB', fixedRates: [] };

/**
 * REPORT_RATES: `USD=92.5,EUR=100.1` or JSON `{"USD": 92.5, "EUR": "100.1"}`.
 * Every currency once; the report currency itself is always 1 and may not be given.
 */
export function parseFixedRates(text: string, reportCurrency: string): { rates: FixedRate[] } | { error: string } {
  let pairs: [string, unknown][];
  const trimmed = text.trim();
  if (trimmed === '') return { rates: [] };
  if (trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch {
      return { error: 'not valid JSON' };
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return { error: 'expected a JSON object of currency: rate' };
    pairs = Object.entries(data);
  } else {
    pairs = [];
    for (const part of trimmed.split(',').map((s) => s.trim()).filter(Boolean)) {
      const eq = part.indexOf('=');
      if (eq < 0) return { error: `"${part}" is not CURRENCY=rate` };
      pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  }
  const rates: FixedRate[] = [];
  for (const [code, raw] of pairs) {
    const currency = code.toUpperCase();
    if (!CURRENCY.test(currency)) return { error: `${JSON.stringify(code)} is not a 3-letter currency code` };
    if (currency === reportCurrency) return { error: `${currency} is the report currency (its rate is 1)` };
    if (rates.some((r) => r.currency === currency)) return { error: `${currency} is given twice` };
    const e9 = rateE9(raw);
    if (e9 === null) return { error: `${currency}: the rate must be ${RATE_RULE}` };
    rates.push({ currency, rateE9: e9 });
  }
  return { rates };
}
