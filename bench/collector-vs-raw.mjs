// Benchmark of the hit path: wrk against (1) a raw node:http server answering
// 204 and (2) the built collector's POST /hit with ClickHouse and Redis live,
// back to back, several rounds. Prints the medians of hits/s and p50/p99
// latency, the ratio collector/raw, the CPU time each server process spent per
// request (read from /proc: steadier than throughput on a shared machine), the time from a hit's acknowledgement to
// its being queryable in ClickHouse (p50/p99 over probe hits sent during the
// load), and the most active parts of the hits table seen during the run.
// Each server is warmed with the same load for --warmup seconds before its
// measured run. Redis's CPU per hit (INFO cpu) is printed beside the collector's,
// and a note when Redis holds many keys that will expire during the run (left
// by earlier runs: their expiry takes CPU on the same cores).
//
//   npm run build && node bench/collector-vs-raw.mjs [--rounds 3] [--duration 10] [--connections 50] [--warmup 3] [--path /hit]
// --path /fp/hit: the first-party path, whose answers carry the visitor id and
// touches as Set-Cookie (host cookies: the bench's Host is an address).
// --probes off: no probe hits, polls or parts samples during the load, so the
// collector's throughput is measured without the bench's own queries (on the
// embedded engine each poll costs the collector's process; on a server, the server's).
//
// The engine is the collector's, chosen by CLICKHOUSE_URL (default: the server at
// 127.0.0.1:8123). With CLICKHOUSE_URL=embedded every collector of the run keeps its
// data in one new directory under the OS temp dir, removed at the end; since only the
// collector can open that directory, the probes, the parts and the final count are
// read through the collector's SQL endpoint (GET /sql, given a token of the run's own),
// and the collector's CPU per hit then includes the engine's work. On a server on this
// machine the server process's CPU per hit is printed beside it, for the same sum.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import { Redis } from 'ioredis';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { values: a } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    path: { type: 'string', default: '/hit' },
    probes: { type: 'string', default: 'on' },
  },
});
const CLICKHOUSE_URL = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123';
const EMBEDDED = CLICKHOUSE_URL === 'embedded';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function startProcess(args, env, ready) {
  const proc = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c) => {
      out += c.toString();
      if (out.includes(ready)) resolve(proc);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

const stop = (proc) => new Promise((resolve) => (proc.exitCode !== null ? resolve() : (proc.once('exit', resolve), proc.kill('SIGTERM'))));

/** CPU seconds (user + system) a process has used so far; NaN where /proc is missing. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/**
 * The pid of a ClickHouse server on this machine, when CLICKHOUSE_URL points at a
 * loopback address (its CPU per hit is the server's share of a hit, which the
 * embedded engine spends inside the collector's process); undefined otherwise.
 */
function localClickHousePid() {
  if (EMBEDDED || !/^https?:\/\/(127\.|localhost[:/]|\[::1\])/.test(CLICKHOUSE_URL)) return undefined;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'clickhouse-serv') return Number(pid);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Redis's own CPU seconds so far (INFO cpu: works for a Redis on another machine too). */
async function redisCpuSeconds(r) {
  const info = await r.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Runs wrk against `url` served by process `pid`; returns requests/s, p50 and p99 in ms, the non-2xx count and the server's CPU µs per request. */
async function wrk(url, pid, seconds = a.duration) {
  const cpu0 = cpuSeconds(pid);
  const proc = spawn('wrk', [`-t${a.threads}`, `-c${a.connections}`, `-d${seconds}s`, '--latency', '-s', join(here, 'hit.lua'), url]);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c) => (stdout += c));
  proc.stderr.on('data', (c) => (stderr += c));
  const status = await new Promise((res) => proc.once('exit', res));
  const cpu = cpuSeconds(pid) - cpu0;
  const r = { stdout, stderr, status };
  if (r.status !== 0) throw new Error(r.stderr || r.stdout);
  const ms = (label) => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(r.stdout);
    if (!m) return NaN;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)[1]);
  const requests = Number(/(\d+) requests in/.exec(r.stdout)[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.stdout)?.[1] ?? 0);
  return { rps, p50: ms(50), p99: ms(99), requests, non2xx, cpuUs: Math.round((cpu * 1e6) / requests) };
}

/**
 * The same load for --warmup seconds, not measured: a collector runs for days,
 * so what counts is its speed once the JIT has compiled the hot path, not in
 * its first seconds. Both servers get the same warm-up. Returns the hits acknowledged.
 */
async function warm(url, pid) {
  if (Number(a.warmup) <= 0) return 0;
  const r = await wrk(url, pid, a.warmup);
  return r.requests - r.non2xx;
}

/**
 * While the load runs: a probe hit every 200 ms, timed from its 204 to visible in
 * ClickHouse (polled every POLL_MS, the measurement's granularity; polling more
 * often would take ClickHouse CPU from the collector on a small machine); the
 * active parts of hits sampled every 2 s.
 */
