// Versioned, idempotent schema migrations. Each file in collector/migrations is
// `NNNN_name.sql`; `{db}` in it stands for the configured database. Applied
// versions are recorded in {db}.schema_migrations, so a file runs once; each
// statement is also written to be harmless when repeated (IF NOT EXISTS), so a
// migration cut off half-way can simply run again.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from './client.js';
import { MIGRATIONS_DIR } from '../paths.js';
import { ident, toDateTimeString } from './sql.js';
import { CLUSTER_SETTINGS, clusterStatements } from './cluster.js';

export type Migration = { version: number; name: string; statements: string[] };

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    out.push({ version: Number(file.slice(0, 4)), name: file.replace(/\.sql$/, ''), statements: splitStatements(text) });
  }
  const seen = new Set<number>();
  for (const m of out) {
    if (seen.has(m.version)) throw new Error(`two migrations share version ${m.version}`);
    seen.add(m.version);
  }
  return out;
}

/** Splits a file on `;` at the end of a line; `--` comment lines are dropped. */
export function splitStatements(text: string): string[] {
  const body = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return body
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Creates the database if needed and applies every migration not yet recorded.
 * `admin` must be a client not bound to the database (it may not exist yet).
 * `cluster` (CLICKHOUSE_CLUSTER): every statement, the ledger's own included,
 * runs in its cluster form (cluster.ts), ON CLUSTER, so every server of the
 * cluster must be up while a migration runs.
 * Returns the versions applied by this call.
 */
export async function migrate(admin: ClickHouseClient, database: string, migrations?: Migration[], opts: { cluster?: string } = {}): Promise<number[]> {
  const db = ident(database);
  const list = migrations ?? (await loadMigrations());
  const cluster = opts.cluster ?? '';
  // A write through a Distributed table is queued on the server and sent later unless it is synchronous:
  // the ledger (and a migration's INSERT … SELECT) must be complete when migrate returns.
  const settings = cluster ? { clickhouse_settings: CLUSTER_SETTINGS } : {};
  const run = async (statement: string) => {
    for (const s of cluster ? clusterStatements(statement, cluster) : [statement]) {
      await admin.command({ query: s.replaceAll('{db}', db), ...settings });
    }
  };
  await run('CREATE DATABASE IF NOT EXISTS {db}');
  await run(`CREATE TABLE IF NOT EXISTS {db}.schema_migrations (version UInt32, name String, applied_at DateTime('UTC'))
            ENGINE = MergeTree() ORDER BY version`);
  const rs = await admin.query({ query: `SELECT DISTINCT version FROM ${db}.schema_migrations`, format: 'JSONEachRow' });
  const done = new Set((await rs.json<{ version: number }>()).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of list) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements) await run(statement);
    await admin.insert({
      table: `${db}.schema_migrations`,
      values: [{ version: m.version, name: m.name, applied_at: toDateTimeString(Date.now()) }],
      format: 'JSONEachRow',
      ...settings,
    });
    applied.push(m.version);
  }
  return applied;
}
