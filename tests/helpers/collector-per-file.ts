// The usual frame of a test file against the built collector: a fresh database
// and a collector on it, started before the file's tests and stopped (and the
// database dropped) after them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { freshDatabase, type TestDatabase } from './clickhouse.js';
import { startCollector, type RunningCollector } from './collector.js';

export type CollectorOfFile = { readonly db: TestDatabase; readonly c: RunningCollector };

/**
 * Registers the hooks; the returned object holds the database and the collector
 * once beforeAll has run. `env` gets the database's name; REDIS_PREFIX defaults
 * to one of its own.
 */
export function collectorPerFile(env: (db: TestDatabase) => Record<string, string> | Promise<Record<string, string>> = () => ({})): CollectorOfFile {
  let db: TestDatabase | undefined;
  let c: RunningCollector | undefined;
  beforeAll(async () => {
    db = await freshDatabase();
    c = await startCollector({ CLICKHOUSE_DATABASE: db.name, REDIS_PREFIX: `t_${db.name}:`, ...(await env(db)) });
  });
  afterAll(async () => {
    await c?.stop();
    await db?.drop();
  });
  return {
    get db() {
      return db!;
    },
    get c() {
      return c!;
    },
  };
}

/**
 * collectorPerFile with a CRM configuration (`crm.json` in a directory of its
 * own, given as CRM_CONFIG), the directory removed after the file's tests.
 */
export function crmCollectorPerFile(config: unknown, env: (db: TestDatabase) => Record<string, string> = () => ({})): CollectorOfFile {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return collectorPerFile(async (db) => {
    dir = await mkdtemp(join(tmpdir(), 'tl-crm-'));
    await writeFile(join(dir, 'crm.json'), JSON.stringify(config));
    return { CRM_CONFIG: join(dir, 'crm.json'), ...env(db) };
  });
}
