// The cluster flavour of the schema (clickhouse/cluster.ts): every migration file
// turned mechanically into ON CLUSTER DDL over replicated tables and Distributed
// ones, the single-server DDL left byte for byte as it was, and the one query of
// the identity resolution that needs GLOBAL IN on a cluster. That the DDL runs is
// tested on a real cluster (tests/integration/cluster.test.ts).
import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { CLUSTER_HOUSEKEEPING, CLUSTER_SETTINGS, clusterOf, clusterStatements, deleteWhere, rememberCluster, SHARDING_KEYS } from '../../collector/src/clickhouse/cluster.js';
import { connect } from '../../collector/src/clickhouse/client.js';
import { loadMigrations, migrate, type Migration } from '../../collector/src/clickhouse/migrate.js';
import { inputQueries } from '../../collector/src/attribution/resolve.js';
import { ConfigError, loadConfig } from '../../collector/src/config.js';

/** A client that records what migrate() sends and answers the ledger read with `done`. */
function recordingClient(done: number[] = []) {
  const sent: { kind: 'command' | 'insert'; text: string; settings: unknown }[] = [];
  const client = {
    command: async (p: { query: string; clickhouse_settings?: unknown }) => {
      sent.push({ kind: 'command', text: p.query, settings: p.clickhouse_settings });
      return {};
    },
    query: async () => ({ json: async () => done.map((version) => ({ version })) }),
    insert: async (p: { table: string; clickhouse_settings?: unknown }) => {
      sent.push({ kind: 'insert', text: p.table, settings: p.clickhouse_settings });
      return {};
    },
  };
  return { client: client as unknown as ClickHouseClient, sent };
}

/** The columns of a CREATE TABLE statement's column list, by name. */
function columnsOf(statement: string): string[] {
  const list = statement.slice(statement.indexOf('(') + 1, statement.lastIndexOf(') ENGINE'));
  return [...list.matchAll(/^\s*(\w+) /gm)].map((m) => m[1]!);
}

