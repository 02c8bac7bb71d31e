// The cost curve of attribution: identity resolution and a cold report, timed and
// weighed at growing sizes (1 M, 3 M, 10 M, 30 M visits by default; visitors a tenth
// of the visits, deals a hundredth, as bench/attribution.ts at 10 M), on the server
// engine. Each size is loaded with bench/attribution.ts's generator into the database
// tl_cost, then measured in child processes of their own, so that each child's peak
// RSS (the kernel's maxRSS) is that phase's alone:
//   - the resolution alone, from nothing (attribution_runs emptied), RUNS times;
//   - a cold last_non_direct report (no resolution yet: it waits for one), RUNS times;
//   - the incremental resolution after one new deal (on top of a full one), RUNS times;
// with the Node heap sampled every 10 ms, and ClickHouse's own memory per query from
// system.query_log (the children set log_queries = 1: it is off by default in 18.16).
//   npm run bench:cost-curve
//   BENCH_SIZES=1000000,3000000 npm run bench:cost-curve      (other sizes)
//   BENCH_DEADLINE=18:20 npm run bench:cost-curve              (no size started that would end after 18:20 UTC by the
//                                                               curve so far; a size still running then is stopped)
//   node dist/bench/cost-curve.js tables a.json b.json           (the tables again, from saved results)
// The next size starts only if the last one, scaled, leaves memory to spare; a size is
// stopped (its child and its ClickHouse statements) when available memory falls below
// 3 GiB: the machine has no swap and the ClickHouse server is shared. tl_cost is dropped
// after each size (kept with BENCH_KEEP=1). Results go to BENCH_OUT (default
// /tmp/cost-curve.json) after every size; figures in BENCHMARKS.md ("Cost curve of attribution").
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { EMBEDDED, connect, portableSettings, serverVersion, type ClickHouseClient } from '../collector/src/clickhouse/client.js';
import { migrate } from '../collector/src/clickhouse/migrate.js';
import { installViews } from '../collector/src/attribution/views.js';
import { Resolver } from '../collector/src/attribution/resolver.js';
import type { Steps } from '../collector/src/attribution/resolve.js';
import { buildReport } from '../collector/src/reports/build.js';
import { DB, cfg, insertNewDeal, load, load10M, median, mergesDone, timed } from './attribution.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZE_LIST = (process.env.BENCH_SIZES ?? '1000000,3000000,10000000,30000000').split(',');
const SIZES = SIZE_LIST.map(Number);
// Visitors, deals and phone links are a tenth, a hundredth and a two-hundredth of the visits: whole numbers only.
const badSize = SIZE_LIST.find((x) => !/^\d+$/.test(x.trim()) || !Number.isSafeInteger(Number(x)) || Number(x) < 200 || Number(x) % 200 !== 0);
const OUT = process.env.BENCH_OUT ?? '/tmp/cost-curve.json';
const COST_DB = 'tl_cost';
/** Below this much available memory the running size is stopped: the machine has no swap, and the ClickHouse server is shared. */
const FLOOR_BYTES = 3 * 2 ** 30;
const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** What one child measured. */
type Phase = {
  times: number[];
  steps?: Steps[];
  conversions?: number;
  /** RSS before the first run, after loading modules and connecting. */
  baseRss: number;
  /** The kernel's peak RSS of the child process (includes baseRss). */
  maxRss: number;
  /** Peak heapUsed and peak external + arrayBuffers, sampled every 10 ms (a synchronous stretch can hide a brief peak). */
  maxHeap: number;
  maxExternal: number;
  /** ClickHouse: the largest memory_usage of one query, what that query was, and the most held at once by queries running side by side (an upper bound: query_log's start times are whole seconds). */
  chMaxQuery: number;
  chMaxQueryText: string;
  chConcurrent: number;
  chQueries: number;
  /** The ClickHouse server process's RSS before the phase and its highest during it (sampled every 0.5 s; other clients' share included). */
  serverRssBase?: number;
  serverRssMax?: number;
};
type SizeResult = {
  visits: number;
  visitors: number;
  deals: number;
  loadMs: number;
  resolve: Phase;
  cold: Phase;
  /** Absent in results saved before incremental resolution. */
  incremental?: Phase;
  wallMs: number;
  loadAvg: string;
};

const sizeEnv = (visits: number) => ({
  BENCH_DB: COST_DB,
  BENCH_VISITS: String(visits),
  BENCH_VISITORS: String(visits / 10),
  BENCH_DEALS: String(visits / 100),
  // 50,000 phone links at 10 M visits, scaled alike.
  BENCH_PHONE_LINKS: String(visits / 200),
});

