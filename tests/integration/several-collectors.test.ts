// Several collectors of one installation: they share the database and Redis,
// each has its own spool directory (its journal), and the outbound side runs in
// one of them (OUTBOUND=off on the other). Two built collectors behind a small
// round-robin balancer written here, which does what a load balancer does: a
// request that fails on a collector (refused, reset) is sent to the other, that
// collector is taken out until its /healthz answers 200 again. Hits go through
// the balancer at a steady rate; one collector is SIGKILLed midway and started
// again on the same port and spool. Every hit the balancer acknowledged is
// stored, and read once (LIMIT 1 BY event_id, as queries read the hits); the
// killed collector's journal, holding hits it had acknowledged but not yet
// inserted, is replayed by the restarted one.
// Server engine only: an embedded data directory belongs to one process.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseName } from '../../collector/src/spill/files.js';
import { parseJournal } from '../../collector/src/spill/tables.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';
import { BROWSER_UA, visitHit } from '../helpers/load.js';

const HITS = 2000;
const PER_SECOND = 250; // 8 s of load, and the wait for the restart
const KILL_AT = 600; // hits sent when the first collector is killed
const TAIL = 300; // hits sent once it is back
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Backend = { port: number; up: boolean; served: number; servedSinceReadmitted: number; readmitted: number };
type Answer = { status: number; headers: IncomingHttpHeaders; body: Buffer };

/** The balancer: round robin over the collectors that are up; a failed request goes to the next one. */
class RoundRobin {
  readonly backends: Backend[];
  /** Requests sent again to another collector after one failed. */
  retried = 0;
  private next = 0;
  private server!: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly probes = new Set<NodeJS.Timeout>();
  url = '';

