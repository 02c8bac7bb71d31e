// Attribution benchmark: 10 million visits, 1 million visitors, 100 thousand deals
// generated inside ClickHouse (INSERT … SELECT … FROM numbers()) into the database
// tl_bench, then the channel report of every model timed against a baseline run
// side by side: the single last-non-direct join of CLICKHOUSE.md §7. Then the
// identity resolution alone and a cold report (no resolution yet: it waits for
// one), each with attribution_runs emptied first, and a report right after a new
// deal (answered from the previous resolution while a refresh starts).
//   npm run bench:attribution            (drops tl_bench at the end)
//   BENCH_KEEP=1 npm run bench:attribution   (keeps it for poking at)
//   BENCH_REUSE=1 BENCH_KEEP=1 npm run bench:attribution   (times a kept tl_bench again, without loading)
// The engine is chosen as the collector's is, by CLICKHOUSE_URL, except that the
// default stays the server at 127.0.0.1:8123 (the collector's default, the embedded
// engine in the project's data/, would put 10 million bench rows beside a user's own):
//   CLICKHOUSE_URL=embedded npm run bench:attribution
//     the embedded engine in a new directory under the OS temp dir, removed at the end
//     (kept with BENCH_KEEP=1: the path is printed);
//   CLICKHOUSE_URL=embedded CLICKHOUSE_DATA=<dir> ...
//     the embedded engine in <dir>, where only tl_bench is created and dropped (BENCH_REUSE needs this).
// Figures go to BENCHMARKS.md ("Attribution", "Both engines").
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installViews } from '../collector/src/attribution/views.js';
import { Resolver } from '../collector/src/attribution/resolver.js';
import { resolveNow, type Steps } from '../collector/src/attribution/resolve.js';
import { MODEL_NAMES, type ModelName } from '../collector/src/attribution/models.js';
import { EMBEDDED, connect, portableSettings, serverVersion, type ClickHouseClient } from '../collector/src/clickhouse/client.js';
import { migrate } from '../collector/src/clickhouse/migrate.js';
import { buildReport } from '../collector/src/reports/build.js';

