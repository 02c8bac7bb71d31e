// Exchange rates as the user writes them: into integer billionths, never through
// a binary fraction; the fixed rates of REPORT_RATES; the rows of a rates upload.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../collector/src/config.js';
import { parseFixedRates, rateE9 } from '../../collector/src/currency/rate.js';
import { parseRates } from '../../collector/src/currency/upload.js';

describe('exchange rates', () => {
  it('reads a rate as exact billionths of the report currency', () => {
    expect(rateE9('92.5')).toBe('92500000000');
    expect(rateE9(92.5)).toBe('92500000000');
    expect(rateE9('0,0105')).toBe('10500000');
    expect(rateE9('0.000000001')).toBe('1');
    expect(rateE9('999999999.999999999')).toBe('999999999999999999');
    for (const bad of ['0', '0.0', '-1', '1e3', '', 'abc', '1.0000000001', '1000000000', NaN, Infinity, null, {}]) expect(rateE9(bad), String(bad)).toBeNull();
    // Any decimal text with up to 9 digits each side: the same digits, no float on the way.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 999_999_999 }), (whole, frac) => {
        fc.pre(whole + frac > 0);
        const text = `${whole}.${String(frac).padStart(9, '0')}`;
        expect(rateE9(text)).toBe((BigInt(whole) * 1_000_000_000n + BigInt(frac)).toString());
      }),
    );
  });

  it('reads REPORT_RATES as pairs or JSON, and refuses what it cannot use with the reason', () => {
    expect(parseFixedRates('USD=92.5, eur = 100.1', 'RUB')).toEqual({ rates: [{ currency: 'USD', rateE9: '92500000000' }, { currency: 'EUR', rateE9: '100100000000' }] });
    expect(parseFixedRates('{"USD": 92.5, "KZT": "0.19"}', 'RUB')).toEqual({ rates: [{ currency: 'USD', rateE9: '92500000000' }, { currency: 'KZT', rateE9: '190000000' }] });
    expect(parseFixedRates('', 'RUB')).toEqual({ rates: [] });
    expect(parseFixedRates('RUB=1', 'RUB')).toMatchObject({ error: expect.stringMatching(/report currency/) });
    expect(parseFixedRates('USD=1,USD=2', 'RUB')).toMatchObject({ error: expect.stringMatching(/twice/) });
    expect(parseFixedRates('USD', 'RUB')).toMatchObject({ error: expect.stringMatching(/CURRENCY=rate/) });
    expect(parseFixedRates('DOLLAR=1', 'RUB')).toMatchObject({ error: expect.stringMatching(/3-letter/) });
    expect(parseFixedRates('USD=-1', 'RUB')).toMatchObject({ error: expect.stringMatching(/positive/) });
    expect(parseFixedRates('{"USD": ', 'RUB')).toMatchObject({ error: expect.stringMatching(/JSON/) });
  });

  it('configures the report currency (RUB by default) and its fixed rates, naming a bad variable', () => {
    expect(loadConfig({}).money).toEqual({ currency: 'RUB', fixedRates: [] });
    expect(loadConfig({ REPORT_CURRENCY: 'USD', REPORT_RATES: 'RUB=0.0108' }).money).toEqual({ currency: 'USD', fixedRates: [{ currency: 'RUB', rateE9: '10800000' }] });
    expect(() => loadConfig({ REPORT_CURRENCY: 'usd' })).toThrow(/REPORT_CURRENCY/);
    expect(() => loadConfig({ REPORT_RATES: 'USD=abc' })).toThrow(/REPORT_RATES/);
  });

  it('checks an uploaded rates file whole, each bad row with its reason', () => {
    expect(parseRates('date,currency,rate\n2026-03-01,usd,92.5\n', false, 'RUB')).toEqual({ rows: [{ day: '2026-03-01', currency: 'USD', rate_e9: '92500000000' }], problems: [] });
    expect(parseRates('[{"date":"2026-03-01","currency":"EUR","rate":100.25}]', true, 'RUB').rows).toEqual([{ day: '2026-03-01', currency: 'EUR', rate_e9: '100250000000' }]);
    const bad = parseRates('date;currency;rate\n2026-02-30;USD;1\n2026-03-01;RUB;1\n2026-03-01;USD;0\n2026-03-01;USD;92.5\n', false, 'RUB');
    expect(bad.problems.map((p) => p.row)).toEqual([1, 2, 3]);
    expect(bad.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/^date/), expect.stringMatching(/report currency/), expect.stringMatching(/^rate/)]);
    expect(parseRates('{"rows": 5}', true, 'RUB').problems).toEqual([{ row: 0, reason: expect.stringMatching(/array/) }]);
    expect(parseRates('', false, 'RUB').problems).toEqual([{ row: 0, reason: 'no rows' }]);
  });
});
