// Money in more than one currency: every amount keeps its currency, reports are
// in one report currency (REPORT_CURRENCY) converted by the rates the user
// supplies (uploaded daily rates, fixed REPORT_RATES), and an amount without a
// rate is reported apart, never added to the report currency's figures.
//
// Journeys of March 2026 (one visit each, so every model credits the same channel):
//   U  paid search  deal 301 won 2026-03-10   100.01 USD  rate of 03-09: 92.5 -> 9 250.925 -> 9 250.93 RUB
//   R  organic      deal 302 won 2026-03-12 1 000.00 RUB                                     1 000.00 RUB
//   E  social       deal 303 won 2026-03-14    50.00 EUR  no EUR rate uploaded: reported apart as EUR
//   W  referral     deal 304 won 2026-03-02    10.00 USD  rate of 03-01: 90 ->                 900.00 RUB
// Costs: yandex/cpc 2026-03-05 10.00 USD (rate of 03-01: 90 -> 900.00 RUB), vk/cpc 2026-03-14 5.00 EUR (no rate),
//        yandex/cpc 2026-03-06 100.00 with no currency (the report currency).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';
import { convertedMinorSql } from '../../collector/src/currency/sql.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { dealRow, funnelConfigFile, insertLinks, type DealVersion } from '../helpers/crm-fixtures.js';
import { cliEnv, startCollector, type RunningCollector } from '../helpers/collector.js';
import { SCENARIO_COLLECTOR_ENV } from '../helpers/report-scenario.js';

const TOKEN = 'currency-token-0123456789abcdef';
const PERIOD = 'from=2026-03-01&to=2026-03-31';
const FULL = ['lead', 'won'];

type Unconverted = { currency: string; revenue_minor: number; cost_minor: number };
type Row = { key: string; revenue_minor: number; cost_minor: number; unconverted: Unconverted[] };
type Body = { currency: string; rows: Row[]; totals: Row };

const at = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);
const VISITS = [
  { v: 'UUUUUU', t: '2026-03-09 10:00:00', u: 'https://shop.example/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand' },
  { v: 'RRRRRR', t: '2026-03-11 10:00:00', u: 'https://shop.example/', r: 'https://www.google.com/' },
  { v: 'EEEEEE', t: '2026-03-13 10:00:00', u: 'https://shop.example/', r: 'https://vk.com/wall-1' },
  { v: 'WWWWWW', t: '2026-03-01 10:00:00', u: 'https://shop.example/', r: 'https://blog.example.org/post' },
];

type Deal = DealVersion & { currency: string };
const won = (id: string, visitor: string, day: string, amount_minor: number, currency: string): Deal => ({
  source: 'shop', deal_id: id, version: 1, created_at: `${day} 09:00:00`, closed_at: `${day} 12:00:00`, outcome: 'won', amount_minor, currency, stages_passed: FULL, visitor_id: visitor,
});
const DEALS: Deal[] = [
  won('301', 'UUUUUU', '2026-03-10', 10_001, 'USD'),
  won('302', 'RRRRRR', '2026-03-12', 100_000, 'RUB'),
  won('303', 'EEEEEE', '2026-03-14', 5_000, 'EUR'),
  won('304', 'WWWWWW', '2026-03-02', 1_000, 'USD'),
];

const RATES_CSV = `date,currency,rate
2026-03-01,USD,90
2026-03-09,usd,92.5
2026-03-20,USD,95.125
`;
const COSTS_CSV = `date,source,medium,campaign,cost,currency
2026-03-05,yandex,cpc,brand,10.00,USD
2026-03-06,yandex,cpc,brand,100.00,
2026-03-14,vk,cpc,spring,5.00,EUR
`;

