// The cluster flavour of the schema (CLICKHOUSE_CLUSTER). The migration files stay
// the one source of truth, written for a single server; in cluster mode each of
// their statements is turned mechanically into its cluster form:
//   CREATE TABLE {db}.t (…) ENGINE = XMergeTree(args) …
//     -> {db}.t_local ON CLUSTER c, ENGINE = ReplicatedXMergeTree('/clickhouse/tables/{shard}/<db>/t_local', '{replica}', args) …
//        (the data: one copy per replica of each shard, kept in step by ZooKeeper)
//     -> {db}.t ON CLUSTER c, the same columns, ENGINE = Distributed(c, <db>, t_local, <sharding key>)
//        (under the table's own name, so every query and insert of the collector works unchanged)
//   CREATE VIEW {db}.v …                  -> {db}.v ON CLUSTER c … (views read the Distributed tables)
//   CREATE MATERIALIZED VIEW {db}.m TO {db}.t … FROM {db}.s …
//                                         -> ON CLUSTER, from s_local to t_local: each server's
//                                            inserts feed its own shard, as on a single server
//   DROP TABLE {db}.t                     -> both tables, ON CLUSTER
//   INSERT … SELECT                       -> unchanged (through the Distributed tables, once)
// `{shard}` and `{replica}` are the servers' macros; `{db}` is the migration placeholder.
//
// Sharding keys put what is read together on one shard: every hit of a visitor
// (and so every visit of a person's device) by visitor_id, every version of a deal
// by (source, deal_id), every row of a key that ReplacingMergeTree folds by that
// key, so repeated rows meet on the one shard where they can fold.
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import { ident } from './sql.js';

/**
 * Sharding key of each table. A table missing here is refused: a new migration
 * must say how its rows are spread (the unit test runs every migration file).
 */
export const SHARDING_KEYS: Record<string, string> = {
  schema_migrations: 'version',
  hits: 'cityHash64(visitor_id)',
  hit_ids: 'cityHash64(visitor_id)',
  deals: 'cityHash64(source, deal_id)',
  funnel_stages: 'cityHash64(stage)',
  identity_links: 'cityHash64(kind_a, id_a, kind_b, id_b)',
  crm_config: 'cityHash64(id)',
  crm_oauth_tokens: 'cityHash64(source)',
  attribution_conversions: 'cityHash64(conv_key)',
  attribution_runs: 'run',
  attribution_touches: 'cityHash64(conv_key)',
  attribution_members: 'cityHash64(visitor_id)',
  attribution_ids: 'cityHash64(id)',
  costs: 'cityHash64(day, source, medium, campaign)',
  identity_key: 'cityHash64(key)',
  exchange_rates: 'cityHash64(base, currency, day)',
  outbound_messages: 'cityHash64(sender, subject)',
};

/**
 * Settings of every client in cluster mode, so that a read sees the writes before it
 * (the identity resolution reads the members it has just written, the outbox a
 * message's state):
 *   insert_distributed_sync  an insert into a Distributed table returns once every shard
 *       has its rows, not once they are queued on the server asked;
 *   load_balancing in_order  writes and reads go to the same replica of each shard, the
 *       first one up in remote_servers (by default each picks one at random, and the
 *       other replica may not have copied the rows yet);
 *   max_replica_delay_for_distributed_queries 1  a replica more than a second behind
 *       (one back from a stop, still fetching what it missed) is passed over for reads.
 */
export const CLUSTER_SETTINGS: ClickHouseSettings = { insert_distributed_sync: 1, load_balancing: 'in_order', max_replica_delay_for_distributed_queries: '1' };

/** The replicated table that holds a Distributed table's rows on each server. */
export const localName = (table: string) => `${table}_local`;

/** The ZooKeeper path of a replicated table: one per shard, `{db}` filled in by the migrator. */
export const zookeeperPath = (table: string) => `/clickhouse/tables/{shard}/{db}/${localName(table)}`;

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS \{db\}\.(\w+) \(([\s\S]*)\)\s*ENGINE = (\w*MergeTree)\(([^)]*)\)([\s\S]*)$/;
const CREATE_VIEW = /^CREATE VIEW IF NOT EXISTS \{db\}\.(\w+) AS\b/;
const CREATE_MV = /^CREATE MATERIALIZED VIEW IF NOT EXISTS \{db\}\.(\w+) TO \{db\}\.(\w+) AS\b([\s\S]*)$/;
const DROP_TABLE = /^DROP TABLE IF EXISTS \{db\}\.(\w+)$/;
const INSERT_SELECT = /^INSERT INTO \{db\}\.\w+\s/;
const CREATE_DATABASE = /^CREATE DATABASE IF NOT EXISTS \{db\}$/;

/**
 * The cluster form of one migration statement (still with `{db}`): one or more
 * statements, run in order. Throws on a statement of a shape it does not know,
 * rather than run it on one server only.
 */
