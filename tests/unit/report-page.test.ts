// The rules behind the report page, without a browser: money written with its
// currency in both languages (negative, zero and past 2^53 minor units), rows by
// name, the language from Accept-Language and the switch, the page's periods
// (presets, the previous period) and the arithmetic of a change, the chart's
// axis, the funnel's conversions, and hostile keys escaped.
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../collector/src/channels/classify.js';
import type { Report, ReportRow } from '../../collector/src/reports/build.js';
import { change, compareReports } from '../../collector/src/reports/compare.js';
import { formatMinor, resolutionNote } from '../../collector/src/reports/format.js';
import { presetOf, presetPeriod, previousPeriod } from '../../collector/src/reports/period.js';
import { axisTicks } from '../../collector/src/reports/views/chart.js';
import { amount, money, moneyChange, moneyShort, percentChange, periodText } from '../../collector/src/reports/views/figures.js';
import { funnelSteps, funnelView } from '../../collector/src/reports/views/funnel.js';
import { keyName } from '../../collector/src/reports/views/names.js';
import { overviewView } from '../../collector/src/reports/views/overview.js';
import { pageHref, parsePageQuery } from '../../collector/src/reports/views/query.js';
import { WORDS } from '../../collector/src/reports/words.js';
import { LANG_COOKIE, pageLang } from '../../collector/src/web/lang.js';

/** Intl's Russian: a no-break space between thousands and before the sign. */
const NBSP = '\u00a0';

const row = (key: string, over: Partial<ReportRow> = {}): ReportRow => ({
  key, visits: 0, visitors: 0, leads: 0, deals: 0, won: 0, returned: 0, lost: 0, revenue_minor: 0, cost_minor: 0,
  cpl_minor: null, cpo_minor: null, roi: null, conversion: null, avg_deal_minor: null, unconverted: [],
  stages: [{ stage: 'lead', passed: 0, refused: 0 }], ...over,
});

const report = (rows: ReportRow[], over: Partial<Report> = {}): Report => ({
  model: 'linear', period: { from: '2026-03-01', to: '2026-03-31' }, group: 'channel', windowDays: 90, currency: 'RUB', modelLabel: 'Linear',
  stages: ['lead'], rows, totals: row('(total)', { revenue_minor: rows.reduce((s, r) => s + r.revenue_minor, 0), visits: rows.reduce((s, r) => s + r.visits, 0) }), ms: 0,
  resolution: { generation: 1, run: 1, finishedAt: '2026-03-31T10:00:00Z', ageSeconds: 600, current: true, refreshing: false, waitedMs: 0 },
  ...over,
});

