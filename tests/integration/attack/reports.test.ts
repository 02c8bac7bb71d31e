// The report faces under hostile input: names a spreadsheet or a terminal would
// run, tokens and the sign-in cookie, and report parameters outside what
// ClickHouse can hold. The real built collector and the CLI, against the real
// ClickHouse.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../collector/src/paths.js';
import { eventually, freshDatabase, type TestDatabase } from '../../helpers/clickhouse.js';
import { besideCollector, cliEnv, startCollector, type RunningCollector } from '../../helpers/collector.js';

const TOKEN = 'attack-reports-token-0123456789';
const CLI = join(ROOT, 'dist/collector/src/cli/report.js');

/** Sources a spreadsheet would run as a formula (OWASP, CSV injection), and ones that only look close. */
const FORMULAS = ['=HYPERLINK("http://x","y")', '+1+cmd|\' /C calc\'!A0', '-2+3+cmd', '@SUM(1+1)*cmd', '\uFF1D1+1'];
/** A campaign name that would move the cursor, retitle the window and ring the bell of a terminal. */
const ESCAPES = 'spring\x1b[2J\x1b[1;1H\x1b]0;owned\x07\x9b31mred\x7f';

describe('reports under attack', () => {
  let db: TestDatabase;
  let collector: RunningCollector;
  const bearer = { Authorization: `Bearer ${TOKEN}` };
  const get = (path: string, headers: Record<string, string> = bearer) => fetch(`${collector.url}${path}`, { headers, redirect: 'manual' });
  /** The CLI on the file's database (beside the collector: on the embedded engine it is stopped for the run). */
  const cli = async (...args: string[]) => {
    const env = await cliEnv(db.name);
    const ran = await besideCollector(collector, () => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 60_000 }));
    collector = ran.collector;
    return ran.result;
  };
  /** The CLI with flags it refuses before it opens ClickHouse (the collector goes on). */
  const refusedCli = async (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env: await cliEnv(db.name), encoding: 'utf8', timeout: 60_000 });
  const signIn = (token: string) =>
    fetch(`${collector.url}/reports/sign-in`, {
      method: 'POST',
      body: new URLSearchParams({ token }),
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    });
  const sessionOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;

  beforeAll(async () => {
    db = await freshDatabase();
    collector = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', REPORTS_TOKEN: TOKEN, VISIT_THROTTLE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '0' });
    // Public hits: anyone on the internet can send these.
    const urls = [
      ...FORMULAS.map((s) => `https://shop.example/?utm_source=${encodeURIComponent(s)}&utm_medium=cpc`),
      `https://shop.example/?utm_source=vk&utm_medium=cpc&utm_campaign=${encodeURIComponent(ESCAPES)}`,
    ];
    for (const u of urls) {
      const body = JSON.stringify({ s: 'shop', k: 'visit', e: randomBytes(8).toString('hex'), t: Date.now(), u });
      expect((await fetch(`${collector.url}/hit`, { method: 'POST', body })).status).toBe(204);
    }
    await eventually(() => db.rows<{ n: string }>('SELECT count() AS n FROM hits'), 15_000, (r) => Number(r[0]?.n) === urls.length);
    // A cost for one of those sources and no revenue: its ROI is -1, a number that must stay one.
    const costs = `date,source,medium,cost\n${new Date().toISOString().slice(0, 10)},"${FORMULAS[3]!.replaceAll('"', '""')}",cpc,10.00\n`;
    const up = await fetch(`${collector.url}/api/costs`, { method: 'POST', body: costs, headers: { ...bearer, 'Content-Type': 'text/csv' } });
    expect(up.status).toBe(200);
  });
  afterAll(async () => {
    await collector?.stop();
    await db?.drop();
  });

  it('10. a formula in a public hit reaches the CSV export as text, and numbers stay numbers', async () => {
    const json = (await (await get('/api/reports/channels?group=source')).json()) as { rows: { key: string; roi: number | null }[] };
    const keys = json.rows.map((r) => r.key);
    for (const s of FORMULAS) expect(keys).toContain(s.toLowerCase());
    const res = await get('/api/reports/channels?group=source&format=csv');
    expect(res.status).toBe(200);
    const cells = parseCsv(await res.text()) as string[][];
    const head = cells[0]!;
    const byKey = new Map(cells.slice(1).map((r) => [r[0]!.replace(/^'/, ''), r]));
    for (const s of FORMULAS) {
      const row = byKey.get(s.toLowerCase())!;
      // The cell reads as the text it is: a leading apostrophe, then the name unchanged.
      expect(row[0]).toBe(`'${s.toLowerCase()}`);
    }
    for (const r of cells.slice(1)) expect(r[0]).not.toMatch(/^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/);
    const costed = byKey.get(FORMULAS[3]!.toLowerCase())!;
    expect(json.rows.find((r) => r.key === FORMULAS[3]!.toLowerCase())!.roi).toBe(-1);
    expect(costed[head.indexOf('roi')]).toBe('-1');
    expect(costed[head.indexOf('cost')]).toBe('10.00');
  });

  it('10. the CLI table strips control characters, so a campaign name never drives the terminal', async () => {
    const out = await cli('--group', 'campaign', '--format', 'table');
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/vk \/ spring\[2J\[1;1H\]0;owned31mred/);
    // Nothing but printable text and line ends.
    expect(out.stdout.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Cf}]/u);
  });

  it('13. every report answer carries Cache-Control: no-store, errors included', async () => {
    const session = sessionOf(await signIn(TOKEN));
    const answers = [
      await get('/api/reports/channels'),
      await get('/api/reports/channels?format=csv'),
      await get('/api/reports/channels?model=magic'),
      await get('/api/reports/channels', {}),
      await get('/reports', {}),
      await get('/reports', { Cookie: session }),
      await get('/reports?from=2026-13-01', { Cookie: session }),
      await signIn('wrong-token-wrong-token-wrong'),
      await signIn(TOKEN),
      await fetch(`${collector.url}/api/costs`, { method: 'POST', body: 'date,source,cost\n2026-03-01,x,1\n', headers: { ...bearer, 'Content-Type': 'text/csv' } }),
      await fetch(`${collector.url}/api/costs`, { method: 'POST', body: 'date,source,cost\nnope,x,1\n', headers: { ...bearer, 'Content-Type': 'text/csv' } }),
      await fetch(`${collector.url}/api/costs`, { method: 'POST', body: 'x', headers: { 'Content-Type': 'text/csv' } }),
      // A sign-in far larger than a token is refused unread, with its reason.
      await fetch(`${collector.url}/reports/sign-in`, { method: 'POST', body: `token=${'x'.repeat(64 * 1024)}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 400, 401, 401, 200, 400, 401, 303, 200, 400, 401, 413]);
    expect(await answers.at(-1)!.json()).toEqual({ error: 'body_too_large' });
    for (const r of answers) expect(r.headers.get('cache-control'), r.url).toBe('no-store');
  });

  it('13. the page signs in once by a form; the cookie is HttpOnly, SameSite=Strict, not the token, and not Secure over plain HTTP', async () => {
    const form = await get('/reports', {});
    expect(form.status).toBe(401);
    const html = await form.text();
    expect(html).toMatch(/<form[^>]*method="post"[^>]*action="\/reports\/sign-in"/);
    expect(html).toMatch(/<input[^>]*type="password"[^>]*name="token"/);

    const wrong = await signIn(`${TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const ok = await signIn(TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/reports');
    const cookie = ok.headers.get('set-cookie')!;
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=Strict/i);
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).not.toMatch(/Secure/i);
    expect(cookie).not.toContain(TOKEN);
    expect(cookie).not.toContain(encodeURIComponent(TOKEN));

    const session = sessionOf(ok);
    const page = await get('/reports?group=source', { Cookie: session });
    expect(page.status).toBe(200);
    const body = await page.text();
    expect(body).toContain('<table id="report">');
    expect(body).not.toContain(TOKEN);
    expect(body).not.toMatch(/name="token"/);

    // A cookie that was not made from the token, or was tampered with, is no sign-in.
    const [name, value] = session.split('=') as [string, string];
    const tampered = `${name}=${value.slice(0, -2)}${value.endsWith('AA') ? 'BB' : 'AA'}`;
    expect((await get('/reports', { Cookie: tampered })).status).toBe(401);
    expect((await get('/reports', { Cookie: `${name}=${TOKEN}` })).status).toBe(401);
    // The API keeps Bearer headers: the page's cookie opens nothing else.
    expect((await get('/api/reports/channels', { Cookie: session })).status).toBe(401);

    const out = await fetch(`${collector.url}/reports/sign-out`, { method: 'POST', headers: { Cookie: session }, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(new RegExp(`^${name}=;.*(Max-Age=0|Expires=Thu, 01 Jan 1970)`, 'i'));
  });

  it('13. a token in the URL is no credential, on the page or the API', async () => {
    const page = await get(`/reports?token=${TOKEN}`, {});
    expect(page.status).toBe(401);
    expect(page.headers.get('set-cookie')).toBeNull();
    expect(await page.text()).not.toContain(TOKEN);
    expect((await get(`/api/reports/channels?token=${TOKEN}`, {})).status).toBe(401);
  });

  it('13. the security headers leave a plain-HTTP page its form: no upgrade-insecure-requests', async () => {
    const csp = (await get('/reports', {})).headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/form-action 'self'/);
    expect(csp).not.toMatch(/upgrade-insecure-requests/);
  });

  it('15. dates outside 1970-01-01…2105-12-31, impossible dates and repeated parameters get 400', async () => {
    const open = (await (await get('/api/reports/channels')).json()) as { totals: { visits: number } };
    expect(open.totals.visits).toBeGreaterThan(0);
    for (const q of [
      'to=9999-12-31',
      'from=2200-01-01',
      'from=1969-12-31',
      'to=2106-01-01',
      'from=2026-02-30',
      'to=2026-04-31',
      'from=2026-03-01&from=2026-03-02',
      'model[]=linear',
      'model=linear&model=linear',
      'format=csv&format=json',
      'format=xml',
      'fresh=yes',
      'window=1e1',
    ]) {
      const r = await get(`/api/reports/channels?${q}`);
      expect(r.status, q).toBe(400);
      expect(await r.json(), q).toMatchObject({ error: 'invalid_report_options', detail: expect.any(String) });
    }
    // The ends of the range are days like any other.
    const wide = (await (await get('/api/reports/channels?from=1970-01-01&to=2105-12-31')).json()) as { totals: { visits: number } };
    expect(wide.totals.visits).toBe(open.totals.visits);
    const session = sessionOf(await signIn(TOKEN));
    expect((await get('/reports?to=9999-12-31', { Cookie: session })).status).toBe(400);
    expect((await get('/reports?group=source&group=channel', { Cookie: session })).status).toBe(400);
  });

  it('15. the CLI flags and the costs upload keep to the same dates; a repeated flag is refused', async () => {
    for (const args of [['--to', '9999-12-31'], ['--from', '2200-01-01'], ['--from', '2026-02-30'], ['--from', '2026-03-01', '--from', '2026-03-02'], ['--model', 'linear', '--model', 'first_click']]) {
      const out = await refusedCli(...args, '--format', 'json');
      expect(out.status, args.join(' ')).toBe(64);
      expect(out.stdout).toBe('');
    }
    const post = (day: string) =>
      fetch(`${collector.url}/api/costs`, { method: 'POST', body: `date,source,cost\n${day},yandex,1\n`, headers: { ...bearer, 'Content-Type': 'text/csv' } });
    for (const day of ['2106-01-01', '1969-12-31', '9999-12-31', '2026-02-30']) {
      const r = await post(day);
      expect(r.status, day).toBe(400);
      expect(await r.json()).toMatchObject({ error: 'invalid_costs', problems: [{ row: 1, reason: expect.stringMatching(/date/) }] });
    }
    for (const day of ['1970-01-01', '2105-12-31']) expect((await post(day)).status, day).toBe(200);
    // Stored on those very days (as days since 1970: 18.16 prints day 0 as 0000-00-00).
    const days = await db.rows<{ d: number }>(`SELECT toUInt16(day) AS d FROM costs WHERE source = 'yandex' ORDER BY d`);
    expect(days.map((r) => Number(r.d))).toEqual([0, Date.parse('2105-12-31T00:00:00Z') / 86_400_000]);
  });
});
