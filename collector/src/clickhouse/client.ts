// Creating ClickHouse clients that speak the portable subset understood by both
// 18.16 (what Debian ships) and current servers (what users run), for either
// engine: a server at CLICKHOUSE_URL, or the embedded one (CLICKHOUSE_URL=embedded,
// its data in CLICKHOUSE_DATA: embedded.ts). Nothing else in the collector knows
// which engine it talks to.
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import type { Config } from '../config.js';
import { EMBEDDED, embeddedConnection } from './embedded.js';
import { CLUSTER_SETTINGS, rememberCluster } from './cluster.js';

export { EMBEDDED };

export type { ClickHouseClient, ClickHouseSettings };

/** Settings every query would like; only the ones the server knows are sent. */
const WANTED_SETTINGS: Record<string, string | number> = {
  // An error after rows started streaming must arrive as an error, not a truncated body.
  wait_end_of_query: 1,
  output_format_json_quote_64bit_integers: 1,
  // A row with a field the table does not have is bad data, set aside (spill/rejected.ts), not a row
  // of defaults: 18.16 refuses it by default, current ClickHouse skips the field unless told.
  input_format_skip_unknown_fields: 0,
};

/** Where a client goes: the config's clickhouse part; `data` is needed by the embedded engine only. */
export type ClickHouseTarget = Omit<Config['clickhouse'], 'data'> & { data?: string };

export function connect(
  cfg: ClickHouseTarget,
  database: string | null = cfg.database,
  settings: Record<string, string | number> = {},
  /** How long a server may stay silent before the request fails (default 30 s). */
  requestTimeoutMs = 30_000,
): ClickHouseClient {
  const common = {
    clickhouse_settings: cfg.cluster ? { ...CLUSTER_SETTINGS, ...settings } : settings,
    // Every failure reaches the caller as an error, and the collector logs it (pino,
    // one JSON line); the client's own logger would print it again as many lines
    // of plain text on stderr, once per refused insert while bad rows are isolated.
    log: { level: ClickHouseLogLevel.OFF },
  };
  if (cfg.url === EMBEDDED) {
    if (!cfg.data) throw new Error('the embedded ClickHouse needs its data directory (CLICKHOUSE_DATA)');
    return createClient({ ...common, connection: embeddedConnection(cfg.data, database) });
  }
  const client = createClient({
    ...common,
    url: cfg.url,
    username: cfg.user,
    password: cfg.password,
    ...(database ? { database } : {}),
    request_timeout: requestTimeoutMs,
    // The server's keep_alive_timeout is 3 s on 18.16; stay under it.
    keep_alive: { enabled: true, idle_socket_ttl: 2500 },
  });
  // Statements that differ on a cluster (cluster.ts: deleteWhere) read the cluster from the client.
  if (cfg.cluster) rememberCluster(client, cfg.cluster, database);
  return client;
}

/**
 * Reads system.settings and returns the subset of WANTED_SETTINGS the server knows:
 * an unknown setting fails the whole request on 18.16.
 */
export function portableSettings(client: ClickHouseClient): Promise<Record<string, string | number>> {
  return knownSettings(client, WANTED_SETTINGS);
}

/** The subset of `wanted` the server knows (system.settings). */
export async function knownSettings(client: ClickHouseClient, wanted: Record<string, string | number>): Promise<Record<string, string | number>> {
  const names = Object.keys(wanted);
  const rs = await client.query({
    query: `SELECT name FROM system.settings WHERE name IN (${names.map((n) => `'${n}'`).join(',')})`,
    format: 'JSONEachRow',
  });
  const known = new Set((await rs.json<{ name: string }>()).map((r) => r.name));
  return Object.fromEntries(Object.entries(wanted).filter(([k]) => known.has(k)));
}

export async function serverVersion(client: ClickHouseClient): Promise<string> {
  const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
  const [row] = await rs.json<{ v: string }>();
  return row?.v ?? 'unknown';
}

/**
 * The rows of a query as objects. Read as JSONCompact (one JSON document of arrays),
 * which parses several times faster than JSONEachRow for wide reads of many rows.
 */
export async function queryRows<T>(client: ClickHouseClient, query: string, settings: ClickHouseSettings = {}): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONCompact', clickhouse_settings: settings });
  const { meta, data } = await rs.json<unknown[]>();
  const names = (meta ?? []).map((m) => m.name);
  return (data as unknown[][]).map((row) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) o[names[i]!] = row[i];
    return o as T;
  });
}
