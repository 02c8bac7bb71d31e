// The pure rules behind the report's outputs and parameters: CSV cells a
// spreadsheet would run, text a terminal would run, the days ClickHouse holds,
// parameters given once, and the page's session cookie.
import { parse as parseCsv } from 'csv-parse/sync';
import type { Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { terminalLines, terminalText } from '../../collector/src/cli/terminal.js';
import { isStorableDay } from '../../collector/src/clickhouse/days.js';
import type { Report, ReportRow } from '../../collector/src/reports/build.js';
import { reportCsv } from '../../collector/src/reports/format.js';
import { onceEach, parseReportOptions, REPORT_PARAMS } from '../../collector/src/reports/options.js';
import { cookieValue } from '../../collector/src/http/forwarded.js';
import { SESSION_SECONDS, SESSIONS, sessionCookies } from '../../collector/src/http/session.js';

const SESSION_COOKIE = SESSIONS.reports.cookie;

const row = (key: string, over: Partial<ReportRow> = {}): ReportRow => ({
  key, visits: 1, visitors: 1, leads: 1, deals: 1, won: 1, returned: 0, lost: 0, revenue_minor: 7500, cost_minor: 10_000,
  cpl_minor: 10_000, cpo_minor: 10_000, roi: -0.25, conversion: 1, avg_deal_minor: 7500, stages: [{ stage: '=stage', passed: 1, refused: 0 }], unconverted: [], ...over,
});

const report = (keys: string[]): Report => ({
  model: 'linear', period: {}, group: 'source', windowDays: 90, currency: 'RUB', modelLabel: 'Linear', stages: ['=stage'],
  rows: keys.map((k) => row(k)), totals: row('(total)'), ms: 0,
  resolution: { generation: 1, run: 1, finishedAt: '2026-03-01T00:00:00Z', ageSeconds: 0, current: true, refreshing: false, waitedMs: 0 },
});

describe('report outputs', () => {
  it('10. CSV text cells a spreadsheet would run get an apostrophe; figures, negative ones too, stay numbers', () => {
    const keys = ['=1+1', '+1', '-1+1', '@SUM(A1)', '\tx', '\rx', '\uFF1D1', 'yandex', 'a=b'];
    const cells = parseCsv(reportCsv(report(keys)), { relax_quotes: true }) as string[][];
    const head = cells[0]!;
    expect(head).toContain('passed:=stage');
    expect(cells.slice(1, -1).map((r) => r[0])).toEqual(["'=1+1", "'+1", "'-1+1", "'@SUM(A1)", "'\tx", "'\rx", "'\uFF1D1", 'yandex', 'a=b']);
    const first = cells[1]!;
    expect(first[head.indexOf('roi')]).toBe('-0.25');
    expect(first[head.indexOf('revenue')]).toBe('75.00');
    expect(first[head.indexOf('cost')]).toBe('100.00');
    expect(first[head.indexOf('visits')]).toBe('1');
  });

  it('10. text for a terminal loses every control character and bidirectional override', () => {
    expect(terminalText('a\x1b[2Jb\x07c\x9b31md\x7fe\u202Ef\tg')).toBe('a[2Jbc31mdefg');
    expect(terminalLines('one\x1b]0;t\x07\ntwo\r\n')).toBe('one]0;t\ntwo\n');
  });

  it('15. a day is a calendar day ClickHouse holds: 1970-01-01 to 2105-12-31', () => {
    for (const d of ['1970-01-01', '2024-02-29', '2105-12-31']) expect(isStorableDay(d), d).toBe(true);
    for (const d of ['1969-12-31', '2106-01-01', '9999-12-31', '2026-02-30', '2025-02-29', '2026-13-01', '2026-1-01', ' 2026-01-01', '']) expect(isStorableDay(d), d).toBe(false);
    expect(parseReportOptions({ to: '9999-12-31' }, 90)).toMatchObject({ error: expect.stringMatching(/2105-12-31/) });
  });

  it('15. each parameter once, and only known ones', () => {
    expect(onceEach([['from', '2026-01-01'], ['model', 'linear']], REPORT_PARAMS)).toEqual({ params: { from: '2026-01-01', model: 'linear' } });
    expect(onceEach([['from', 'a'], ['from', 'b']], REPORT_PARAMS)).toEqual({ error: 'from is given more than once' });
    expect(onceEach([['model[]', 'x']], REPORT_PARAMS)).toEqual({ error: 'unknown parameter "model[]"' });
    expect(onceEach([['token', 'x']], REPORT_PARAMS)).toMatchObject({ error: expect.stringMatching(/never taken from a URL/) });
    expect(onceEach([['__proto__', 'x']], REPORT_PARAMS)).toMatchObject({ error: expect.stringMatching(/unknown/) });
  });

  it('13. a session cookie is made from the token, ends by itself, and opens nothing when altered', () => {
    const token = 'session-token-0123456789';
    const sessions = sessionCookies([]);
    let set = '';
    const res = { cookie: (_n: string, v: string) => void (set = v) } as unknown as Response;
    const req = (cookie?: string) => ({ headers: { cookie }, socket: {} }) as unknown as Request;
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    sessions.start(req(), res, token, t0);
    expect(set).not.toContain(token);
    const jar = `other=1; ${SESSION_COOKIE}=${set}`;
    expect(cookieValue(jar, SESSION_COOKIE)).toBe(set);
    expect(sessions.valid(req(jar), token, t0 + 1000)).toBe(true);
    expect(sessions.valid(req(jar), `${token}x`, t0 + 1000)).toBe(false);
    expect(sessions.valid(req(jar), token, t0 + SESSION_SECONDS * 1000)).toBe(false);
    const [expires, mac] = set.split('.') as [string, string];
    expect(sessions.valid(req(`${SESSION_COOKIE}=${Number(expires) + 3600}.${mac}`), token, t0)).toBe(false);
    expect(sessions.valid(req(`${SESSION_COOKIE}=${token}`), token, t0)).toBe(false);
    // Another page's session, made from the same token, opens nothing here.
    let other = '';
    sessionCookies([], 'crmSetup').start(req(), { cookie: (_n: string, v: string) => void (other = v) } as unknown as Response, token, t0);
    expect(sessions.valid(req(`${SESSION_COOKIE}=${other}`), token, t0 + 1000)).toBe(false);
  });
});