describe('report page', () => {
  it('writes money with its currency and separators, exactly, in English and Russian', () => {
    expect(money(7_000_001, 'RUB', 'en')).toBe('₽70,000.01');
    expect(money(7_000_001, 'RUB', 'ru')).toBe(`70${NBSP}000,01${NBSP}₽`);
    expect(money(-5, 'RUB', 'en')).toBe('-₽0.05');
    expect(money(-5, 'RUB', 'ru')).toBe(`-0,05${NBSP}₽`);
    expect(money(0, 'RUB', 'en')).toBe('₽0.00');
    expect(money(0, 'RUB', 'ru')).toBe(`0,00${NBSP}₽`);
    expect(money(123_450, 'USD', 'en')).toBe('$1,234.50');
    expect(money(123_450, 'EUR', 'ru')).toBe(`1${NBSP}234,50${NBSP}€`);
    // Past 2^53 minor units every digit is the number's own: no float ever divides it.
    expect(money(2 ** 60, 'RUB', 'en')).toBe('₽11,529,215,046,068,469.76');
    expect(money(1e21, 'RUB', 'en')).toBe('₽10,000,000,000,000,000,000.00');
    expect(money(-(2 ** 60), 'RUB', 'ru')).toBe(`-11${NBSP}529${NBSP}215${NBSP}046${NBSP}068${NBSP}469,76${NBSP}₽`);
    expect(formatMinor(1e21)).toBe('10000000000000000000.00');
    expect(formatMinor(-0.4)).toBe('0.00');
    // A fractional cost per lead (a model's share) is rounded to the kopeck once.
    expect(money(900_000.0009, 'RUB', 'en')).toBe('₽9,000.00');
    expect(amount(5_000, 'en')).toBe('50.00');
    expect(amount(123_456_789, 'ru')).toBe(`1${NBSP}234${NBSP}567,89`);
    expect(moneyChange(500_000, 'RUB', 'en')).toBe('+₽5,000.00');
    expect(moneyChange(-1, 'RUB', 'en')).toBe('-₽0.01');
    expect(moneyChange(0, 'RUB', 'en')).toBe('₽0.00');
    expect(moneyChange(9_500_001, 'RUB', 'ru')).toBe(`+95${NBSP}000,01${NBSP}₽`);
    expect(moneyShort(20_000, 'RUB', 'en')).toBe('₽20K');
    expect(moneyShort(1_500_000, 'RUB', 'ru')).toBe(`1,5${NBSP}млн${NBSP}₽`);
    expect(percentChange(9.500001, 'en')).toBe('+950%');
    expect(percentChange(-0.5, 'ru')).toBe(`-50${NBSP}%`);
  });

  it('names every channel the rules can give, in both languages; an unknown key as it is', () => {
    for (const lang of ['en', 'ru'] as const) {
      const names = CHANNELS.map((c) => keyName(c, 'channel', lang));
      expect(new Set(names).size, lang).toBe(CHANNELS.length);
      for (const [i, c] of CHANNELS.entries()) expect(names[i], `${lang} ${c}`).not.toBe(c);
    }
    expect(keyName('paid_search', 'channel', 'en')).toBe('Paid search');
    expect(keyName('paid_search', 'channel', 'ru')).toBe('Контекстная реклама');
    expect(keyName('(unattributed)', 'campaign', 'en')).toBe('No visit found (unattributed)');
    expect(keyName('(total)', 'source', 'ru')).toBe('Итого');
    expect(keyName('2026-03-01', 'month', 'en')).toBe('March 2026');
    expect(keyName('2026-03-01', 'month', 'ru')).toMatch(/^Март 2026\sг\.$/);
    expect(keyName('(direct)', 'source', 'en')).toBe('Direct (no source)');
    // A key no rule knows, and a channel name used as a source, are shown as they are.
    expect(keyName('tiktok_ads', 'channel', 'en')).toBe('tiktok_ads');
    expect(keyName('paid_search', 'source', 'en')).toBe('paid_search');
  });

  it('escapes a hostile key wherever the page shows it', () => {
    const key = '<img src=x onerror=alert(1)>"';
    const r = report([row(key, { revenue_minor: 100, visits: 1, stages: [{ stage: '<b>lead</b>', passed: 1, refused: 0 }] })], { stages: ['<b>lead</b>'] });
    const html = overviewView(r, null, 'en') + funnelView(r, key, 'en');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain('data-key="&#60;img src=x onerror=alert(1)&#62;&#34;"');
  });

  it('speaks the language of the switch, then of its cookie, then of Accept-Language, else English', () => {
    const req = (accept?: string, cookie?: string, lang?: string) => ({ headers: { 'accept-language': accept, cookie }, query: lang ? { lang } : {} }) as unknown as Request;
    expect(pageLang(req('ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7'))).toBe('ru');
    expect(pageLang(req('en-US,en;q=0.9,ru;q=0.8'))).toBe('en');
    expect(pageLang(req('de-DE,de;q=0.9,ru;q=0.5,en;q=0.3'))).toBe('ru');
    expect(pageLang(req('en;q=0.2, ru;q=0.8'))).toBe('ru');
    expect(pageLang(req('ru;q=0, fr'))).toBe('en');
    expect(pageLang(req('fr-FR'))).toBe('en');
    expect(pageLang(req(undefined))).toBe('en');
    expect(pageLang(req('ru-RU', `${LANG_COOKIE}=en`))).toBe('en');
    expect(pageLang(req('ru-RU', `${LANG_COOKIE}=de`))).toBe('ru');
    const set: [string, string][] = [];
    const res = { cookie: (n: string, v: string) => void set.push([n, v]) } as unknown as Response;
    expect(pageLang(req('en-US', `${LANG_COOKIE}=en`, 'ru'), res)).toBe('ru');
    expect(set).toEqual([[LANG_COOKIE, 'ru']]);
    expect(pageLang(req('ru-RU', undefined, 'xx'), res)).toBe('ru');
    expect(set).toHaveLength(1);
  });

  it('reads the page periods: the last 30 days by default, presets, open ends, and the period before', () => {
    const on = '2026-12-03';
    const q = (p: Record<string, string>) => parsePageQuery(p, 90, on);
    expect(q({})).toMatchObject({ query: { view: 'overview', channel: '', options: { period: { from: '2026-11-04', to: '2026-12-03' }, model: 'last_non_direct', windowDays: 90 } } });
    expect(q({ from: '', to: '' })).toMatchObject({ query: { options: { period: { from: undefined, to: undefined } } } });
    expect(q({ from: '2026-03-01' })).toMatchObject({ query: { options: { period: { from: '2026-03-01', to: undefined } } } });
    expect(q({ view: 'funnel', channel: 'paid_social', window: '30' })).toMatchObject({ query: { view: 'funnel', channel: 'paid_social', window: '30', options: { windowDays: 30 } } });
    expect(q({ view: 'chart' })).toEqual({ error: 'view must be one of overview, funnel, models' });
    expect(q({ from: '2026-03-02', to: '2026-03-01' })).toEqual({ error: 'from is after to' });
    expect(q({ model: 'magic' })).toMatchObject({ error: expect.stringMatching(/^model must be one of/) });

    expect(presetPeriod('7d', on)).toEqual({ from: '2026-11-27', to: on });
    expect(presetPeriod('90d', on)).toEqual({ from: '2026-09-05', to: on });
    expect(presetPeriod('month', on)).toEqual({ from: '2026-12-01', to: on });
    expect(presetPeriod('all', on)).toEqual({});
    expect(presetOf({ from: '2026-11-04', to: on }, on)).toBe('30d');
    expect(presetOf({}, on)).toBe('all');
    expect(presetOf({ from: '2026-03-01', to: '2026-03-31' }, on)).toBeUndefined();

    // The previous period has the same number of days and ends the day before.
    expect(previousPeriod({ from: '2026-03-01', to: '2026-03-31' })).toEqual({ from: '2026-01-29', to: '2026-02-28' });
    expect(previousPeriod({ from: '2024-03-01', to: '2024-03-01' })).toEqual({ from: '2024-02-29', to: '2024-02-29' });
    expect(previousPeriod({ from: '2026-01-01', to: '2026-12-31' })).toEqual({ from: '2025-01-01', to: '2025-12-31' });
    expect(previousPeriod({ from: '2026-03-01' })).toBeNull();
    expect(previousPeriod({})).toBeNull();
    expect(previousPeriod({ from: '1970-01-02', to: '1970-01-02' })).toEqual({ from: '1970-01-01', to: '1970-01-01' });
    expect(previousPeriod({ from: '1970-01-02', to: '1970-01-03' })).toBeNull();

    // Links carry the period as days, and what differs from the defaults.
    const parsed = q({ view: 'funnel', channel: 'a&b', model: 'linear' });
    if (!('query' in parsed)) throw new Error(parsed.error);
    expect(pageHref(parsed.query)).toBe('/reports?view=funnel&model=linear&from=2026-11-04&to=2026-12-03&channel=a%26b');
    expect(pageHref(parsed.query, { view: 'overview', period: {} })).toBe('/reports?model=linear&from=&to=');
    expect(periodText({ from: '2026-03-01', to: '2026-03-31' }, 'en')).toMatch(/^Mar 1\s–\s31, 2026$/);
    expect(periodText({ from: '2026-03-01' }, 'ru')).toMatch(/^с 1 мар\.\s2026\sг\.$/);
    expect(periodText({}, 'en')).toBe('any time');
  });

  it('works out each change: absolute, relative to the earlier figure, none from zero', () => {
    expect(change(10_500_001, 1_000_000)).toEqual({ now: 10_500_001, before: 1_000_000, change: 9_500_001, pct: 9.500001 });
    expect(change(500_000, 1_000_000)).toEqual({ now: 500_000, before: 1_000_000, change: -500_000, pct: -0.5 });
    expect(change(3, 0)).toEqual({ now: 3, before: 0, change: 3, pct: null });
    expect(change(0, 0)).toEqual({ now: 0, before: 0, change: 0, pct: null });
    expect(change(0.3, 0.1)).toEqual({ now: 0.3, before: 0.1, change: 0.2, pct: 2 }); // float dust tidied
    expect(change(-50, -100)).toMatchObject({ change: 50, pct: 0.5 });
    // Money past 2^53 minor units subtracts exactly while both fit a double's integers.
    expect(change(2 ** 60, 2 ** 60 - 1024).change).toBe(1024);

    const now = report([row('paid_search', { visits: 3, revenue_minor: 300 }), row('direct', { visits: 1 })]);
    const before = report([row('email', { visits: 2, revenue_minor: 100 }), row('paid_search', { visits: 1, revenue_minor: 400 })], { period: { from: '2026-01-29', to: '2026-02-28' } });
    const cmp = compareReports(now, before, { from: '2026-01-29', to: '2026-02-28' });
    expect(cmp.rows.map((r) => r.key)).toEqual(['paid_search', 'direct', 'email']);
    expect(cmp.rows[0]!.revenue_minor).toEqual({ now: 300, before: 400, change: -100, pct: -0.25 });
    expect(cmp.rows[0]!.visits).toEqual({ now: 3, before: 1, change: 2, pct: 2 });
    expect(cmp.rows[2]!.visits).toEqual({ now: 0, before: 2, change: -2, pct: -1 });
    expect(cmp.totals.revenue_minor).toEqual({ now: 300, before: 500, change: -200, pct: -0.4 });
    // Months never line up across two periods: compared in total only.
    const months = compareReports({ ...now, group: 'month' }, { ...before, group: 'month' }, cmp.period);
    expect(months.rows).toEqual([]);
    expect(months.totals.visits.change).toBe(1);
  });

  it('draws an axis of round ticks over the largest value, and the funnel conversions', () => {
    expect(axisTicks(46_666.67)).toEqual([0, 20_000, 40_000, 60_000]);
    expect(axisTicks(1)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(axisTicks(3_400)).toEqual([0, 1_000, 2_000, 3_000, 4_000]);
    expect(axisTicks(0.01)).toEqual([0, 0.01]);
    expect(axisTicks(0.05)).toEqual([0, 0.02, 0.04, 0.06]);
    expect(axisTicks(0)).toEqual([]);
    expect(axisTicks(NaN)).toEqual([]);
    for (const max of [7, 99.99, 12_345, 1e12]) {
      const t = axisTicks(max);
      expect(t.at(-1)!, String(max)).toBeGreaterThanOrEqual(max);
      expect(t.length, String(max)).toBeLessThanOrEqual(6);
    }

    const steps = funnelSteps([
      { stage: 'lead', passed: 5, refused: 0 },
      { stage: 'qualified', passed: 5, refused: 1 },
      { stage: 'proposal', passed: 4, refused: 0 },
      { stage: 'won', passed: 0, refused: 0 },
      { stage: 'repeat', passed: 0, refused: 0 },
    ]);
    expect(steps.map((s) => [s.fromPrevious, s.fromFirst])).toEqual([[null, 1], [1, 1], [0.8, 0.8], [0, 0], [null, 0]]);
    expect(funnelSteps([{ stage: 'lead', passed: 0, refused: 0 }])[0]).toMatchObject({ fromPrevious: null, fromFirst: null });
  });

  it('says the resolution sentence in each language, the English one as the CLI does', () => {
    const r = { generation: 3, run: 3, finishedAt: '2026-03-31T10:00:00Z', ageSeconds: 600, current: false, refreshing: true, waitedMs: 0 };
    expect(WORDS.en.resolution(r)).toBe(resolutionNote(r));
    expect(resolutionNote(r)).toBe('Identities resolved 2026-03-31 10:00:00 UTC (10 min ago): hits, deals or links arrived since and a refresh is running; ask again shortly for figures that include them.');
    expect(WORDS.ru.resolution({ ...r, current: true, refreshing: false, waitedMs: 1500 })).toBe(
      'Посетители сопоставлены 2026-03-31 10:00:00 UTC (10 мин назад), для этого отчёта (1,5 с): в цифрах все сохранённые визиты, сделки и связи.',
    );
  });
});