describe('cluster form of the migrations', () => {
  it('turns every statement of every migration file into cluster DDL', async () => {
    const migrations = await loadMigrations();
    expect(migrations.length).toBeGreaterThan(10);
    let tables = 0;
    for (const m of migrations) {
      for (const statement of m.statements) {
        const out = clusterStatements(statement, 'throughline');
        for (const s of out) {
          // Every DDL statement goes to the whole cluster; only a migration's INSERT … SELECT runs once.
          if (!s.startsWith('INSERT')) expect(s, `${m.name}: ${s.slice(0, 60)}`).toMatch(/^\S+ (?:\S+ ){0,4}IF (NOT )?EXISTS \{db\}\.\w+ ON CLUSTER throughline\b/);
        }
        const create = /^CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) /.exec(statement);
        if (!create) continue;
        tables++;
        const name = create[1]!;
        expect(out).toHaveLength(2);
        const [local, dist] = out as [string, string];
        // The data: a replicated engine of the same family, one ZooKeeper path per shard, the replica from the macros.
        const engine = /ENGINE = (\w+)\(/.exec(statement)![1]!;
        expect(local).toContain(`CREATE TABLE IF NOT EXISTS {db}.${name}_local ON CLUSTER throughline (`);
        expect(local).toContain(`ENGINE = Replicated${engine}('/clickhouse/tables/{shard}/{db}/${name}_local', '{replica}'`);
        // Partitioning and order unchanged, and the same columns in the same order on both tables.
        expect(local.slice(local.indexOf(') ENGINE'))).toContain(statement.slice(statement.indexOf('PARTITION BY')));
        expect(columnsOf(local)).toEqual(columnsOf(statement));
        expect(columnsOf(dist)).toEqual(columnsOf(statement));
        // The Distributed table keeps the name every query uses; its sharding key uses the table's own columns.
        const key = SHARDING_KEYS[name]!;
        expect(dist).toMatch(new RegExp(`^CREATE TABLE IF NOT EXISTS \\{db\\}\\.${name} ON CLUSTER throughline \\(`));
        expect(dist.endsWith(`ENGINE = Distributed(throughline, {db}, ${name}_local, ${key})`)).toBe(true);
        for (const col of key.replace(/cityHash64\(|\)/g, '').split(', ')) expect(columnsOf(statement), `${name}: ${col}`).toContain(col);
      }
    }
    expect(tables).toBeGreaterThan(15);
  });

  it('keeps a replacing engine’s version column after the replication arguments', () => {
    const [local] = clusterStatements(
      `CREATE TABLE IF NOT EXISTS {db}.crm_config (id String, body String, saved_at DateTime('UTC'), version UInt64) ENGINE = ReplacingMergeTree(version)\nPARTITION BY tuple()\nORDER BY id`,
      'c1',
    );
    expect(local).toBe(
      `CREATE TABLE IF NOT EXISTS {db}.crm_config_local ON CLUSTER c1 (id String, body String, saved_at DateTime('UTC'), version UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{db}/crm_config_local', '{replica}', version)\nPARTITION BY tuple()\nORDER BY id`,
    );
  });

  it('feeds a materialized view from the local tables, so each server’s inserts land in its own shard', async () => {
    const m = (await loadMigrations()).find((x) => x.name === '0022_hit_ids')!;
    const mv = m.statements.find((s) => s.startsWith('CREATE MATERIALIZED VIEW'))!;
    const [out] = clusterStatements(mv, 'throughline');
    expect(out).toMatch(/^CREATE MATERIALIZED VIEW IF NOT EXISTS \{db\}\.hit_ids_mv ON CLUSTER throughline TO \{db\}\.hit_ids_local AS\s+SELECT visitor_id, ga_cid, ym_uid FROM \{db\}\.hits_local\b/);
    expect(out).not.toMatch(/\{db\}\.hits\b/);
    // hits and hit_ids are spread by the same key, so a visitor's ids stay on the shard of its hits.
    expect(SHARDING_KEYS.hit_ids).toBe(SHARDING_KEYS.hits);
    // The back-fill reads and writes the Distributed tables, once.
    const backfill = m.statements.find((s) => s.startsWith('INSERT'))!;
    expect(clusterStatements(backfill, 'throughline')).toEqual([backfill]);
  });

  it('drops both tables of a dropped one, the Distributed first', () => {
    expect(clusterStatements('DROP TABLE IF EXISTS {db}.attribution_touches', 'c1')).toEqual([
      'DROP TABLE IF EXISTS {db}.attribution_touches ON CLUSTER c1',
      'DROP TABLE IF EXISTS {db}.attribution_touches_local ON CLUSTER c1',
    ]);
  });

  it('refuses a table without a sharding key, a statement it cannot place and a hostile cluster name', () => {
    expect(() => clusterStatements('CREATE TABLE IF NOT EXISTS {db}.new_thing (a String) ENGINE = MergeTree() ORDER BY a', 'c1')).toThrow(/no sharding key for table new_thing/);
    expect(() => clusterStatements('ALTER TABLE {db}.hits ADD COLUMN x String', 'c1')).toThrow(/no cluster form/);
    expect(() => clusterStatements('CREATE TABLE IF NOT EXISTS {db}.hits (a String) ENGINE = ReplicatedMergeTree(\'/x\', \'y\') ORDER BY a', 'c1')).toThrow(/already replicated/);
    for (const bad of ['c1; DROP DATABASE x', 'a b', '', 'c\u0000', '\ud800']) {
      expect(() => clusterStatements('CREATE DATABASE IF NOT EXISTS {db}', bad)).toThrow(/not a plain identifier/);
    }
  });
});

describe('migrate', () => {
  const migrations: Migration[] = [
    { version: 1, name: '0001_a', statements: ["CREATE TABLE IF NOT EXISTS {db}.hits (visitor_id String, ts DateTime('UTC')) ENGINE = MergeTree() ORDER BY ts", 'CREATE VIEW IF NOT EXISTS {db}.v AS SELECT 1'] },
    { version: 2, name: '0002_b', statements: ['DROP TABLE IF EXISTS {db}.hits'] },
  ];

  it('sends one server exactly the statements it always has', async () => {
    const { client, sent } = recordingClient([1]);
    expect(await migrate(client, 'tl', migrations)).toEqual([2]);
    expect(sent).toEqual([
      { kind: 'command', text: 'CREATE DATABASE IF NOT EXISTS tl', settings: undefined },
      {
        kind: 'command',
        text: `CREATE TABLE IF NOT EXISTS tl.schema_migrations (version UInt32, name String, applied_at DateTime('UTC'))
            ENGINE = MergeTree() ORDER BY version`,
        settings: undefined,
      },
      { kind: 'command', text: 'DROP TABLE IF EXISTS tl.hits', settings: undefined },
      { kind: 'insert', text: 'tl.schema_migrations', settings: undefined },
    ]);
  });

  it('on a cluster, creates the database and a replicated ledger ON CLUSTER and writes the ledger synchronously', async () => {
    const { client, sent } = recordingClient();
    expect(await migrate(client, 'tl', migrations, { cluster: 'throughline' })).toEqual([1, 2]);
    const texts = sent.map((s) => s.text);
    expect(texts[0]).toBe('CREATE DATABASE IF NOT EXISTS tl ON CLUSTER throughline');
    expect(texts[1]).toContain(`CREATE TABLE IF NOT EXISTS tl.schema_migrations_local ON CLUSTER throughline (version UInt32, name String, applied_at DateTime('UTC'))`);
    expect(texts[1]).toContain(`ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/tl/schema_migrations_local', '{replica}') ORDER BY version`);
    expect(texts[2]).toBe(`CREATE TABLE IF NOT EXISTS tl.schema_migrations ON CLUSTER throughline (version UInt32, name String, applied_at DateTime('UTC')) ENGINE = Distributed(throughline, tl, schema_migrations_local, version)`);
    expect(texts).toContain('CREATE VIEW IF NOT EXISTS tl.v ON CLUSTER throughline AS SELECT 1');
    expect(texts.slice(-3)).toEqual(['DROP TABLE IF EXISTS tl.hits ON CLUSTER throughline', 'DROP TABLE IF EXISTS tl.hits_local ON CLUSTER throughline', 'tl.schema_migrations']);
    // No `{db}` left behind; the shard and replica macros stay for the servers to fill in.
    expect(texts.join('\n')).not.toContain('{db}');
    for (const s of sent) expect(s.settings).toBe(CLUSTER_SETTINGS);
    expect(CLUSTER_SETTINGS).toMatchObject({ insert_distributed_sync: 1, load_balancing: 'in_order' });
  });
});

