// npm run move: an installation on the embedded engine (ClickHouse 26.x in the
// collector's process, filled here by a real collector: visits, a form lead, a
// CRM import, costs and rates) is moved to the ClickHouse server (Debian's
// 18.16), and a collector on the server answers what the embedded one did: the
// same rows in every copied table (counted and hashed), the same reports under
// every model, the same identity key. The engines are named here, whatever the
// suite's engine is: this file runs in the server project only.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { ROOT } from '../../collector/src/paths.js';
import { MODEL_NAMES } from '../../collector/src/attribution/models.js';
import { eventually } from '../helpers/clickhouse.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { CLICKHOUSE_URL } from '../helpers/env.js';
import { dropRedisPrefix } from '../helpers/redis.js';

const MOVE = join(ROOT, 'dist', 'collector', 'src', 'cli', 'move.js');
const CLIENT_JS = pathToFileURL(join(ROOT, 'dist', 'collector', 'src', 'clickhouse', 'client.js')).href;

const TOKEN = 'move-reports-token-0123456789';
const ADMIN = 'move-admin-token-0123456789';
const SECRET = 'shop_secret_0123456789abcdef';
const SOURCE_DB = 'throughline';
const run = `${process.pid}_${randomBytes(4).toString('hex')}`;
/** Server databases: the move's target; one that shows the materialized view stays idle; one with a key of its own. */
const TARGET = `tl_test_move_${run}`;
const IDLE_MV = `tl_test_move_mv_${run}`;
const OTHER_KEY = `tl_test_move_key_${run}`;
const PREFIX_EMBEDDED = `t_move_e_${run}:`;
const PREFIX_SERVER = `t_move_s_${run}:`;

/** Every table the migrations make but schema_migrations (the server's own) and identity resolution's output (derived). */
const COPIED = ['costs', 'crm_config', 'crm_oauth_tokens', 'deals', 'exchange_rates', 'funnel_stages', 'hit_ids', 'hits', 'identity_key', 'identity_links'];
const DERIVED = ['attribution_members', 'attribution_conversions', 'attribution_touches', 'attribution_runs'];

const COLLECTOR_ENV = { HIT_MAX_AGE_DAYS: '3650', VISIT_THROTTLE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '0', BATCH_MAX_MS: '100', REPORTS_TOKEN: TOKEN, CRM_ADMIN_TOKEN: ADMIN };

const CRM = {
  funnel: [{ stage: 'Order' }, { stage: 'Paid', marker: 'won' }, { stage: 'Cancelled', marker: 'lost' }],
  sources: { shop: { kind: 'import', secret: SECRET, pipelines: { '*': { new: 'Order', paid: 'Paid', cancelled: 'Cancelled' } } } },
};

const at = (s: string) => Date.parse(`${s.replace(' ', 'T')}Z`);
type Visit = { v: string; t: string; u: string; r?: string; g?: string; y?: string; k?: 'visit' | 'lead'; p?: Record<string, string> };
const VISITS: Visit[] = [
  { v: 'MVAAA2', t: '2026-03-01 10:00:00', u: 'https://shop.example/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand' },
  { v: 'MVAAA2', t: '2026-03-05 10:00:00', u: 'https://shop.example/price' },
  { v: 'MVBBB3', t: '2026-03-02 10:00:00', u: 'https://shop.example/blog', r: 'https://www.google.com/' },
  { v: 'MVBBB3', t: '2026-03-02 10:05:00', u: 'https://shop.example/contact', k: 'lead', p: { email: 'Buyer@Example.com' } },
  { v: 'MVCCC4', t: '2026-03-03 12:00:00', u: 'https://shop.example/', r: 'https://vk.com/wall-1', g: '111.222' },
  { v: 'MVDDD5', t: '2026-03-04 09:00:00', u: 'https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=march', y: '333444' },
];
const deal = (id: string, status: string, created: string, extra: Record<string, unknown>) => ({ id, name: `Order ${id}`, status, created_at: `${created}T09:00:00Z`, updated_at: `${created}T09:00:00Z`, ...extra });
const DEALS = [
  // Reached by the visitor id, an e-mail of a form lead (its keyed hash), a GA id a visit carried (hit_ids), a Metrika id.
  deal('A-1', 'paid', '2026-03-06', { amount: '70000.00', fields: { visitor_id: 'mvaaa2' } }),
  deal('B-1', 'paid', '2026-03-07', { amount: '30000.01', emails: ['buyer@example.com'] }),
  deal('C-1', 'paid', '2026-03-08', { amount: '5000', fields: { ga_cid: '111.222' } }),
  deal('D-1', 'cancelled', '2026-03-08', { amount: '800', fields: { ym_uid: '333444' } }),
  // 100 USD at the uploaded rate of 90: 9 000.00 in the report currency.
  deal('E-1', 'paid', '2026-03-09', { amount: '100', currency: 'USD', closed_at: '2026-03-09T10:00:00Z', fields: { visitor_id: 'MVDDD5' } }),
];
/** Won revenue in kopecks: 70 000.00 + 30 000.01 + 5 000.00 + 9 000.00. */
const REVENUE = 11_400_001;