// BENCH_DB: bench/cost-curve.ts loads its sizes into a database of its own.
export const DB = process.env.BENCH_DB || 'tl_bench';
const VISITS = Number(process.env.BENCH_VISITS ?? 10_000_000);
const VISITORS = Number(process.env.BENCH_VISITORS ?? 1_000_000);
const DEALS = Number(process.env.BENCH_DEALS ?? 100_000);
// Visitor–phone links (form submissions); bench/cost-curve.ts scales them with the deals.
const PHONE_LINKS = Number(process.env.BENCH_PHONE_LINKS ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DAYS = 180;
const START = Date.UTC(2026, 0, 1) / 1000;
const url = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123';
const embedded = url === EMBEDDED;
// An embedded run without CLICKHOUSE_DATA gets a directory of its own, so it never opens a collector's.
const ownData = embedded && !process.env.CLICKHOUSE_DATA;
const data = embedded ? (process.env.CLICKHOUSE_DATA || mkdtempSync(join(tmpdir(), 'tl-bench-attribution-'))) : undefined;
export const cfg = { url, user: 'default', password: '', database: DB, data };
const engine = embedded ? `embedded (chdb), data in ${data}` : `server at ${url}`;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

// Channel mix of the synthetic visits: [channel, source, medium] by weight.
const MIX: [string, string, string, number][] = [
  ['direct', '(direct)', '(none)', 30],
  ['paid_search', 'yandex', 'cpc', 20],
  ['organic_search', 'google', 'organic', 20],
  ['social', 'vk.com', 'social', 8],
  ['email', 'newsletter', 'email', 6],
  ['referral', 'blog.example.org', 'referral', 6],
  ['paid_social', 'vk', 'cpc', 6],
  ['display', 'yandex', 'cpm', 4],
];
const bag = MIX.flatMap((m, i) => Array<number>(m[3]).fill(i + 1));
/** Column `col` of the MIX entry `idx` (1-based SQL expression). */
const mixAt = (col: number, idx: string) => `[${MIX.map((m) => `'${m[col]}'`).join(',')}][${idx}]`;
/** Column `col` of a MIX entry drawn by weight: `idx` (1-based) indexes the bag. */
const pick = (col: number, idx: string) => mixAt(col, `[${bag.join(',')}][${idx}]`);

async function loaded(admin: ClickHouseClient): Promise<boolean> {
  if (!process.env.BENCH_REUSE) return false;
  const rs = await admin.query({ query: `SELECT count() AS n FROM system.tables WHERE database = '${DB}' AND name = 'hits'`, format: 'JSONEachRow' });
  if (Number((await rs.json<{ n: string }>())[0]?.n) === 0) return false;
  const hits = await admin.query({ query: `SELECT count() AS n FROM ${DB}.hits`, format: 'JSONEachRow' });
  return Number((await hits.json<{ n: string }>())[0]?.n) === VISITS;
}

async function main(): Promise<void> {
  const admin = connect(cfg, null);
  const reuse = await loaded(admin);
  if (!reuse) await admin.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
  await migrate(admin, DB);
  await installViews(admin, DB, 90);
  const probe = connect(cfg);
  const settings = await portableSettings(probe);
  await probe.close();
  const ch = connect(cfg, DB, { ...settings, max_execution_time: 600 });
  console.log(`ClickHouse ${await serverVersion(ch)}, ${engine}; ${cpus().length} cores, load average ${load()}`);
  if (reuse) console.log(`reusing the ${VISITS} visits already in ${DB}`);
  else await load10M(ch);
  await mergesDone(ch);
  await timeReports(ch);
  await ch.close();
  if (!process.env.BENCH_KEEP) await admin.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
  await admin.close();
  if (ownData && !process.env.BENCH_KEEP) rmSync(data!, { recursive: true, force: true });
  else if (ownData) console.log(`kept ${data}: CLICKHOUSE_URL=embedded CLICKHOUSE_DATA=${data} BENCH_REUSE=1 BENCH_KEEP=1 times it again`);
}

export async function load10M(ch: ClickHouseClient): Promise<void> {

  const mixIdx = `1 + intHash32(number * 3) % ${bag.length}`;
  // In slices of a million rows: each INSERT stays well inside the client's 30 s request timeout
  // (a server's; the embedded engine has none, and runs the same slices so that both load alike).
  const SLICE = 1_000_000;
  const [tHits] = await timed(async () => {
    for (let offset = 0; offset < VISITS; offset += SLICE) {
      await ch.command({
      query: `INSERT INTO ${DB}.hits
        SELECT hex(intHash64(number)) AS event_id, 'bench' AS site_id,
          if(number % 100 = 7, 'lead', 'visit') AS kind,
          toDateTime(${START} + intHash32(number) % ${DAYS * 86400}, 'UTC') AS ts, 0 AS ts_ms, ts AS received_at,
          concat('V', toString(number % ${VISITORS})) AS visitor_id,
          if(number % ${VISITORS} % 10 < 6, concat(toString(number % ${VISITORS} - (number % ${VISITORS} % 50 = 1)), '.1600000000'), '') AS ga_cid,
          if(number % ${VISITORS} % 2 = 0, concat('ym', toString(number % ${VISITORS})), '') AS ym_uid,
          'https://shop.example/' AS url, '' AS referrer,
          '' AS utm_source, '' AS utm_medium, '' AS utm_campaign, '' AS utm_term, '' AS utm_content, '' AS click_id_name, '' AS click_id,
          ${pick(0, mixIdx)} AS channel, ${pick(1, mixIdx)} AS source, ${pick(2, mixIdx)} AS medium,
          if(channel = 'direct', '', concat('c', toString(intHash32(number * 5) % 20))) AS campaign,
          '' AS user_agent, '' AS ip_hash, emptyArrayString() AS prop_keys, emptyArrayString() AS prop_values
        FROM numbers(${offset}, ${Math.min(SLICE, VISITS - offset)})`,
      });
    }
  });
  // Deals: 60% name their visitor, 20% reach it by an e-mail hash link, 10% by a GA id, 10% by nothing.
  const [tDeals] = await timed(async () => {
    await ch.command({
      query: `INSERT INTO ${DB}.deals
        SELECT 'amo' AS source, toString(number) AS deal_id, v AS version,
          toDateTime(${START} + 30 * 86400 + intHash32(number * 7) % ${(DAYS - 30) * 86400}, 'UTC') AS changed_at, changed_at AS received_at, changed_at AS created_at, changed_at AS closed_at,
          '' AS name, '1' AS pipeline_id, '1' AS status_id, '' AS stage, -1 AS stage_index,
          if(v = 1 AND number % 5 = 0, 'open', ['won','won','won','won','lost','lost','lost','open','open','returned'][1 + number % 10]) AS outcome,
          multiIf(outcome IN ('won', 'returned'), ['lead','qualified','proposal','won'], outcome = 'lost', ['lead','qualified'], ['lead']) AS stages_passed,
          if(outcome = 'lost', 'qualified', '') AS lost_from_stage,
          toInt64(100000 + intHash32(number * 11) % 9900000) AS amount_minor, 'RUB' AS currency, 0 AS deleted, emptyArrayString() AS contact_ids,
          if(number % 10 < 6, concat('V', toString(number * 10 % ${VISITORS})), '') AS visitor_id,
          if(number % 10 = 8, concat(toString(number * 10 % ${VISITORS} - (number * 10 % ${VISITORS} % 10)), '.1600000000'), '') AS ga_cid, '' AS ym_uid,
          '' AS utm_source, '' AS utm_medium, '' AS utm_campaign, '' AS utm_term, '' AS utm_content,
          if(number % 10 IN (6, 7), [concat('e', toString(number))], emptyArrayString()) AS email_hashes, emptyArrayString() AS phone_hashes,
          emptyArrayString() AS field_names, emptyArrayString() AS field_values
        FROM numbers(${DEALS}) ARRAY JOIN if(number % 5 = 0, [1, 2], [1]) AS v`,
    });
    await ch.command({
      query: `INSERT INTO ${DB}.identity_links
        SELECT 'visitor' AS kind_a, concat('V', toString(number * 10 % ${VISITORS} + 3)) AS id_a, 'email' AS kind_b, concat('e', toString(number)) AS id_b,
          'inbound_email' AS evidence, toDateTime(${START}, 'UTC') AS linked_at
        FROM numbers(${DEALS}) WHERE number % 10 IN (6, 7)`,
    });
    await ch.command({
      query: `INSERT INTO ${DB}.identity_links
        SELECT 'visitor', concat('V', toString(intHash32(number) % ${VISITORS})), 'phone', concat('p', toString(number)), 'form', toDateTime(${START}, 'UTC')
        FROM numbers(${PHONE_LINKS})`,
    });
    await ch.command({ query: `INSERT INTO ${DB}.funnel_stages VALUES ('lead', 0, '', 1), ('qualified', 1, '', 1), ('proposal', 2, '', 1), ('won', 3, '', 1)` });
    // Every channel's every campaign once a day: each row its own key (day, source, medium,
    // campaign). Rows sharing a key with equal uploaded_at would leave argMax to choose,
    // and the engines choose differently.
    await ch.command({
      query: `INSERT INTO ${DB}.costs
        SELECT toDate(${START} + intDiv(number, 160) * 86400) AS day, ${mixAt(1, '1 + number % 160 % 8')} AS source,
          ${mixAt(2, '1 + number % 160 % 8')} AS medium, concat('c', toString(intDiv(number % 160, 8))) AS campaign,
          ${mixAt(0, '1 + number % 160 % 8')} AS channel, toInt64(100000 + intHash32(number) % 500000) AS cost_minor, 'RUB' AS currency,
          toDateTime(${START}, 'UTC') AS uploaded_at, 'bench' AS upload_id
        FROM numbers(${DAYS * 160})`,
    });
  });
  console.log(`loaded ${VISITS} visits in ${(tHits / 1000).toFixed(1)} s; deals, links, costs in ${(tDeals / 1000).toFixed(1)} s; load ${load()}`);
}

/**
 * Waits until ClickHouse has merged the parts the load wrote (no merge in tl_bench
 * for 3 s): right after a bulk load, background merges take a core for a minute
 * or more and every figure would measure them too.
 */
export async function mergesDone(ch: ClickHouseClient): Promise<void> {
  const [t] = await timed(async () => {
    for (let quiet = 0, i = 0; quiet < 3 && i < 600; i++) {
      const rs = await ch.query({ query: `SELECT count() AS n FROM system.merges WHERE database = '${DB}'`, format: 'JSONEachRow' });
      quiet = Number((await rs.json<{ n: string }>())[0]?.n) === 0 ? quiet + 1 : 0;
      await new Promise((r) => setTimeout(r, 1000));
    }
  });
  console.log(`background merges done after ${secs(t)}; load ${load()}`);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const stepMedians = (all: Steps[]) =>
  (Object.keys(all[0] ?? {}) as (keyof Steps)[]).map((k) => `${k} ${secs(median(all.map((s) => s[k])))}`).join(', ');

/**
 * What a report answered, to hold the engines' answers side by side: the totals and a
 * digest of every row's exact figures (visitors left out of the digest: uniqCombined
 * is an estimate whose hashing may differ between ClickHouse versions).
 */
function summary(r: Awaited<ReturnType<typeof buildReport>>): string {
  const exact = r.rows.map((x) => [x.key, x.visits, x.leads.toFixed(6), x.deals.toFixed(6), x.won.toFixed(6), x.revenue_minor.toFixed(0), x.cost_minor]);
  const digest = createHash('sha256').update(JSON.stringify(exact)).digest('hex').slice(0, 12);
  const t = r.totals;
  return `visits ${t.visits}, visitors ${t.visitors}, leads ${t.leads.toFixed(2)}, revenue ${t.revenue_minor.toFixed(0)}, rows ${digest}`;
}

/**
 * One new won deal arriving now, as a CRM delivery stores it: it names visitor `V<7 + 10n>` (who
 * has visits) and the e-mail `e<6 + 10n>` (which a link ties to another visitor, `load10M`), so its
 * resolution merges two people. The incremental resolution's benchmarks time what follows it.
 */
export function insertNewDeal(ch: ClickHouseClient, id: string, n: number): Promise<unknown> {
  return ch.command({
    query: `INSERT INTO ${DB}.deals (source, deal_id, version, changed_at, received_at, created_at, outcome, amount_minor, visitor_id, email_hashes)
      VALUES ('amo', '${id}', 1, now(), now(), '2026-04-01 00:00:00', 'won', 100, 'V${7 + 10 * n}', ['e${6 + 10 * n}'])`,
  });
}

async function timeReports(ch: ClickHouseClient): Promise<void> {
  const resolver = new Resolver(ch, DB);
  const period = { from: '2026-02-01', to: '2026-06-29' };
  const report = (model: ModelName = 'last_non_direct') => buildReport(resolver, { model, period, group: 'channel', windowDays: 90 });
  const emptyRuns = () => ch.command({ query: `TRUNCATE TABLE ${DB}.attribution_runs` });

  const baselineSql = `SELECT count() AS n FROM (
      SELECT deal_id, argMaxIf(channel, ts, channel != 'direct') AS ch
      FROM (SELECT visitor_id, ts, channel FROM ${DB}.hits WHERE kind = 'visit') AS h
      ALL INNER JOIN (SELECT deal_id, created_at AS deal_ts, visitor_id FROM ${DB}.deals WHERE visitor_id != '' AND version = 1) AS dl USING visitor_id
      WHERE ts <= deal_ts GROUP BY deal_id)`;
  let baselineDeals = '';
  const baseline = async () => {
    const [row] = await (await ch.query({ query: baselineSql, format: 'JSONEachRow' })).json<{ n: string }>();
    baselineDeals = row?.n ?? '';
  };

  // Identity resolution alone, from nothing (no finished run): RUNS times.
  const resolutions: number[] = [];
  const steps: Steps[] = [];
  let conversions = 0;
  for (let i = 0; i < RUNS; i++) {
    await emptyRuns();
    const [t, run] = await timed(() => resolver.refresh());
    if (!run.steps) throw new Error('the resolution did not run');
    resolutions.push(t);
    steps.push(run.steps);
    conversions = run.conversions;
    console.log(`identity resolution: ${secs(t)} (${stepMedians([run.steps])}); load ${load()}`);
  }

  const rows: string[] = [];
  for (const model of MODEL_NAMES) {
    const base: number[] = [];
    const rep: number[] = [];
    let result = '';
    for (let i = 0; i < RUNS; i++) {
      base.push((await timed(baseline))[0]);
      const [t, r] = await timed(() => report(model));
      rep.push(t);
      result = summary(r);
      if (!r.resolution.current || r.resolution.waitedMs > 0) throw new Error('inputs changed during the benchmark');
    }
    const line = `| ${model} | ${(median(rep) / 1000).toFixed(2)} s | ${(median(base) / 1000).toFixed(2)} s | ${(median(rep) / median(base)).toFixed(1)}× | ${load()} |`;
    rows.push(line);
    console.log(line, result);
  }

  // Cold: no finished resolution, so the report waits for one.
  const colds: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await emptyRuns();
    const [t, r] = await timed(() => report());
    if (r.resolution.waitedMs === 0) throw new Error('the cold report did not resolve');
    colds.push(t);
    console.log(`cold last_non_direct report: ${secs(t)} (waited ${secs(r.resolution.waitedMs)} for the resolution); load ${load()}`);
  }

  // Stale: a new deal arrives; the report answers from the previous resolution and a refresh starts.
  const stale: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await ch.command({
      query: `INSERT INTO ${DB}.deals (source, deal_id, version, changed_at, received_at, created_at, outcome, amount_minor, visitor_id)
        VALUES ('amo', 'late-${i}', 1, now(), now(), '2026-03-01 00:00:00', 'won', 100, 'V1')`,
    });
    const [t, r] = await timed(() => report());
    if (r.resolution.current || !r.resolution.refreshing || r.resolution.waitedMs > 0) throw new Error('the stale report did not answer from the previous resolution');
    stale.push(t);
    await resolver.running;
  }

  // Incremental: one new deal, then the resolution of it on top of the newest run (what a CRM
  // delivery starts), beside the full resolution of the same inputs as its baseline.
  const incremental: number[] = [];
  const incSteps: Steps[] = [];
  const full: number[] = [];
  const newDeal = (id: string) => insertNewDeal(ch, id, incremental.length);
  for (let i = 0; i < RUNS; i++) {
    await newDeal(`inc-${i}`);
    const [t, run] = await timed(() => resolver.refresh());
    if (run.kind !== 'incremental' || !run.steps) throw new Error(`the resolution after one new deal was ${run.kind}`);
    incremental.push(t);
    incSteps.push(run.steps);
    const [tf] = await timed(() => resolveNow(ch, DB, run.fingerprint));
    full.push(tf);
    console.log(`after one new deal: incremental ${secs(t)} (${stepMedians([run.steps])}), full ${secs(tf)}; load ${load()}`);
  }

  // A cold report: the first of a new collector process (nothing in memory), fresh figures asked
  // for right after a new deal: it waits for the incremental run, then reads.
  const coldFresh: number[] = [];
  const coldCurrent: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await newDeal(`cold-${i}`);
    const [t, r] = await timed(() => buildReport(new Resolver(ch, DB), { model: 'last_non_direct', period, group: 'channel', windowDays: 90 }, true));
    if (r.resolution.waitedMs === 0) throw new Error('the cold fresh report did not wait for a resolution');
    coldFresh.push(t);
    const [tc, rc] = await timed(() => buildReport(new Resolver(ch, DB), { model: 'last_non_direct', period, group: 'channel', windowDays: 90 }));
    if (!rc.resolution.current || rc.resolution.waitedMs > 0) throw new Error('the cold report did not answer from a current resolution');
    coldCurrent.push(tc);
    console.log(`cold report of a new process after a new deal, fresh: ${secs(t)} (waited ${secs(r.resolution.waitedMs)}); with the resolution current: ${secs(tc)}; load ${load()}`);
  }

  console.log(`\n| model | channel report (median of ${RUNS}) | baseline join | ratio | load avg (1/5/15 min) |\n|---|---|---|---|---|\n${rows.join('\n')}`);
  console.log(`\nbaseline join: ${baselineDeals} deals credited`);
  console.log(`identity resolution (median of ${RUNS}): ${secs(median(resolutions))} (${stepMedians(steps)}), ${conversions} conversions`);
  console.log(`cold last_non_direct report, resolution included (median of ${RUNS}): ${secs(median(colds))}`);
  console.log(`last_non_direct report after a new deal, from the previous resolution while a refresh starts (median of ${RUNS}): ${secs(median(stale))}; load ${load()}`);
  console.log(
    `resolution after one new deal (median of ${RUNS}): incremental ${secs(median(incremental))} (${stepMedians(incSteps)}), full ${secs(median(full))}, ratio ${(median(incremental) / median(full)).toFixed(2)}`,
  );
  console.log(`cold report of a new process after a new deal, fresh figures (median of ${RUNS}): ${secs(median(coldFresh))}; with the resolution current: ${secs(median(coldCurrent))}; load ${load()}`);
}

// Run only as a script: bench/cost-curve.ts imports the loader and the timing helpers.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    if (ownData && !process.env.BENCH_KEEP) rmSync(data!, { recursive: true, force: true });
    process.exit(1);
  });
}
