// A throw-away ClickHouse database per test file, migrated like production.
import { randomBytes } from 'node:crypto';
import { connect, type ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { migrate } from '../../collector/src/clickhouse/migrate.js';
import { CLICKHOUSE_URL } from './env.js';

export const chConfig = { url: CLICKHOUSE_URL, user: 'default', password: '', database: 'default' };

export type TestDatabase = {
  name: string;
  client: ClickHouseClient;
  /** Rows of a query, as objects. */
  rows<T = Record<string, unknown>>(query: string): Promise<T[]>;
  drop(): Promise<void>;
};

export async function freshDatabase(prefix = 'tl_test'): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = connect(chConfig, null);
  await migrate(admin, name);
  await admin.close();
  const client = connect({ ...chConfig, database: name });
  return {
    name,
    client,
    async rows<T>(query: string) {
      const rs = await client.query({ query, format: 'JSONEachRow' });
      return rs.json<T>();
    },
    async drop() {
      await client.command({ query: `DROP DATABASE IF EXISTS ${name}` });
      await client.close();
    },
  };
}

/** Truthy, and for arrays non-empty. */
export const nonEmpty = (x: unknown): boolean => (Array.isArray(x) ? x.length > 0 : Boolean(x));

/** Polls until `done(value)` holds or the time is up; returns the last value. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000, done: (x: T) => boolean = nonEmpty): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await fn();
  while (!done(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    last = await fn();
  }
  return last;
}