type Outcome = { code: number | null; stdout: string; stderr: string };

/** Runs a node program to its end (asynchronously: the collectors' pipes keep flowing meanwhile). */
function node(args: string[], env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

type TableState = { engine: string; rows: number; kept: number; sha256: string };
type Snapshot = { tables: Record<string, TableState>; keys: string[]; emailHashes: string[] };

// Read in a process of its own, the same way on both engines: the embedded data
// directory can be opened by one process at a time, and the test's own process
// must not hold it when the move opens it. Per table: its engine, its rows, the
// rows ClickHouse keeps (one per key where repeated keys fold: FINAL), and a
// hash of those rows in RowBinary, sorted by every column, which both engines
// write byte for byte alike.
const SNAPSHOT = `
import { createHash } from 'node:crypto';
import { connect } from ${JSON.stringify(CLIENT_JS)};
const { url, data, db, tables } = JSON.parse(process.env.SNAPSHOT);
const c = connect({ url, data, user: 'default', password: '', database: db }, null);
const text = async (query) => (await (await c.query({ query, format: 'TabSeparated' })).text()).trim();
const lines = async (query) => (await text(query)).split('\\n').filter(Boolean);
const out = { tables: {} };
for (const t of tables) {
  const engine = await text("SELECT engine FROM system.tables WHERE database = '" + db + "' AND name = '" + t + "'");
  const cols = (await lines("SELECT name FROM system.columns WHERE database = '" + db + "' AND table = '" + t + "'")).sort().join(', ');
  const final = engine === 'MergeTree' ? '' : ' FINAL';
  const rs = await c.exec({ query: 'SELECT ' + cols + ' FROM ' + db + '.' + t + final + ' ORDER BY ' + cols + ' FORMAT RowBinary' });
  const hash = createHash('sha256');
  for await (const chunk of rs.stream) hash.update(chunk);
  out.tables[t] = {
    engine,
    rows: Number(await text('SELECT count() FROM ' + db + '.' + t)),
    kept: Number(await text('SELECT count() FROM ' + db + '.' + t + final)),
    sha256: hash.digest('hex'),
  };
}
out.keys = await lines('SELECT key FROM ' + db + '.identity_key ORDER BY created_at, key');
out.emailHashes = await lines("SELECT DISTINCT id_b FROM " + db + ".identity_links WHERE kind_b = 'email' ORDER BY id_b");
await c.close();
process.stdout.write(JSON.stringify(out));
`;

async function snapshot(where: { url: string; data?: string; db: string }, tables = COPIED): Promise<Snapshot> {
  const r = await node(['--input-type=module', '-e', SNAPSHOT], { SNAPSHOT: JSON.stringify({ ...where, tables }) });
  if (r.code !== 0) throw new Error(`snapshot of ${where.db} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Snapshot;
}

type Row = { key: string } & Record<string, unknown>;
type ReportBody = { model: string; currency: string; stages: string[]; rows: Row[]; totals: Row; resolution: unknown; ms: number };

/** A report's figures: every row by its key, the totals, the stages (not which resolution, nor how long it took). */
async function report(url: string, model: string): Promise<{ rows: Record<string, Row>; totals: Row; stages: string[]; currency: string }> {
  const r = await fetch(`${url}/api/reports/channels?model=${model}&fresh=1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  const body = (await r.json()) as ReportBody;
  expect(body.model).toBe(model);
  return { rows: Object.fromEntries(body.rows.map((x) => [x.key, x])), totals: body.totals, stages: body.stages, currency: body.currency };
}

async function post(url: string, path: string, body: string, type: string, token?: string, method = 'POST'): Promise<Response> {
  const r = await fetch(`${url}${path}`, { method, body, headers: { 'Content-Type': type, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r;
}

/** One hit of the tracker (a visit, or a form lead with its props). */
const hit = (x: Visit) => JSON.stringify({ s: 'shop', k: x.k ?? 'visit', e: randomBytes(8).toString('hex'), t: at(x.t), u: x.u, r: x.r ?? '', g: x.g ?? '', y: x.y ?? '', v: x.v, ...(x.p ? { p: x.p } : {}) });

describe('moving an embedded installation to a ClickHouse server (npm run move)', () => {
  let dir: string;
  let spool: string;
  let embedded: RunningCollector | undefined;
  let onServer: RunningCollector | undefined;
  let server: ClickHouseClient;
  let before: Snapshot;
  const reports: Record<string, Awaited<ReturnType<typeof report>>> = {};
  const move = (args: string[], env: Record<string, string> = {}) =>
    node([MOVE, ...args], { CLICKHOUSE_DATA: join(dir, 'clickhouse'), CLICKHOUSE_DATABASE: SOURCE_DB, ...env });
  const count = async (db: string, table: string) => {
    const rs = await server.query({ query: `SELECT count() AS n FROM ${db}.${table}`, format: 'JSONEachRow' });
    return Number((await rs.json<{ n: string }>())[0]!.n);
  };
  const databaseExists = async (db: string) => {
    const rs = await server.query({ query: `SELECT count() AS n FROM system.databases WHERE name = '${db}'`, format: 'JSONEachRow' });
    return Number((await rs.json<{ n: string }>())[0]!.n) === 1;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tl-move-'));
    spool = join(dir, 'spool');
    server = connect({ url: CLICKHOUSE_URL, user: 'default', password: '', database: 'default' }, null);
    embedded = await startCollector({
      ...COLLECTOR_ENV,
      CLICKHOUSE_URL: 'embedded',
      CLICKHOUSE_DATA: join(dir, 'clickhouse'),
      CLICKHOUSE_DATABASE: SOURCE_DB,
      REDIS_PREFIX: PREFIX_EMBEDDED,
      SPOOL_DIR: join(spool, 'embedded'),
    });
    const url = embedded.url;
    await post(url, '/crm/config', JSON.stringify(CRM), 'application/json', ADMIN, 'PUT');
    for (const v of VISITS) await post(url, '/hit', hit(v), 'text/plain');
    await post(url, `/crm/import/shop/${SECRET}/deals`, JSON.stringify({ deals: DEALS }), 'application/json');
    await post(url, '/api/costs', 'date,source,medium,campaign,cost\n2026-03-01,yandex,cpc,brand,1500.00\n2026-03-02,vk,cpc,spring,400\n', 'text/csv', TOKEN);
    await post(url, '/api/rates', 'date,currency,rate\n2026-03-01,USD,90\n', 'text/csv', TOKEN);
    // Every visit has reached ClickHouse (the journal flushes within BATCH_MAX_MS) once a fresh report counts it.
    const visits = VISITS.filter((v) => (v.k ?? 'visit') === 'visit').length;
    await eventually(() => report(url, 'linear'), 15_000, (r) => r.totals.visits === visits);
    for (const model of MODEL_NAMES) reports[model] = await report(url, model);
  }, 120_000);

  afterAll(async () => {
    await embedded?.stop();
    await onServer?.stop();
    for (const db of [TARGET, IDLE_MV, OTHER_KEY]) await server?.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await server?.close();
    await dropRedisPrefix(PREFIX_EMBEDDED);
    await dropRedisPrefix(PREFIX_SERVER);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has revenue in the embedded reports, under every model', () => {
    for (const model of MODEL_NAMES) {
      expect(reports[model]!.totals.revenue_minor, model).toBe(REVENUE);
      expect(reports[model]!.totals.deals, model).toBe(5);
    }
    // Each deal reached its visits by another path: the visitor id, the e-mail hash of a form lead,
    // the GA id a visit carried (hit_ids), the visitor id again with a USD amount (the uploaded rate).
    const revenue = Object.fromEntries(Object.entries(reports.last_non_direct!.rows).map(([k, r]) => [k, r.revenue_minor]));
    expect(revenue).toMatchObject({ paid_search: 7_000_000, organic_search: 3_000_001, social: 500_000, email: 900_000 });
  });

  it('refuses while a collector has the embedded data open, says to stop it, and leaves the server alone', async () => {
    const r = await move(['--to', CLICKHOUSE_URL, '--to-database', TARGET]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/open in process \d+ \(a running collector\?\): stop the collector/);
    expect(await databaseExists(TARGET)).toBe(false);
  });

  it('refuses bad usage (64) and a data directory without data (78)', async () => {
    expect((await move([])).code).toBe(64);
    expect((await move(['--to', 'embedded'])).code).toBe(64);
    expect((await move(['--to', CLICKHOUSE_URL, '--to-database', 'no-such name'])).code).toBe(64);
    const empty = await move(['--to', CLICKHOUSE_URL, '--to-database', TARGET], { CLICKHOUSE_DATA: join(dir, 'nothing-here') });
    expect(empty.code).toBe(78);
    expect(empty.stderr).toMatch(/no embedded ClickHouse data in .*nothing-here/);
    expect(await databaseExists(TARGET)).toBe(false);
  });

  it('copies every table but the derived ones into a new server database; the counts and rows match', async () => {
    expect(await embedded!.stop()).toBe(0);
    embedded = undefined;
    before = await snapshot({ url: 'embedded', data: join(dir, 'clickhouse'), db: SOURCE_DB });
    // Something to copy in every table the scenario writes (crm_oauth_tokens needs an OAuth CRM).
    for (const t of COPIED.filter((t) => t !== 'crm_oauth_tokens')) expect(before.tables[t]!.rows, t).toBeGreaterThan(0);
    expect(before.keys).toHaveLength(1);

    // Small pieces, so that tables are read in several.
    const r = await move(['--to', CLICKHOUSE_URL, '--to-database', TARGET, '--piece-rows', '2']);
    expect(r.code, r.stderr).toBe(0);
    for (const t of COPIED) {
      const n = before.tables[t]!.rows;
      expect(r.stdout, t).toMatch(new RegExp(`^  ${t} +${n.toLocaleString('en-US')} rows?( in \\d+ pieces)?$`, 'm'));
    }
    expect(r.stdout).toMatch(/^ {2}hits +\d+ rows in \d+ pieces$/m);
    for (const t of DERIVED) expect(r.stdout).toMatch(new RegExp(`not copied:[^]*${t}`));

    const after = await snapshot({ url: CLICKHOUSE_URL, db: TARGET });
    for (const t of COPIED) {
      expect(after.tables[t]!.engine, t).toBe(before.tables[t]!.engine);
      expect(after.tables[t]!.kept, t).toBe(before.tables[t]!.kept);
      expect(after.tables[t]!.sha256, t).toBe(before.tables[t]!.sha256);
      // Merges may fold repeated keys on either side, never add rows.
      expect(after.tables[t]!.rows, t).toBeLessThanOrEqual(before.tables[t]!.rows);
    }
    expect(after.keys).toEqual(before.keys);
    for (const t of DERIVED) expect(await count(TARGET, t), t).toBe(0);
    // The schema is the collector's: the views are there too.
    expect(await count(TARGET, 'deals_current')).toBe(DEALS.length);
    expect(await count(TARGET, 'schema_migrations')).toBeGreaterThan(0);
  }, 120_000);

  it('a collector on the server database answers the same report, model by model, channel by channel', async () => {
    onServer = await startCollector({
      ...COLLECTOR_ENV,
      CLICKHOUSE_URL,
      CLICKHOUSE_DATABASE: TARGET,
      REDIS_PREFIX: PREFIX_SERVER,
      SPOOL_DIR: join(spool, 'server'),
    });
    for (const model of MODEL_NAMES) {
      const there = await report(onServer.url, model);
      expect(there.totals, model).toEqual(reports[model]!.totals);
      expect(there.rows, model).toEqual(reports[model]!.rows);
      expect(there.stages, model).toEqual(reports[model]!.stages);
    }
  }, 120_000);

  it('keeps the identity key: the server collector hashes an e-mail as the embedded one did', async () => {
    expect(before.emailHashes).toHaveLength(1);
    await post(onServer!.url, '/hit', hit({ v: 'MVEEE6', t: '2026-03-20 10:00:00', u: 'https://shop.example/contact', k: 'lead', p: { email: 'buyer@example.com' } }), 'text/plain');
    const linked = () => server.query({ query: `SELECT id_a, id_b FROM ${TARGET}.identity_links WHERE kind_b = 'email' AND id_a = 'MVEEE6'`, format: 'JSONEachRow' }).then((rs) => rs.json<{ id_b: string }>());
    const rows = await eventually(linked, 10_000);
    expect(rows.map((x) => x.id_b)).toEqual(before.emailHashes);
    const keys = await server.query({ query: `SELECT key FROM ${TARGET}.identity_key`, format: 'JSONEachRow' }).then((rs) => rs.json<{ key: string }>());
    expect(keys.map((k) => k.key)).toEqual(before.keys);
  });

  it('refuses to copy into a database that already holds rows, and changes nothing there', async () => {
    await onServer!.stop();
    onServer = undefined;
    const hits = await count(TARGET, 'hits');
    const r = await move(['--to', CLICKHOUSE_URL, '--to-database', TARGET]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds rows: .*hits \(\d+ rows\).*\n.*--append/);
    expect(await count(TARGET, 'hits')).toBe(hits);
    expect(await count(TARGET, 'identity_key')).toBe(1);
  });

  it('--append adds the rows to those there, says so, and copies the identity key once', async () => {
    const hitsBefore = (await snapshot({ url: CLICKHOUSE_URL, db: TARGET }, ['hits'])).tables.hits!.kept;
    const r = await move(['--to', CLICKHOUSE_URL, '--to-database', TARGET, '--append']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--append: the copied rows are added to those the server holds/);
    expect(r.stdout).toMatch(/^ {2}identity_key +0 rows$/m);
    const after = await snapshot({ url: CLICKHOUSE_URL, db: TARGET }, ['hits', 'identity_key']);
    // The same events again: every key was there already (the lead posted on the server is the one more).
    expect(after.tables.hits!.kept).toBe(hitsBefore);
    expect(hitsBefore).toBe(before.tables.hits!.kept + 1);
    expect(after.keys).toEqual(before.keys);
  }, 120_000);

  it('does not run the materialized view on the copied hits: hit_ids holds what the embedded data held', async () => {
    // Emptied in the embedded data: a hit_ids row on the server could then only come from the view.
    const emptied = await node(
      ['--input-type=module', '-e', `import { connect } from ${JSON.stringify(CLIENT_JS)}; const c = connect({ url: 'embedded', data: process.env.DATA, user: 'default', password: '', database: null }, null); await c.command({ query: 'TRUNCATE TABLE ${SOURCE_DB}.hit_ids' }); await c.close();`],
      { DATA: join(dir, 'clickhouse') },
    );
    expect(emptied.code, emptied.stderr).toBe(0);
    const r = await move(['--to', CLICKHOUSE_URL, '--to-database', IDLE_MV]);
    expect(r.code, r.stderr).toBe(0);
    expect(await count(IDLE_MV, 'hits')).toBe(before.tables.hits!.rows);
    expect(before.tables.hit_ids!.rows).toBeGreaterThan(0);
    expect(await count(IDLE_MV, 'hit_ids')).toBe(0);
  }, 120_000);

  it('refuses --append into a database whose identity key is another', async () => {
    await server.command({ query: `CREATE DATABASE ${OTHER_KEY}` });
    await server.command({ query: `CREATE TABLE ${OTHER_KEY}.identity_key (key String, created_at DateTime) ENGINE = MergeTree() PARTITION BY tuple() ORDER BY (created_at, key)` });
    await server.insert({ table: `${OTHER_KEY}.identity_key`, values: [{ key: 'a-key-of-another-installation', created_at: '2026-01-01 00:00:00' }], format: 'JSONEachRow' });
    const r = await move(['--to', CLICKHOUSE_URL, '--to-database', OTHER_KEY, '--append']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/identity key of its own/);
    expect(await count(OTHER_KEY, 'identity_key')).toBe(1);
    const tables = await server.query({ query: `SELECT name FROM system.tables WHERE database = '${OTHER_KEY}'`, format: 'JSONEachRow' }).then((rs) => rs.json<{ name: string }>());
    expect(tables.map((t) => t.name)).toEqual(['identity_key']);
  });
});