describe('reports in one currency', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const post = (path: string, body: string, type: string) => fetch(`${collector.url}${path}`, { method: 'POST', body, headers: { 'Content-Type': type, ...auth } });
  const report = async (query: string) => {
    const r = await fetch(`${collector.url}/api/reports/channels?${query}`, { headers: auth });
    expect(r.status).toBe(200);
    return (await r.json()) as Body;
  };
  const byKey = (rows: Row[]) => Object.fromEntries(rows.map((r) => [r.key, r]));

  beforeAll(async () => {
    db = await freshDatabase();
    // Deals and links first: on the embedded engine nothing but the collector writes while it runs.
    await db.client.insert({ table: 'deals', values: DEALS.map((d) => ({ ...dealRow(d), currency: d.currency })), format: 'JSONEachRow' });
    await insertLinks(db.client, DEALS.map((d) => ['deal', `shop:${d.deal_id}`, 'visitor', d.visitor_id!, 'crm']));
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REPORTS_TOKEN: TOKEN, ...SCENARIO_COLLECTOR_ENV, CRM_CONFIG: funnelConfigFile(FULL) });
    for (const x of VISITS) {
      const body = JSON.stringify({ s: 'shop', k: 'visit', e: randomBytes(8).toString('hex'), t: at(x.t), u: x.u, r: x.r ?? '', g: '', y: '', v: x.v });
      const res = await fetch(`${collector.url}/hit`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
      expect(res.status).toBe(204);
    }
    await eventually(() => db.rows<{ n: string }>('SELECT count() AS n FROM hits'), 10_000, (r) => r[0]?.n === String(VISITS.length));
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
  });

  it('converts in integer arithmetic, rounding half away from zero, exactly for any amount and rate', async () => {
    // Oracle: BigInt arithmetic on the same integers; ClickHouse evaluates the report's expression.
    const cases = fc.sample(
      fc.record({
        minor: fc.oneof(fc.integer({ min: -1_000_000, max: 1_000_000 }), fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }).map(Number)),
        rate: fc.oneof(fc.bigInt({ min: 1n, max: 1000n * 10n ** 9n }), fc.bigInt({ min: 1n, max: 10n ** 18n - 1n })),
      }),
      300,
    ).filter(({ minor, rate }) => BigInt(Math.abs(minor)) * rate < 9n * 10n ** 27n);
    cases.push({ minor: 10_001, rate: 92_500_000_000n }, { minor: -10_001, rate: 92_500_000_000n }, { minor: 1, rate: 500_000_000n }, { minor: 3, rate: 166_666_667n });
    const expected = ({ minor, rate }: { minor: number; rate: bigint }) => {
      const a = BigInt(Math.abs(minor));
      const q = (2n * a * rate + 10n ** 9n) / (2n * 10n ** 9n);
      return (minor < 0 ? -q : q).toString();
    };
    const fits = cases.filter((c) => BigInt(expected(c)) < 2n ** 63n && -BigInt(expected(c)) < 2n ** 63n);
    const got = await db.rows<{ v: string }>(
      `SELECT ${convertedMinorSql('m', 'r')} AS v FROM (SELECT tupleElement(x, 1) AS m, tupleElement(x, 2) AS r FROM system.one
       ARRAY JOIN [${fits.map((c) => `(toInt64(${c.minor}), toUInt64(${c.rate}))`).join(', ')}] AS x)`,
    );
    expect(got.map((r) => r.v)).toEqual(fits.map(expected));
    expect(expected({ minor: 10_001, rate: 92_500_000_000n })).toBe('925093');
  });

  it('takes daily rates as CSV and JSON, replaces a re-uploaded day, and names every bad row', async () => {
    const bad = await post('/api/rates', 'date,currency,rate\n2026-02-30,USD,90\n2026-03-01,US,90\n2026-03-01,EUR,-1\n2026-03-01,EUR,0\n2026-03-01,RUB,1\n', 'text/csv');
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string; problems: { row: number; reason: string }[] };
    expect(body.error).toBe('invalid_rates');
    expect(body.problems.map((p) => p.row)).toEqual([1, 2, 3, 4, 5]);
    expect(body.problems[4]!.reason).toMatch(/report currency/);
    expect((await post('/api/rates', '<x/>', 'application/xml')).status).toBe(415);
    expect((await fetch(`${collector.url}/api/rates`, { method: 'POST', body: RATES_CSV, headers: { 'Content-Type': 'text/csv' } })).status).toBe(401);

    const first = await post('/api/rates', JSON.stringify([{ date: '2026-03-09', currency: 'USD', rate: 1 }]), 'application/json');
    expect(first.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // uploaded_at has one-second resolution
    const csv = await post('/api/rates', RATES_CSV, 'text/csv');
    expect(csv.status).toBe(200);
    expect(await csv.json()).toMatchObject({ stored: 3, base: 'RUB' });
    expect(await db.rows(`SELECT currency, toString(day) AS day, argMax(rate_e9, uploaded_at) AS r FROM exchange_rates GROUP BY currency, day ORDER BY day`)).toEqual([
      { currency: 'USD', day: '2026-03-01', r: '90000000000' },
      { currency: 'USD', day: '2026-03-09', r: '92500000000' },
      { currency: 'USD', day: '2026-03-20', r: '95125000000' },
    ]);
    const costs = await post('/api/costs', COSTS_CSV, 'text/csv');
    expect(costs.status).toBe(200);
  });

  it('reports revenue and costs in the report currency, at the rate of the day, to the kopeck', async () => {
    for (const model of ['last_non_direct', 'linear', 'first_click']) {
      const r = await report(`model=${model}&${PERIOD}`);
      expect(r.currency).toBe('RUB');
      const rows = byKey(r.rows);
      // 100.01 USD won on 03-10: the rate of 03-09 (92.5), not the earlier 90 nor the later 95.125.
      expect(rows.paid_search).toMatchObject({ revenue_minor: 925_093, cost_minor: 90_000 + 10_000, unconverted: [] });
      expect(rows.organic_search).toMatchObject({ revenue_minor: 100_000, unconverted: [] });
      // Won on 03-02: the latest rate before it is the one of 03-01.
      expect(rows.referral).toMatchObject({ revenue_minor: 90_000, unconverted: [] });
      // EUR has no rate: its revenue and cost stay in EUR, apart, never added to rubles.
      expect(rows.social).toMatchObject({ revenue_minor: 0, unconverted: [{ currency: 'EUR', revenue_minor: 5_000, cost_minor: 0 }] });
      expect(rows.paid_social).toMatchObject({ cost_minor: 0, unconverted: [{ currency: 'EUR', revenue_minor: 0, cost_minor: 500 }] });
      expect(r.totals).toMatchObject({ revenue_minor: 925_093 + 100_000 + 90_000, cost_minor: 100_000, unconverted: [{ currency: 'EUR', revenue_minor: 5_000, cost_minor: 500 }] });
    }
  });

  it('shows money apart in the CSV and on the page', async () => {
    const csv = await fetch(`${collector.url}/api/reports/channels?${PERIOD}&format=csv`, { headers: auth });
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/,unconverted$/);
    expect(lines.find((l) => l.startsWith('social,'))).toMatch(/,EUR revenue 50\.00 cost 0\.00$/);
    expect(lines.at(-1)).toMatch(/^\(total\),.*,EUR revenue 50\.00 cost 5\.00$/);
    expect(lines.at(-1)!.split(',')[8]).toBe('11150.93');
    const page = await (await fetch(`${collector.url}/reports?${PERIOD}`, { headers: auth })).text();
    expect(page).toContain('Revenue, RUB');
    expect(page).toMatch(/<td data-col="unconverted">EUR revenue 50\.00 cost 0\.00<\/td>/);
  });

  it('converts by the fixed rates of the configuration where no rate was uploaded (CLI, REPORT_RATES)', async () => {
    const base = await cliEnv(db.name);
    const cli = (env: Record<string, string>) =>
      spawnSync(process.execPath, [join(ROOT, 'dist/collector/src/cli/report.js'), '--from', '2026-03-01', '--to', '2026-03-31', '--format', 'json'], {
        env: { ...base, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    // The last test of the file: the collector is stopped, so that on the embedded engine the CLI can open its data directory.
    await collector.stop();
    const out = cli({ REPORT_RATES: 'EUR=100.5,USD=1' });
    expect(out.status, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout) as Body;
    const rows = byKey(r.rows);
    // EUR at the fixed 100.5; USD keeps its uploaded rates (an uploaded rate goes before a fixed one).
    expect(rows.social).toMatchObject({ revenue_minor: 502_500, unconverted: [] });
    expect(rows.paid_social).toMatchObject({ cost_minor: 50_250, unconverted: [] });
    expect(rows.paid_search).toMatchObject({ revenue_minor: 925_093 });
    expect(r.totals).toMatchObject({ revenue_minor: 925_093 + 100_000 + 90_000 + 502_500, unconverted: [] });
    // In dollars: uploaded rates are quoted in rubles, so none applies; rubles and euros are reported apart.
    const usd = cli({ REPORT_CURRENCY: 'USD' });
    expect(usd.status, usd.stderr).toBe(0);
    const u = JSON.parse(usd.stdout) as Body;
    expect(u.currency).toBe('USD');
    // A cost uploaded without a currency was in the report currency of its upload (rubles), and stays so.
    expect(u.totals).toMatchObject({ revenue_minor: 10_001 + 1_000, cost_minor: 1_000 });
    expect(u.totals.unconverted).toEqual([
      { currency: 'EUR', revenue_minor: 5_000, cost_minor: 500 },
      { currency: 'RUB', revenue_minor: 100_000, cost_minor: 10_000 },
    ]);
    expect(cli({ REPORT_RATES: 'RUB=1' }).status).toBe(78);
    expect(cli({ REPORT_CURRENCY: 'rubles' }).status).toBe(78);
  });
});