function memAvailable(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

let serverPid: string | null | undefined;
/** The ClickHouse server's resident memory, from /proc (0 if it does not run on this machine). */
function serverRss(): number {
  try {
    serverPid ??= readdirSync('/proc').find((p) => /^\d+$/.test(p) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'clickhouse-serv') ?? null;
    if (!serverPid) return 0;
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${serverPid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

async function costClient(): Promise<ClickHouseClient> {
  const probe = connect(cfg);
  const settings = await portableSettings(probe);
  await probe.close();
  // No request may time out at 30 M visits; every statement is logged for its memory.
  return connect(cfg, DB, { ...settings, max_execution_time: 1800, log_queries: 1 }, 1_800_000);
}

// ---- children --------------------------------------------------------------

async function childLoad(): Promise<{ loadMs: number }> {
  const admin = connect(cfg, null);
  await admin.command({ query: `DROP DATABASE IF EXISTS ${DB}` });
  await migrate(admin, DB);
  await installViews(admin, DB, 90);
  await admin.close();
  const ch = await costClient();
  const [loadMs] = await timed(() => load10M(ch));
  await mergesDone(ch);
  await ch.close();
  return { loadMs };
}

/** Sums of memory_usage of the logged queries that ran side by side, from system.query_log. */
async function chMemory(ch: ClickHouseClient, from: number, to: number): Promise<Pick<Phase, 'chMaxQuery' | 'chMaxQueryText' | 'chConcurrent' | 'chQueries'>> {
  await ch.command({ query: 'SYSTEM FLUSH LOGS' });
  const rs = await ch.query({
    query: `SELECT toUInt64(query_start_time) AS start, query_duration_ms AS ms, memory_usage AS mem, substring(replaceRegexpAll(query, '\\\\s+', ' '), 1, 70) AS q
      FROM system.query_log
      WHERE type = 2 AND event_date >= today() - 1 AND event_time >= toDateTime(${Math.floor(from / 1000)}) AND query_start_time <= toDateTime(${Math.ceil(to / 1000)})
        AND position(query, '${DB}.') > 0 AND position(query, 'system.query_log') = 0`,
    format: 'JSONEachRow',
  });
  const qs = (await rs.json<{ start: string; ms: string; mem: string; q: string }>()).map((r) => ({
    start: Number(r.start) * 1000,
    end: Number(r.start) * 1000 + Number(r.ms) + 1000, // the start is whole seconds: widen by one
    mem: Number(r.mem),
    q: r.q,
  }));
  let top = qs[0];
  let concurrent = 0;
  for (const a of qs) {
    if (!top || a.mem > top.mem) top = a;
    // At a's start, everything still running beside it.
    const beside = qs.filter((b) => b.start <= a.start && b.end > a.start).reduce((s, b) => s + b.mem, 0);
    concurrent = Math.max(concurrent, beside);
  }
  return { chMaxQuery: top?.mem ?? 0, chMaxQueryText: top?.q ?? '', chConcurrent: concurrent, chQueries: qs.length };
}

async function childMeasure(what: 'resolve' | 'cold' | 'incremental'): Promise<Phase> {
  const ch = await costClient();
  const resolver = new Resolver(ch, DB);
  let maxHeap = 0;
  let maxExternal = 0;
  const sample = () => {
    const m = process.memoryUsage();
    maxHeap = Math.max(maxHeap, m.heapUsed);
    maxExternal = Math.max(maxExternal, m.external + m.arrayBuffers);
  };
  const emptyRuns = () => ch.command({ query: `TRUNCATE TABLE ${DB}.attribution_runs` });
  await emptyRuns();
  // The incremental runs start from a full one, made before the measure.
  if (what === 'incremental') await resolver.refresh();
  global.gc?.();
  const baseRss = process.memoryUsage().rss;
  const sampler = setInterval(sample, 10);
  const times: number[] = [];
  const steps: Steps[] = [];
  let conversions = 0;
  const from = Date.now();
  for (let i = 0; i < RUNS; i++) {
    if (what === 'incremental') {
      // One new deal naming a visitor who has visits, and an e-mail a link ties to another visitor.
      await insertNewDeal(ch, `new-${i}`, 100 + i);
      const [t, run] = await timed(() => resolver.refresh());
      if (run.kind !== 'incremental' || !run.steps) throw new Error(`the resolution after one new deal was ${run.kind}`);
      times.push(t);
      steps.push(run.steps);
      conversions = run.conversions;
      sample();
      console.log(`  ${what} ${i + 1}: ${(times[i]! / 1000).toFixed(2)} s, rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB; load ${load()}`);
      continue;
    }
    await emptyRuns();
    if (what === 'resolve') {
      const [t, run] = await timed(() => resolver.refresh());
      if (!run.steps) throw new Error('the resolution did not run');
      times.push(t);
      steps.push(run.steps);
      conversions = run.conversions;
    } else {
      const [t, r] = await timed(() =>
        buildReport(resolver, { model: 'last_non_direct', period: { from: '2026-02-01', to: '2026-06-29' }, group: 'channel', windowDays: 90 }),
      );
      if (r.resolution.waitedMs === 0) throw new Error('the cold report did not resolve');
      times.push(t);
    }
    sample();
    console.log(`  ${what} ${i + 1}: ${(times[i]! / 1000).toFixed(2)} s, rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB; load ${load()}`);
  }
  clearInterval(sampler);
  const to = Date.now();
  const mem = await chMemory(ch, from, to);
  await ch.close();
  return {
    times,
    ...(what !== 'cold' ? { steps, conversions } : {}),
    baseRss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    maxHeap,
    maxExternal,
    ...mem,
  };
}

// ---- parent ----------------------------------------------------------------

/** Runs this file as a child for one phase of one size; stops it (and its ClickHouse queries) if memory runs short. */
async function phase<T>(mode: string, visits: number, lowest: { bytes: number }, deadline: number): Promise<T> {
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), mode], {
    env: { ...process.env, ...sizeEnv(visits) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => {
    const text = b.toString();
    out += text;
    process.stdout.write(text.split('\n').filter((l) => !l.startsWith('RESULT ')).join('\n'));
  });
  let stopped = '';
  const server = { base: serverRss(), max: 0 };
  const watch = setInterval(() => {
    const avail = memAvailable();
    lowest.bytes = Math.min(lowest.bytes, avail);
    server.max = Math.max(server.max, serverRss());
    const why = avail < FLOOR_BYTES ? `available memory fell to ${(avail / GiB).toFixed(1)} GiB` : Date.now() > deadline ? `past the deadline` : '';
    if (why && !stopped) {
      stopped = why;
      child.kill('SIGTERM');
      void killQueries();
    }
  }, 500);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(watch);
  if (stopped) throw new Error(`${mode} at ${visits} visits stopped: ${stopped}`);
  if (code !== 0) throw new Error(`${mode} at ${visits} visits failed (exit ${code})`);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${mode} at ${visits} visits gave no result`);
  return { ...(JSON.parse(line.slice('RESULT '.length)) as T), serverRssBase: server.base, serverRssMax: server.max };
}

/** Stops this bench's own statements on the server (only those naming its database). */
async function killQueries(): Promise<void> {
  const admin = connect(cfg, null);
  await admin.command({ query: `KILL QUERY WHERE position(query, '${COST_DB}.') > 0 ASYNC` }).catch(() => undefined);
  await admin.close();
}

/** Least-squares slope of log y on log x: y grows as x to this power. */
function exponent(xs: number[], ys: number[]): number {
  const lx = xs.map(Math.log);
  const ly = ys.map(Math.log);
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length;
  const my = ly.reduce((a, b) => a + b, 0) / ly.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i]! - mx) * (ly[i]! - my);
    den += (lx[i]! - mx) ** 2;
  }
  return num / den;
}

/** Visits at which the power law through the largest point with the fitted exponent reaches `target`. */
function reach(xs: number[], ys: number[], target: number): string {
  const b = exponent(xs, ys);
  return b > 0.05 ? millions(xs.at(-1)! * (target / ys.at(-1)!) ** (1 / b)) : 'never (no growth)';
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (b: number) => (b >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(0)} MiB`);
const millions = (n: number) => (n >= 1e6 ? `${+(n / 1e6).toFixed(2)} M` : `${+(n / 1e3).toFixed(1)} k`);

function tables(results: SizeResult[]): string {
  const out: string[] = [];
  out.push(
    `| visits | visitors | deals | conversions | loading | resolution (median of ${RUNS}) | its steps: read, union-find, write, joins | Node peak RSS (heap) | ClickHouse query_log: largest query, side by side (upper bound) | ClickHouse server RSS (before → highest) | cold report (median of ${RUNS}) | Node peak RSS (heap) | ClickHouse: largest query, side by side | ClickHouse server RSS | load avg |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of results) {
    const st = r.resolve.steps!;
    const stepMed = (k: keyof Steps) => (median(st.map((x) => x[k])) / 1000).toFixed(2);
    out.push(
      `| ${millions(r.visits)} | ${millions(r.visitors)} | ${millions(r.deals)} | ${r.resolve.conversions} | ${s(r.loadMs)} | ${s(median(r.resolve.times))} | ${stepMed('read')}, ${stepMed('merge')}, ${stepMed('write')}, ${stepMed('join')} | ${mib(r.resolve.maxRss)} (${mib(r.resolve.maxHeap)}) | ${mib(r.resolve.chMaxQuery)}, ${mib(r.resolve.chConcurrent)} | ${mib(r.resolve.serverRssBase ?? 0)} → ${mib(Math.max(r.resolve.serverRssBase ?? 0, r.resolve.serverRssMax ?? 0))} | ${s(median(r.cold.times))} | ${mib(r.cold.maxRss)} (${mib(r.cold.maxHeap)}) | ${mib(r.cold.chMaxQuery)}, ${mib(r.cold.chConcurrent)} | ${mib(r.cold.serverRssBase ?? 0)} → ${mib(Math.max(r.cold.serverRssBase ?? 0, r.cold.serverRssMax ?? 0))} | ${r.loadAvg} |`,
    );
  }
  const withInc = results.filter((r) => r.incremental);
  if (withInc.length) {
    out.push(
      '',
      `| visits | resolution after one new deal: incremental (median of ${RUNS}) | its steps: read, union-find, write, joins | full (above) | incremental / full | Node peak RSS (heap) | ClickHouse: largest query |`,
      '|---|---|---|---|---|---|---|',
    );
    for (const r of withInc) {
      const inc = r.incremental!;
      const stepMed = (k: keyof Steps) => (median(inc.steps!.map((x) => x[k])) / 1000).toFixed(2);
      out.push(
        `| ${millions(r.visits)} | ${s(median(inc.times))} | ${stepMed('read')}, ${stepMed('merge')}, ${stepMed('write')}, ${stepMed('join')} | ${s(median(r.resolve.times))} | ${(median(inc.times) / median(r.resolve.times)).toFixed(2)} | ${mib(inc.maxRss)} (${mib(inc.maxHeap)}) | ${mib(inc.chMaxQuery)} |`,
      );
    }
  }
  if (results.length >= 2) {
    const xs = results.map((r) => r.visits);
    const series: [string, number[]][] = [
      ['resolution time', results.map((r) => median(r.resolve.times))],
      ['– union-find (Node)', results.map((r) => median(r.resolve.steps!.map((x) => x.merge)))],
      ['– joins (ClickHouse)', results.map((r) => median(r.resolve.steps!.map((x) => x.join)))],
      ['resolution: Node peak RSS', results.map((r) => r.resolve.maxRss)],
      ['resolution: Node RSS above the idle process', results.map((r) => Math.max(1, r.resolve.maxRss - r.resolve.baseRss))],
      ['resolution: Node peak heap', results.map((r) => r.resolve.maxHeap)],
      ['resolution: ClickHouse largest query', results.map((r) => r.resolve.chMaxQuery)],
      ['cold report time', results.map((r) => median(r.cold.times))],
      ['cold report: Node peak RSS', results.map((r) => r.cold.maxRss)],
      ['cold report: ClickHouse largest query', results.map((r) => r.cold.chMaxQuery)],
      ['cold report: ClickHouse side by side', results.map((r) => r.cold.chConcurrent)],
      ...(withInc.length === results.length ? [['incremental resolution after one new deal', results.map((r) => median(r.incremental!.times))] as [string, number[]]] : []),
    ];
    const ratios = results.slice(1).map((r, i) => `${millions(r.visits)} / ${millions(results[i]!.visits)}`);
    out.push('', `| growth | ${ratios.join(' | ')} | fitted exponent (y ∝ visits^b) |`, `|---|${ratios.map(() => '---|').join('')}---|`);
    for (const [name, ys] of series) {
      out.push(`| ${name} | ${ys.slice(1).map((y, i) => `${(y / ys[i]!).toFixed(2)}×`).join(' | ')} | ${exponent(xs, ys).toFixed(2)} |`);
    }
    const t = series[0]![1];
    const rss = series[3]![1];
    out.push(
      '',
      `Extrapolated by the fitted curves (beyond the measured points): the resolution reaches 60 s at about ${reach(xs, t, 60_000)} visits, ` +
        `its Node process 8 GiB RSS at about ${reach(xs, rss, 8 * GiB)} visits; the cold report reaches 60 s at about ${reach(xs, series[7]![1], 60_000)} visits.`,
    );
  }
  return out.join('\n');
}

async function parent(): Promise<void> {
  if (badSize !== undefined) throw new Error(`BENCH_SIZES: ${JSON.stringify(badSize)} is not a whole number of visits divisible by 200`);
  if ((process.env.CLICKHOUSE_URL || '') === EMBEDDED) throw new Error('the cost curve runs on a server (CLICKHOUSE_URL=http://…)');
  const ch = connect(cfg, null);
  const version = await serverVersion(ch);
  await ch.close();
  const deadline = process.env.BENCH_DEADLINE ? deadlineMs(process.env.BENCH_DEADLINE) : Infinity;
  console.log(
    `ClickHouse ${version}, server at ${cfg.url}; ${cpus().length} cores, ${(totalmem() / GiB).toFixed(1)} GiB RAM, ${(memAvailable() / GiB).toFixed(1)} GiB available, load average ${load()}; Node ${process.version}`,
  );
  const results: SizeResult[] = [];
  for (const visits of SIZES) {
    const prev = results.at(-1);
    if (prev) {
      // Linear in visits by the last size, with a margin (time 1.3×, memory 2×): would it end past the deadline, or need more memory than there is?
      const k = visits / prev.visits;
      if (Date.now() + prev.wallMs * k * 1.3 > deadline) {
        console.log(`stopping before ${millions(visits)} visits: it would end after ${process.env.BENCH_DEADLINE} UTC`);
        break;
      }
      // ClickHouse's part: its server's growth during the phases (query_log's side-by-side sum is only an upper bound).
      const grew = (p: Phase) => Math.max(0, (p.serverRssMax ?? 0) - (p.serverRssBase ?? 0));
      const need = (Math.max(prev.resolve.maxRss, prev.cold.maxRss) + Math.max(grew(prev.resolve), grew(prev.cold))) * k * 2;
      if (need > memAvailable() - FLOOR_BYTES) {
        console.log(`stopping before ${millions(visits)} visits: it may need ${mib(need)}, ${mib(memAvailable())} available`);
        break;
      }
    }
    console.log(`\n== ${millions(visits)} visits, ${millions(visits / 10)} visitors, ${millions(visits / 100)} deals; load ${load()}`);
    const lowest = { bytes: memAvailable() };
    const t0 = Date.now();
    try {
      const { loadMs } = await phase<{ loadMs: number }>('load', visits, lowest, deadline);
      const resolve = await phase<Phase>('resolve', visits, lowest, deadline);
      const cold = await phase<Phase>('cold', visits, lowest, deadline);
      const incremental = await phase<Phase>('incremental', visits, lowest, deadline);
      results.push({ visits, visitors: visits / 10, deals: visits / 100, loadMs, resolve, cold, incremental, wallMs: Date.now() - t0, loadAvg: load() });
    } catch (err) {
      console.log(String(err));
      break;
    } finally {
      console.log(`lowest available memory during ${millions(visits)}: ${mib(lowest.bytes)}`);
      if (!process.env.BENCH_KEEP) {
        const admin = connect(cfg, null);
        await admin.command({ query: `DROP DATABASE IF EXISTS ${COST_DB}` });
        await admin.close();
      }
    }
    writeFileSync(OUT, JSON.stringify(results, null, 1));
    console.log(`\n${tables(results)}`);
  }
  console.log(`\nresults in ${OUT}; load ${load()}`);
}

/** "HH:MM" UTC today, as epoch ms. */
function deadlineMs(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h!, m!);
}

const mode = process.argv[2];
const run = async () => {
  if (mode === 'load') console.log(`RESULT ${JSON.stringify(await childLoad())}`);
  else if (mode === 'resolve' || mode === 'cold' || mode === 'incremental') console.log(`RESULT ${JSON.stringify(await childMeasure(mode))}`);
  // Prints the tables again from saved results (several files: sizes run separately).
  else if (mode === 'tables') {
    const files = process.argv.length > 3 ? process.argv.slice(3) : [OUT];
    const all = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')) as SizeResult[]);
    console.log(tables(all.sort((a, b) => a.visits - b.visits)));
  }
  else await parent();
};
run().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