const POLL_MS = 100;
function watch(url, sql) {
  const pending = new Map();
  const delays = [];
  let maxParts = 0;
  let running = true;
  const probes = (async () => {
    while (running) {
      const e = `probe${randomBytes(8).toString('hex')}`;
      // A site of their own: the poll below then reads a granule of hits, not the whole column of
      // event ids, and takes no CPU from the collector it is timing.
      const body = JSON.stringify({ s: 'probe', k: 'lead', e, t: Date.now(), u: 'https://shop.example/probe' });
      const r = await fetch(`${url}/hit`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'User-Agent': UA } });
      if (r.status === 204) pending.set(e, Date.now());
      await new Promise((res) => setTimeout(res, 200));
    }
  })();
  const poll = (async () => {
    while (running || pending.size) {
      if (pending.size) {
        const ids = [...pending.keys()].map((x) => `'${x}'`).join(',');
        const rows = await sql(`SELECT DISTINCT event_id FROM hits WHERE site_id = 'probe' AND event_id IN (${ids})`);
        const now = Date.now();
        for (const { event_id } of rows) {
          delays.push(now - pending.get(event_id));
          pending.delete(event_id);
        }
      }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  })();
  const parts = setInterval(async () => {
    const [{ n }] = await sql(`SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'hits' AND active`);
    maxParts = Math.max(maxParts, Number(n));
  }, 2000);
  return async () => {
    running = false;
    await probes;
    const deadline = Date.now() + 10_000;
    while (pending.size && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    clearInterval(parts);
    return { delays, lost: pending.size, maxParts };
  };
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

const db = `tl_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
const prefix = `bench_${randomBytes(4).toString('hex')}:`;
const spool = mkdtempSync(join(tmpdir(), 'tl-bench-spool-'));
const stats = new Redis(REDIS_URL);
// Keys left by earlier runs or experiments expire while this one runs and take Redis CPU from it
// (active expiry on the same cores); say so, since the figures would be disturbed.
const expiring = Number(/expires=(\d+)/.exec(await stats.info('keyspace'))?.[1] ?? 0);
if (expiring > 100_000) console.log(`note: Redis holds ${expiring} keys with a time to live; their expiry during the run takes CPU from it`);
// Embedded: the engine's directory, shared by the run's collectors, and the token of their SQL endpoint.
const data = EMBEDDED ? mkdtempSync(join(tmpdir(), 'tl-bench-clickhouse-')) : undefined;
const sqlToken = randomBytes(24).toString('hex');
const admin = EMBEDDED ? undefined : createClient({ url: CLICKHOUSE_URL });
const ch = EMBEDDED ? undefined : createClient({ url: CLICKHOUSE_URL, database: db });
const chPid = localClickHousePid();

/** A query's rows (JSONEachRow) from the server, or through the SQL endpoint of the collector at `collector` (embedded). */
async function query(collector, q) {
  if (!EMBEDDED) return (await ch.query({ query: q, format: 'JSONEachRow' })).json();
  const r = await fetch(`${collector}/sql?${new URLSearchParams({ database: db, query: `${q} FORMAT JSONEachRow` })}`, {
    headers: { Authorization: `Bearer ${sqlToken}` },
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET /sql: ${r.status} ${text.slice(0, 500)}`);
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

function startCollector(port) {
  return startProcess([join(root, 'dist', 'collector', 'src', 'main.js')], {
    CLICKHOUSE_URL,
    ...(EMBEDDED ? { CLICKHOUSE_DATA: data, SQL_TOKEN: sqlToken } : {}),
    REDIS_URL,
    CLICKHOUSE_DATABASE: db,
    REDIS_PREFIX: prefix,
    SPOOL_DIR: spool,
    THROUGHLINE_PORT: String(port),
    RATE_LIMIT_PER_MINUTE: '100000000',
    LOG_LEVEL: 'info',
  }, 'collector listening');
}

/**
 * Distinct bench event ids stored, once every collector has stopped (each stores
 * what it holds on the way out). Embedded: read through a collector started for it,
 * with no load, once two reads a batch interval apart agree (a journal left behind
 * would be inserted after the start).
 */
async function storedIds() {
  const q = `SELECT uniqExact(event_id) AS n FROM hits WHERE site_id = 'bench'`;
  if (!EMBEDDED) return Number((await query(undefined, q))[0].n);
  const port = await freePort();
  const proc = await startCollector(port);
  try {
    let last = -1;
    for (;;) {
      const n = Number((await query(`http://127.0.0.1:${port}`, q))[0].n);
      if (n === last) return n;
      last = n;
      await new Promise((res) => setTimeout(res, 2000));
    }
  } finally {
    await stop(proc);
  }
}
const raw = [];
const col = [];
const vis = [];
let maxParts = 0;
let rowsAcked = 0;
let collector; // the running collector, stopped before its data is removed should a round fail
try {
  for (let round = 1; round <= Number(a.rounds); round++) {
    const rawPort = await freePort();
    const rawProc = await startProcess([join(here, 'raw-server.mjs'), String(rawPort)], {}, 'listening');
    await warm(`http://127.0.0.1:${rawPort}/hit`, rawProc.pid);
    raw.push(await wrk(`http://127.0.0.1:${rawPort}/hit`, rawProc.pid));
    await stop(rawProc);

    const port = await freePort();
    const proc = (collector = await startCollector(port));
    if (round === 1) {
      const [{ v }] = await query(`http://127.0.0.1:${port}`, 'SELECT version() AS v');
      console.log(`ClickHouse ${v}, ${EMBEDDED ? `embedded in the collector, data in ${data}` : `server at ${CLICKHOUSE_URL}`}`);
    }
    rowsAcked += await warm(`http://127.0.0.1:${port}${a.path}`, proc.pid);
    const done = a.probes === 'off' ? async () => ({ delays: [], lost: 0, maxParts: 0 }) : watch(`http://127.0.0.1:${port}`, (q) => query(`http://127.0.0.1:${port}`, q));
    const redisCpu0 = await redisCpuSeconds(stats);
    const chCpu0 = chPid ? cpuSeconds(chPid) : NaN;
    const r = await wrk(`http://127.0.0.1:${port}${a.path}`, proc.pid);
    r.redisUs = Math.round(((await redisCpuSeconds(stats)) - redisCpu0) * 1e6 / r.requests);
    r.chUs = Math.round(((chPid ? cpuSeconds(chPid) : NaN) - chCpu0) * 1e6 / r.requests);
    const w = await done();
    col.push(r);
    vis.push(...w.delays);
    maxParts = Math.max(maxParts, w.maxParts);
    rowsAcked += r.requests - r.non2xx;
    await stop(proc);
    const ratio = r.rps / raw.at(-1).rps;
    console.log(
      `round ${round}: raw ${raw.at(-1).rps.toFixed(0)} req/s (p50 ${raw.at(-1).p50} ms, p99 ${raw.at(-1).p99} ms, ${raw.at(-1).cpuUs} µs CPU/req); ` +
        `collector ${r.rps.toFixed(0)} hits/s (p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuUs} µs CPU/hit${EMBEDDED ? ' with the engine' : ''}, Redis ${r.redisUs} µs CPU/hit, ` +
        `${chPid ? `ClickHouse server ${r.chUs} µs CPU/hit, ` : ''}non-2xx ${r.non2xx}); ratio ${ratio.toFixed(2)}; ` +
        (a.probes === 'off' ? 'no probes' : `visible p99 ${pct(w.delays, 99)} ms over ${w.delays.length} probes (${w.lost} not seen); max active parts ${w.maxParts}`),
    );
  }
  const stored = await storedIds();
  const ratios = col.map((c, i) => c.rps / raw[i].rps);
  console.log('\nmedians over', a.rounds, 'rounds:');
  console.log(`  raw node:http  ${median(raw.map((r) => r.rps)).toFixed(0)} req/s   p50 ${median(raw.map((r) => r.p50))} ms   p99 ${median(raw.map((r) => r.p99))} ms   ${median(raw.map((r) => r.cpuUs))} µs CPU/req`);
  console.log(
    `  collector ${a.path} ${median(col.map((r) => r.rps)).toFixed(0)} hits/s  p50 ${median(col.map((r) => r.p50))} ms   p99 ${median(col.map((r) => r.p99))} ms   ` +
      `${median(col.map((r) => r.cpuUs))} µs CPU/hit${EMBEDDED ? ' with the embedded engine' : ''} (Redis ${median(col.map((r) => r.redisUs))} µs/hit` +
      `${chPid ? `, ClickHouse server ${median(col.map((r) => r.chUs))} µs/hit, shared: other clients' queries count too` : ''})`,
  );
  console.log(`  ratio collector/raw (median of rounds) ${median(ratios).toFixed(2)}; CPU per request raw/collector ${(median(raw.map((r) => r.cpuUs)) / median(col.map((r) => r.cpuUs))).toFixed(2)}`);
  if (a.probes === 'off') console.log('  accepted -> queryable and active parts: not measured (--probes off)');
  else {
    console.log(`  accepted -> queryable: p50 ${pct(vis, 50)} ms, p99 ${pct(vis, 99)} ms (${vis.length} probes)`);
    console.log(`  max active parts of hits during load: ${maxParts}`);
  }
  console.log(`  hits acknowledged ${rowsAcked}, distinct event ids stored ${stored}`);
} finally {
  if (collector) await stop(collector);
  if (EMBEDDED) rmSync(data, { recursive: true, force: true });
  else {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await admin.close();
    await ch.close();
  }
  const redis = stats;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  rmSync(spool, { recursive: true, force: true });
}