export function clusterStatements(statement: string, cluster: string): string[] {
  const c = ident(cluster);
  const s = statement.trim();
  const table = CREATE_TABLE.exec(s);
  if (table) {
    const [, name, columns, engine, args, rest] = table as unknown as [string, string, string, string, string, string];
    const key = SHARDING_KEYS[name];
    if (!key) throw new Error(`cluster mode: no sharding key for table ${name} (collector/src/clickhouse/cluster.ts)`);
    if (engine.startsWith('Replicated')) throw new Error(`cluster mode: ${name} is already replicated`);
    const replicatedArgs = [`'${zookeeperPath(name)}'`, `'{replica}'`, ...(args.trim() ? [args.trim()] : [])].join(', ');
    return [
      `CREATE TABLE IF NOT EXISTS {db}.${localName(name)} ON CLUSTER ${c} (${columns}) ENGINE = Replicated${engine}(${replicatedArgs})${rest}`,
      `CREATE TABLE IF NOT EXISTS {db}.${name} ON CLUSTER ${c} (${columns}) ENGINE = Distributed(${c}, {db}, ${localName(name)}, ${key})`,
    ];
  }
  const mv = CREATE_MV.exec(s);
  if (mv) {
    const [, name, target, select] = mv as unknown as [string, string, string, string];
    if (!SHARDING_KEYS[target]) throw new Error(`cluster mode: materialized view ${name} writes to ${target}, which has no sharding key`);
    // Each server's view reads the rows inserted into its own replicated tables.
    const local = select.replace(/\{db\}\.(\w+)/g, (all, t: string) => (SHARDING_KEYS[t] ? `{db}.${localName(t)}` : all));
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.${name} ON CLUSTER ${c} TO {db}.${localName(target)} AS${local}`];
  }
  const view = CREATE_VIEW.exec(s);
  if (view) return [s.replace(CREATE_VIEW, `CREATE VIEW IF NOT EXISTS {db}.${view[1]} ON CLUSTER ${c} AS`)];
  const drop = DROP_TABLE.exec(s);
  if (drop) {
    const name = drop[1]!;
    const out = [`DROP TABLE IF EXISTS {db}.${name} ON CLUSTER ${c}`];
    if (SHARDING_KEYS[name]) out.push(`DROP TABLE IF EXISTS {db}.${localName(name)} ON CLUSTER ${c}`);
    return out;
  }
  if (CREATE_DATABASE.test(s)) return [`CREATE DATABASE IF NOT EXISTS {db} ON CLUSTER ${c}`];
  // Reads and writes the Distributed tables from one server: nothing to spread.
  if (INSERT_SELECT.test(s)) return [s];
  throw new Error(`cluster mode: no cluster form for the statement: ${s.slice(0, 80)}`);
}

/** The cluster and database of each client connect() made in cluster mode. */
const ofClient = new WeakMap<object, { cluster: string; database: string | null }>();

/** Called by connect(): this client's server is a server of `cluster`. */
export function rememberCluster(client: object, cluster: string, database: string | null): void {
  ofClient.set(client, { cluster, database });
}

/** The cluster of a client made by connect() in cluster mode; undefined on one server. */
export function clusterOf(client: object): { cluster: string; database: string | null } | undefined {
  return ofClient.get(client);
}

/**
 * Settings of housekeeping ON CLUSTER (a mutation, a partition drop): the statement
 * is queued in the cluster's DDL queue and not waited for (0: do not wait, on 18.16
 * as on current versions). Each server runs it when it reads the queue, a server
 * that is down when it is back; waiting would hold the caller for
 * distributed_ddl_task_timeout (180 s) whenever one server is down.
 */
export const CLUSTER_HOUSEKEEPING: ClickHouseSettings = { distributed_ddl_task_timeout: '0' };

/**
 * ALTER TABLE … DELETE WHERE (a mutation) on `table` of the client's database.
 * On one server, exactly that. On a cluster a Distributed table takes no
 * mutation: it goes to the replicated table of every shard, ON CLUSTER, not
 * waited for (CLUSTER_HOUSEKEEPING). Callers must not depend on its having run
 * (the funnel's readers take the newest version).
 */
export async function deleteWhere(client: ClickHouseClient, table: string, where: string): Promise<void> {
  const c = clusterOf(client);
  if (!c) {
    await client.command({ query: `ALTER TABLE ${ident(table)} DELETE WHERE ${where}` });
    return;
  }
  if (!c.database) throw new Error('a cluster mutation needs a client bound to its database');
  await client.command({
    query: `ALTER TABLE ${ident(c.database)}.${localName(ident(table))} ON CLUSTER ${ident(c.cluster)} DELETE WHERE ${where}`,
    clickhouse_settings: CLUSTER_HOUSEKEEPING,
  });
}