describe('identity resolution SQL', () => {
  it('uses GLOBAL IN over the Distributed tables on a cluster only', () => {
    const one = inputQueries('tl');
    const cluster = inputQueries('tl', 'throughline');
    for (const q of Object.values(one)) expect(q).not.toContain('GLOBAL');
    expect(cluster.hitIds.match(/GLOBAL IN/g)).toHaveLength(2);
    // Nothing else changes.
    expect(cluster.hitIds.replaceAll('GLOBAL IN', 'IN')).toBe(one.hitIds);
    expect({ ...cluster, hitIds: '' }).toEqual({ ...one, hitIds: '' });
  });
});

describe('CLICKHOUSE_CLUSTER', () => {
  it('is off by default and takes a plain name with a server', () => {
    expect(loadConfig({}).clickhouse.cluster).toBeUndefined();
    expect(loadConfig({ CLICKHOUSE_CLUSTER: '' }).clickhouse.cluster).toBeUndefined();
    expect(loadConfig({ CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_CLUSTER: 'throughline' }).clickhouse.cluster).toBe('throughline');
  });
  it('refuses a name that is not a plain identifier, and the embedded engine', () => {
    for (const bad of ['a b', 'x;DROP', 'ä', '1abc', 'c\u0000']) {
      expect(() => loadConfig({ CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_CLUSTER: bad })).toThrow(/CLICKHOUSE_CLUSTER/);
    }
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'throughline' })).toThrow(ConfigError);
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'throughline' })).toThrow(/embedded/);
  });
});

describe('mutations', () => {
  it('stay as they were on one server and go to the replicated tables ON CLUSTER, unwaited, on a cluster', async () => {
    const one = recordingClient();
    await deleteWhere(one.client, 'funnel_stages', 'version < 5');
    expect(one.sent).toEqual([{ kind: 'command', text: 'ALTER TABLE funnel_stages DELETE WHERE version < 5', settings: undefined }]);
    const many = recordingClient();
    rememberCluster(many.client, 'throughline', 'tl');
    await deleteWhere(many.client, 'funnel_stages', 'version < 5');
    expect(many.sent).toEqual([{ kind: 'command', text: 'ALTER TABLE tl.funnel_stages_local ON CLUSTER throughline DELETE WHERE version < 5', settings: CLUSTER_HOUSEKEEPING }]);
    expect(CLUSTER_HOUSEKEEPING).toEqual({ distributed_ddl_task_timeout: '0' });
    await expect(deleteWhere(many.client, 'funnel_stages; DROP TABLE x', '1')).rejects.toThrow(/not a plain identifier/);
  });

  it('know the cluster of a client connect() made for one', async () => {
    const target = { url: 'http://127.0.0.1:1', user: 'default', password: '', database: 'tl' };
    const plain = connect(target);
    const clustered = connect({ ...target, cluster: 'throughline' });
    expect(clusterOf(plain)).toBeUndefined();
    expect(clusterOf(clustered)).toEqual({ cluster: 'throughline', database: 'tl' });
    await Promise.all([plain.close(), clustered.close()]);
  });
});
