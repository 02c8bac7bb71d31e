// The usual frame of a test file against the built collector: a fresh database
// and a collector on it, started before the file's tests and stopped (and the
// database dropped) after them.
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
