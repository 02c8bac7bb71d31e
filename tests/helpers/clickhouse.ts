// A throw-away ClickHouse database per test file, migrated like production, on
// either engine the suite runs on (env.ts):
//   - the server: a database of its own, read and written through a client;
//   - the embedded engine: a data directory of its own (one process at a time
//     may open it). The test process opens it itself while no collector runs on
//     it; while one does (startCollector attaches it), the test reads through that
//     collector's SQL endpoint, read-only, as an analyst would.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { connect, EMBEDDED, type ClickHouseClient, type ClickHouseTarget } from '../../collector/src/clickhouse/client.js';
import { migrate } from '../../collector/src/clickhouse/migrate.js';
import { CLICKHOUSE_URL, EMBEDDED_ENGINE } from './env.js';

/** The server the tests use, when they use one (the embedded engine has no address). */
export const chConfig = { url: CLICKHOUSE_URL, user: 'default', password: '', database: 'default' };

// 18.16 quotes 64-bit integers in JSON by default, 26.x does not: tests read them
// as 18.16 gives them, on both engines.
const READ_SETTINGS = { output_format_json_quote_64bit_integers: 1 as const };

export type TestDatabase = {
  name: string;
  /** Where a client of this database goes (connect(db.target, …)); on the embedded engine, its data directory. */
  target: ClickHouseTarget;
  /**
   * A client of the database. On the embedded engine, while a collector runs on
   * it, the collector's SQL endpoint (read-only); otherwise the test's own.
   */
  readonly client: ClickHouseClient;
  /** Rows of a query, as objects. */
  rows<T = Record<string, unknown>>(query: string): Promise<T[]>;
  drop(): Promise<void>;
};

/** An embedded database's state in this process. */
type Embedded = {
  db: TestDatabase;
  /** The test process's own client, while it has the directory open. */
  own?: ClickHouseClient;
  /** The collector running on the directory, and a client of its SQL endpoint. */
  collector?: { url: string; client: ClickHouseClient };
};

const embedded = new Map<string, Embedded>();

// The test process's own use of embedded directories, one at a time: opening one
// closes another's client, which must not be in the middle of a query.
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

/** Closes this process's own clients of every embedded database but `keep` (one data directory per process at a time). */
async function closeOwn(keep?: Embedded): Promise<void> {
  for (const e of embedded.values()) {
    if (!e.own || (keep && e.db.target.data === keep.db.target.data)) continue;
    const own = e.own;
    e.own = undefined;
    await own.close();
  }
}

/**
 * `beside`: on the embedded engine, in that database's data directory (so that
 * this process can use both at once); on a server it changes nothing.
 */
export async function freshDatabase(prefix = 'tl_test', opts: { beside?: TestDatabase } = {}): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  return EMBEDDED_ENGINE ? freshEmbedded(name, opts.beside?.target.data) : freshOnServer(name);
}

async function freshOnServer(name: string): Promise<TestDatabase> {
  const admin = connect(chConfig, null);
  await migrate(admin, name);
  await admin.close();
  const client = connect({ ...chConfig, database: name });
  return {
    name,
    target: { ...chConfig, database: name },
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

async function freshEmbedded(name: string, beside: string | undefined): Promise<TestDatabase> {
  const data = beside ?? (await mkdtemp(join(tmpdir(), 'tl-chdb-')));
  const sameDirectory = (e: Embedded) => e.db.target.data === data;
  const target: ClickHouseTarget = { url: EMBEDDED, user: 'default', password: '', database: name, data };
  const state = {} as Embedded;
  const own = async (): Promise<ClickHouseClient> => {
    if (!state.own) {
      await closeOwn(state);
      state.own = connect(target, name, READ_SETTINGS);
    }
    return state.own;
  };
  state.db = {
    name,
    target,
    get client() {
      if (state.collector) return state.collector.client;
      if (!state.own) {
        // Synchronous access: open it now (after closing any other directory this process holds).
        for (const e of embedded.values()) if (!sameDirectory(e) && e.own) throw new Error(`${name}: another embedded database (${e.db.name}) is open in this process; read it through rows()`);
        state.own = connect(target, name, READ_SETTINGS);
      }
      return state.own;
    },
    async rows<T>(query: string) {
      const read = async (client: ClickHouseClient) => (await client.query({ query, format: 'JSONEachRow' })).json<T>();
      if (state.collector) return read(state.collector.client);
      return exclusive(async () => read(await own()));
    },
    async drop() {
      embedded.delete(name);
      await state.collector?.client.close();
      await state.own?.close();
      state.own = undefined;
      // The directory goes with the last database in it.
      if (![...embedded.values()].some(sameDirectory)) await rm(data, { recursive: true, force: true });
    },
  };
  embedded.set(name, state);
  await exclusive(async () => {
    await closeOwn(state);
    const admin = connect(target, null);
    await migrate(admin, name).finally(() => admin.close());
  });
  return state.db;
}

/**
 * For startCollector on the embedded engine: the data directory of the test
 * database `name` (the test process lets go of it first), or undefined when
 * `name` is not one of this process's.
 */
export async function embeddedDirectory(name: string | undefined): Promise<string | undefined> {
  const state = name === undefined ? undefined : embedded.get(name);
  if (!state) return undefined;
  await exclusive(async () => {
    const own = state.own;
    state.own = undefined;
    await own?.close();
  });
  return state.db.target.data;
}

/** A collector now runs on the embedded database `name` (reads go through its SQL endpoint), or none (`url` undefined). */
export function attachCollector(name: string, url: string | undefined, token: string): void {
  const state = embedded.get(name);
  if (!state) return;
  const before = state.collector;
  state.collector = url ? { url, client: createClient({ url, pathname: '/sql', password: token, database: name, clickhouse_settings: READ_SETTINGS }) } : undefined;
  void before?.client.close();
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
