// Cluster mode (CLICKHOUSE_CLUSTER): a private cluster of 2 shards × 2 replicas of
// ClickHouse 18.16 and ZooKeeper on loopback (helpers/private-cluster.ts), a real
// collector on one of its servers, and the same scenario (helpers/report-scenario.ts)
// given to a collector on the shared single server. Every model's report must be
// the single-server report; with a replica killed, hits still go in and none is
// lost, and the replica catches up when it is back. Server engine only (a cluster
// of servers; vitest.config.ts, NOT_EMBEDDED).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { migrate } from '../../collector/src/clickhouse/migrate.js';
import { MODEL_NAMES } from '../../collector/src/attribution/models.js';
import { ALPHABET } from '../../contract/ids.js';
import { eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { insertDeals, type DealVersion } from '../helpers/crm-fixtures.js';
import { startCollector, type RunningCollector } from '../helpers/collector.js';
import { resolveNow } from '../../collector/src/attribution/resolve.js';
import { readFingerprint } from '../../collector/src/attribution/runs.js';
import { privateCluster, type ClusterNode, type PrivateCluster } from '../helpers/private-cluster.js';
import { COSTS_CSV, IDENTITY_KEY, loadScenarioCrm, loadScenarioVisits, scenarioFunnel, SCENARIO_COLLECTOR_ENV, TOKEN, VISITS } from '../helpers/report-scenario.js';

const PERIOD = 'from=2026-03-01&to=2026-03-31';
const DB = `tl_cluster_${process.pid}`;

type Report = { rows: Record<string, unknown>[]; totals: Record<string, unknown>; stages: string[]; model: string };

/** The figures of a report, without the resolution that produced them (its run id and age differ by nature). */
async function report(collector: RunningCollector, query: string): Promise<Report> {
  const r = await fetch(`${collector.url}/api/reports/channels?${query}`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  if (r.status !== 200) throw new Error(`report ${query}: ${r.status} ${await r.text()}`);
  const { rows, totals, stages, model } = (await r.json()) as Report;
  return { rows, totals, stages, model };
}

async function uploadCosts(collector: RunningCollector): Promise<void> {
  const r = await fetch(`${collector.url}/api/costs`, { method: 'POST', body: COSTS_CSV, headers: { 'Content-Type': 'text/csv', Authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
}

async function hit(collector: RunningCollector, visitor: string, t: number): Promise<void> {
  const body = JSON.stringify({ s: 'shop', k: 'visit', e: randomBytes(8).toString('hex'), t, u: 'https://shop.example/?utm_source=x&utm_medium=cpc', r: '', g: '', y: '', v: visitor });
  const res = await fetch(`${collector.url}/hit`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
  expect(res.status).toBe(204);
}

describe('cluster mode: 2 shards × 2 replicas, ZooKeeper', () => {
  let cluster: PrivateCluster;
  let single: TestDatabase;
  let oneServer: RunningCollector;
  let onCluster: RunningCollector;
  /** Clients of each server, not bound to the database (system tables and the local tables). */
  const direct = new Map<ClusterNode, ClickHouseClient>();
  let client: ClickHouseClient;
  const rows = async <T>(c: ClickHouseClient, query: string) => (await c.query({ query, format: 'JSONEachRow' })).json<T>();
  const count = async (c: ClickHouseClient, table: string) => Number((await rows<{ n: string }>(c, `SELECT count() AS n FROM ${DB}.${table}`))[0]!.n);

  beforeAll(async () => {
    // The single server's collector first: the cluster starts meanwhile.
    const clusterUp = privateCluster();
    single = await freshDatabase('tl_cluster_ref');
    await loadScenarioCrm(single.client);
    const env = { BATCH_MAX_MS: '100', REPORTS_TOKEN: TOKEN, IDENTITY_KEY, ...SCENARIO_COLLECTOR_ENV };
    oneServer = await startCollector({ CLICKHOUSE_DATABASE: single.name, ...env, ...scenarioFunnel() });
    await loadScenarioVisits(oneServer.url, single);
    await uploadCosts(oneServer);

    cluster = await clusterUp;
    const s1r1 = cluster.node(1, 1);
    const target = { url: s1r1.url, user: 'default', password: '', database: DB, cluster: cluster.name };
    for (const n of cluster.nodes) direct.set(n, connect({ ...target, url: n.url }, null));
    // Migrated ahead of the collector, so the scenario's deals can be written first, as on the single server.
    const applied = await migrate(direct.get(s1r1)!, DB, undefined, { cluster: cluster.name });
    expect(applied.length).toBeGreaterThan(10);
    client = connect(target);
    await loadScenarioCrm(client);
    onCluster = await startCollector({ CLICKHOUSE_URL: s1r1.url, CLICKHOUSE_CLUSTER: cluster.name, CLICKHOUSE_DATABASE: DB, ...env, ...scenarioFunnel() });
    await loadScenarioVisits(onCluster.url, { rows: (q: string) => rows(client, q) } as unknown as TestDatabase);
    await uploadCosts(onCluster);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([oneServer?.stop(), onCluster?.stop()]);
    await client?.close();
    for (const c of direct.values()) await c.close();
    await single?.drop();
    await cluster?.destroy();
  });

  it('came up in seconds, with every table replicated and sharded behind a Distributed one', async () => {
    expect(cluster.startMs).toBeLessThan(30_000);
    for (const n of cluster.nodes) {
      const tables = await rows<{ name: string; engine: string }>(direct.get(n)!, `SELECT name, engine FROM system.tables WHERE database = '${DB}'`);
      const engine = Object.fromEntries(tables.map((t) => [t.name, t.engine]));
      expect(engine.hits).toBe('Distributed');
      expect(engine.hits_local).toBe('ReplicatedReplacingMergeTree');
      expect(engine.schema_migrations_local).toBe('ReplicatedMergeTree');
      expect(engine.deals_current).toBe('View');
      expect(engine.hit_ids_mv).toBe('MaterializedView');
    }
    // The collector's own migrate found the ledger complete: nothing applied twice.
    expect(onCluster.output()).not.toContain('migrations applied');
    const ledger = await rows<{ version: number; n: string }>(client, 'SELECT version, count() AS n FROM schema_migrations GROUP BY version HAVING n > 1');
    expect(ledger).toEqual([]);
  });

  it('spreads hits by visitor over both shards, each visitor on one shard, each shard on both its replicas', async () => {
    const perShard: Record<number, string[]> = {};
    await eventually(
      async () => {
        for (const n of cluster.nodes) {
          const vs = (await rows<{ v: string }>(direct.get(n)!, `SELECT DISTINCT visitor_id AS v FROM ${DB}.hits_local ORDER BY v`)).map((r) => r.v);
          if (n.replica === 1) perShard[n.shard] = vs;
          else if (JSON.stringify(vs) !== JSON.stringify(perShard[n.shard])) return false;
        }
        return true;
      },
      10_000,
      (ok) => ok,
    );
    for (const n of cluster.nodes) {
      const vs = (await rows<{ v: string }>(direct.get(n)!, `SELECT DISTINCT visitor_id AS v FROM ${DB}.hits_local ORDER BY v`)).map((r) => r.v);
      expect(vs, `s${n.shard}r${n.replica}`).toEqual(perShard[n.shard]);
    }
    expect(perShard[1]!.length).toBeGreaterThan(0);
    expect(perShard[2]!.length).toBeGreaterThan(0);
    expect(perShard[1]!.filter((v) => perShard[2]!.includes(v))).toEqual([]);
    expect([...perShard[1]!, ...perShard[2]!].sort()).toEqual([...new Set(VISITS.map((x) => x.v))].sort());
    // The materialized view fed hit_ids on the shard of the hits: the GA and Metrika ids of D's two devices.
    expect(await rows(client, `SELECT visitor_id, ga_cid, ym_uid FROM hit_ids GROUP BY visitor_id, ga_cid, ym_uid ORDER BY visitor_id`)).toEqual([
      { visitor_id: 'DDDDD3', ga_cid: '111.222', ym_uid: '' },
      { visitor_id: 'DDDDD4', ga_cid: '', ym_uid: '333444' },
    ]);
  });

  it('gives every model the single-server report, to the kopeck', async () => {
    for (const model of MODEL_NAMES) {
      for (const group of ['channel', 'source', 'campaign']) {
        const q = `model=${model}&group=${group}&${PERIOD}`;
        const [want, got] = await Promise.all([report(oneServer, q), report(onCluster, q)]);
        expect(want.rows.length, q).toBeGreaterThan(2);
        expect(got, q).toEqual(want);
      }
    }
    // The analyst views read the same: one per model, on the collector's server.
    for (const model of MODEL_NAMES) {
      const sql = `SELECT channel, sum(credit_minor) AS c FROM attribution_credits_${model} GROUP BY channel ORDER BY channel`;
      expect(await rows(client, sql), model).toEqual(await single.rows(sql));
    }
  });

  it('goes on taking hits and deals with a replica killed, loses none, and the replica catches up', async () => {
    const down = cluster.node(2, 1);
    const twin = cluster.node(2, 2);
    const before = await count(client, 'hits');
    const dealsBefore = await count(client, 'deals');
    await down.stop('SIGKILL');
    // Reads fail over to the live replica: the report is unchanged.
    const q = `model=linear&${PERIOD}`;
    expect(await report(onCluster, q)).toEqual(await report(oneServer, q));
    // Forty new visitors (both shards get some) and two deals, all while the replica is down; the same to the single server.
    const t = Date.parse('2026-03-28T10:00:00Z');
    const visitors = Array.from({ length: 40 }, (_, i) => `KV${ALPHABET[Math.floor(i / ALPHABET.length)]}${ALPHABET[i % ALPHABET.length]}22`).sort();
    for (const [i, v] of visitors.entries()) await Promise.all([hit(onCluster, v, t + i * 1000), hit(oneServer, v, t + i * 1000)]);
    const deals: DealVersion[] = [
      { source: 'amo', deal_id: '901', version: 1, created_at: '2026-03-28 11:00:00', outcome: 'won', amount_minor: 100, visitor_id: visitors[1]! },
      { source: 'amo', deal_id: '902', version: 1, created_at: '2026-03-28 11:00:00', outcome: 'won', amount_minor: 200, visitor_id: visitors[2]! },
    ];
    await Promise.all([insertDeals(client, deals), insertDeals(single.client, deals)]);
    const after = await eventually(() => count(client, 'hits'), 15_000, (n) => n === before + visitors.length);
    expect(after).toBe(before + visitors.length);
    expect(await count(client, 'deals')).toBe(dealsBefore + 2);
    const stored = (await rows<{ v: string }>(client, `SELECT DISTINCT visitor_id AS v FROM hits WHERE startsWith(visitor_id, 'KV') ORDER BY v`)).map((r) => r.v);
    expect(stored).toEqual(visitors);
    // Shard 2's share went to its live replica.
    expect(await count(direct.get(twin)!, 'hits_local')).toBeGreaterThan(0);
    await eventually(() => single.rows<{ n: string }>('SELECT count() AS n FROM hits'), 15_000, (r) => Number(r[0]?.n) === after);
    // A partition drop goes through the shard's leader replica: once the dead one's ZooKeeper session
    // has expired, its twin leads (a drop queued before that fails on the shard, and the next
    // resolution, finding the run still there, queues it again).
    const leads = () => rows<{ n: string }>(direct.get(twin)!, `SELECT count() AS n FROM system.replicas WHERE database = '${DB}' AND table = 'attribution_touches_local' AND is_leader`);
    expect(Number((await eventually(leads, 15_000, (r) => Number(r[0]?.n) === 1))[0]?.n)).toBe(1);
    // New identity resolutions while the replica is down: the collector's (each new visit changes the
    // inputs: incremental runs) give reports that still equal the single server's; full ones start new
    // generations, and the older generations' partitions are dropped on the live servers without
    // waiting for the dead one.
    for (let round = 0; round < 3; round++) {
      const at = t + (100 + round) * 1000;
      await Promise.all([hit(onCluster, visitors[3]!, at), hit(oneServer, visitors[3]!, at)]);
      await eventually(() => count(client, 'hits'), 15_000, (n) => n === after + round + 1);
      await eventually(() => single.rows<{ n: string }>('SELECT count() AS n FROM hits'), 15_000, (r) => Number(r[0]?.n) === after + round + 1);
      expect(await report(onCluster, q), `round ${round}`).toEqual(await report(oneServer, q));
      const full = await resolveNow(client, DB, await readFingerprint(client, DB), {}, cluster.name);
      expect(full.generation).toBe(full.run);
    }
    expect(await report(onCluster, q)).toEqual(await report(oneServer, q));
    const generations = (c: ClickHouseClient, table: string) =>
      rows<{ g: string }>(c, `SELECT DISTINCT generation AS g FROM ${DB}.${table} ORDER BY g`).then((r) => r.map((x) => x.g).join(','));
    // The newest generation and the two before it stay (resolve.ts, KEEP_GENERATIONS).
    const kept = await eventually(() => generations(client, 'attribution_touches'), 10_000, (r) => r.split(',').length <= 3);
    expect(kept.split(',').length).toBe(3);
    // Back up: the replica fetches what it missed from its twin, row for row, and runs the drops queued for it.
    await down.start();
    for (const table of ['hits_local', 'deals_local', 'attribution_touches_local']) {
      const want = await count(direct.get(twin)!, table);
      const got = await eventually(() => count(direct.get(down)!, table).catch(() => -1), 20_000, (n) => n === want);
      expect(got, table).toBe(want);
    }
    expect(await eventually(() => generations(direct.get(down)!, 'attribution_touches_local').catch(() => ''), 20_000, (r) => r === kept)).toBe(kept);
    // And the whole cluster still reads as the single server.
    expect(await report(onCluster, q)).toEqual(await report(oneServer, q));
  });
});