  constructor(ports: number[]) {
    this.backends = ports.map((port) => ({ port, up: true, served: 0, servedSinceReadmitted: 0, readmitted: 0 }));
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void this.route(req.method!, req.url!, req.headers, Buffer.concat(chunks)).then((a) => res.writeHead(a.status, a.headers).end(a.body));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  private async route(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
    for (let attempt = 0; attempt < this.backends.length; attempt++) {
      const b = this.pick();
      if (!b) break;
      try {
        const a = await this.forward(b, method, path, headers, body);
        b.served++;
        b.servedSinceReadmitted++;
        return a;
      } catch {
        // No answer (refused, reset): the collector is out until it is healthy again, the request goes on.
        if (b.up) this.takeOut(b);
        this.retried++;
      }
    }
    return { status: 502, headers: {}, body: Buffer.from('no collector up') };
  }

  private pick(): Backend | undefined {
    for (let i = 0; i < this.backends.length; i++) {
      const b = this.backends[this.next++ % this.backends.length]!;
      if (b.up) return b;
    }
    return undefined;
  }

  private forward(b: Backend, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: b.port, method, path, headers: { ...headers, connection: 'keep-alive' }, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Out of the rotation; asked GET /healthz every 100 ms, back in on a 200. */
  private takeOut(b: Backend): void {
    b.up = false;
    const probe = setInterval(() => {
      fetch(`http://127.0.0.1:${b.port}/healthz`).then(
        (r) => {
          if (r.status !== 200 || b.up) return;
          b.up = true;
          b.readmitted++;
          b.servedSinceReadmitted = 0;
          clearInterval(probe);
          this.probes.delete(probe);
        },
        () => undefined, // still down
      );
    }, 100);
    this.probes.add(probe);
  }

  async stop(): Promise<void> {
    for (const p of this.probes) clearInterval(p);
    this.agent.destroy();
    await new Promise((r) => this.server?.close(r));
  }
}

describe('two collectors behind a round-robin balancer', () => {
  let db: TestDatabase;
  let balancer: RoundRobin;
  const spools = [mkdtempSync(join(tmpdir(), 'tl-spool-a-')), mkdtempSync(join(tmpdir(), 'tl-spool-b-'))];
  const collectors: RunningCollector[] = [];
  const env: Record<string, string>[] = [];

  beforeAll(async () => {
    db = await freshDatabase('tl_several');
    const ports = [await freePort(), await freePort()];
    const shared = {
      CLICKHOUSE_DATABASE: db.name,
      // One installation: one Redis key space (limits, salt, visitor ids, spilled batches).
      REDIS_PREFIX: `t_${db.name}:`,
      VISIT_THROTTLE_SECONDS: '0',
      RATE_LIMIT_PER_MINUTE: '0',
      // An insert 5 s after a batch's first hit: killed 2.4 s into the load, the first collector has
      // acknowledged hundreds of hits it never inserted, all in its journal.
      BATCH_MAX_MS: '5000',
      BATCH_MAX_ROWS: '100000',
    };
    env.push({ ...shared, THROUGHLINE_PORT: String(ports[0]), SPOOL_DIR: spools[0]! });
    env.push({ ...shared, THROUGHLINE_PORT: String(ports[1]), SPOOL_DIR: spools[1]!, OUTBOUND: 'off' });
    // One after the other, as a rolling start would: the second finds the schema migrated.
    for (const e of env) collectors.push(await startCollector(e));
    balancer = new RoundRobin(ports);
    await balancer.start();
  });

  afterAll(async () => {
    await balancer?.stop();
    await Promise.all(collectors.map((c) => c.stop()));
    await db?.drop();
    for (const s of spools) rmSync(s, { recursive: true, force: true });
  });

  it('stores every acknowledged hit once when one collector is SIGKILLed and restarted; its journal is replayed', async () => {
    const acked = new Set<string>();
    const refused: string[] = [];
    const inFlight: Promise<void>[] = [];
    const started = Date.now();
    let t0 = started;
    let killed: { pid: number; journal: { name: string; rows: number }[] } | undefined;
    let restarting: Promise<RunningCollector> | undefined;

    for (let i = 0; i < HITS; i++) {
      // A steady rate: hit i leaves at t0 + i / PER_SECOND, whatever the answers to the earlier ones.
      if (i === HITS - TAIL) {
        // The last hits wait for the restarted collector to be back in the rotation (a start takes
        // seconds, more on a busy machine), then go on at the same rate.
        collectors[0] = await restarting!;
        const back = Date.now();
        while (!balancer.backends[0]!.up && Date.now() - back < 20_000) await sleep(50);
        t0 = Date.now() - (i * 1000) / PER_SECOND;
      }
      const wait = t0 + (i * 1000) / PER_SECOND - Date.now();
      if (wait > 0) await sleep(wait);
      if (i === KILL_AT) {
        const a = collectors[0]!;
        const pid = a.proc.pid!;
        expect(await a.stop('SIGKILL')).toBeNull(); // killed: no exit code, no flush
        // What it left: journal segments of hits it acknowledged, not yet in ClickHouse.
        const journal = readdirSync(spools[0]!)
          .filter((f) => parseName(f)?.kind === 'j' && parseName(f)?.pid === pid)
          .map((name) => ({ name, rows: parseJournal(readFileSync(join(spools[0]!, name))).rows }));
        killed = { pid, journal };
        restarting = startCollector(env[0]!); // same port, same spool
      }
      const { id, body } = visitHit();
      inFlight.push(
        fetch(`${balancer.url}/hit`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA } }).then(
          async (r) => {
            await r.arrayBuffer();
            if (r.status >= 200 && r.status < 300) acked.add(id);
            else refused.push(`${r.status}`);
          },
          (err: unknown) => void refused.push(String(err)),
        ),
      );
    }
    await Promise.all(inFlight);
    const sentFor = Date.now() - started;

    const [a, b] = balancer.backends as [Backend, Backend];
    console.log(
      `sent ${HITS} in ${sentFor} ms; acknowledged ${acked.size}; retried on the other collector ${balancer.retried}; ` +
        `served: first ${a.served} (${a.servedSinceReadmitted} after its restart), second ${b.served}; ` +
        `the killed one's journal: ${killed!.journal.map((j) => `${j.name} (${j.rows} rows)`).join(', ')}`,
    );
    // The balancer hid the crash: every hit was acknowledged, some only on their second try.
    expect(refused).toEqual([]);
    expect(acked.size).toBe(HITS);
    expect(balancer.retried).toBeGreaterThan(0);
    // Both took hits before the kill, and the first again once restarted and healthy.
    expect(a.readmitted).toBe(1);
    expect(a.servedSinceReadmitted).toBeGreaterThan(0);
    expect(b.served).toBeGreaterThan(a.served - a.servedSinceReadmitted);

    // The killed collector had acknowledged hits only in its journal; the restarted one replayed them.
    const journalRows = killed!.journal.reduce((n, j) => n + j.rows, 0);
    expect(journalRows).toBeGreaterThan(0);
    const replayed = await eventually(
      async () =>
        collectors[0]!
          .output()
          .split('\n')
          .filter((l) => l.includes('spooled batch replayed'))
          .map((l) => JSON.parse(l) as { file: string; rows: number })
          .filter((l) => parseName(l.file)?.pid === killed!.pid),
      10_000,
      (lines) => lines.length >= killed!.journal.filter((j) => j.rows > 0).length,
    );
    expect(replayed.map((l) => [l.file, l.rows]).sort()).toEqual(
      killed!.journal
        .filter((j) => j.rows > 0)
        .map((j) => [j.name, j.rows])
        .sort(),
    );
    expect(readdirSync(spools[0]!).filter((f) => parseName(f)?.pid === killed!.pid)).toEqual([]);
    // The second never saw the first's files: each has its own spool.
    expect(readdirSync(spools[1]!).filter((f) => parseName(f)?.pid === killed!.pid)).toEqual([]);

    // Every acknowledged hit stored; each read once. A row is stored twice only where a request
    // was sent twice, or a replayed journal row had been inserted just before the kill.
    const stored = async () => {
      const ids = (await db.rows<{ event_id: string }>('SELECT event_id FROM hits ORDER BY event_id LIMIT 1 BY event_id')).map((r) => r.event_id);
      const [{ n }] = (await db.rows<{ n: string }>('SELECT count() AS n FROM hits')) as [{ n: string }];
      return { ids, distinct: new Set(ids), raw: Number(n) };
    };
    const last = await eventually(stored, 20_000, (s) => [...acked].every((id) => s.distinct.has(id)));
    const missing = [...acked].filter((id) => !last.distinct.has(id));
    console.log(`stored: distinct ${last.distinct.size} (LIMIT 1 BY event_id), raw rows ${last.raw}, missing ${missing.length}`);
    expect(missing).toEqual([]);
    expect(last.distinct.size).toBe(acked.size);
    expect(last.ids.length).toBe(last.distinct.size);
    expect(last.raw - last.distinct.size).toBeLessThanOrEqual(balancer.retried + journalRows);

    // The outbound side runs in the first collector only.
    expect(collectors[0]!.output()).toContain('"msg":"outbound on"');
    expect(collectors[1]!.output()).not.toContain('"msg":"outbound on"');
  });
});
