// The embedded engine: ClickHouse 26.x inside the collector's own process, from the
// npm package chdb (its library ships inside the package), behind the same
// @clickhouse/client the server uses. This is the only file that knows chdb; its
// hook into the client (a `connection` of its own in createClient) is young, so
// the versions of both packages are pinned in package.json and
// tests/integration/clickhouse-engine.test.ts fails loudly if an upgrade breaks
// what the collector relies on.
//
// What differs from a server, and how it is met here (docs/clickhouse-26.md):
//   - the client's `database` option is not passed on: every connection runs
//     `USE <database>` before its first statement (it stays on the session);
//   - one data directory per process, and one process per directory (a lock):
//     analysts reach a running collector's data through its SQL endpoint
//     (sql/route.ts) and its reports; `npm run report` and `npm run move` open
//     the directory themselves, so they run while the collector is stopped;
//   - a connection runs one statement at a time, so each connect() is a session
//     of its own (the inserter's do not wait behind a report's);
//   - the library is loaded on the first embedded connection only: a collector
//     on a server never pays its memory (about 190 MB).
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ClickHouseClientConfigOptions } from '@clickhouse/client';
import { quotedIdent } from './sql.js';

/** What createClient({ connection }) takes (the client's Connection<Readable>). */
type Connection = NonNullable<ClickHouseClientConfigOptions['connection']>;
type ChdbConnectionModule = { createChdbConnection(opts: { path: string }): Connection };

let chdb: ChdbConnectionModule | undefined;
function loadChdb(): ChdbConnectionModule {
  // chdb/connection is CommonJS with a native library: required on demand.
  chdb ??= createRequire(import.meta.url)('chdb/connection') as ChdbConnectionModule;
  return chdb;
}

/** The live process that holds an embedded data directory open, from the engine's status file, or null. */
function holder(path: string): number | null {
  try {
    const m = /^PID:\s*(\d+)/m.exec(readFileSync(join(path, 'status'), 'utf8'));
    if (!m) return null;
    const pid = Number(m[1]);
    try {
      process.kill(pid, 0);
    } catch (err) {
      // EPERM: alive, but another user's.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
    }
    return pid;
  } catch {
    return null;
  }
}

/** The value of CLICKHOUSE_URL that selects the embedded engine. */
export const EMBEDDED = 'embedded';

/**
 * A connection to the embedded engine on the data directory `path`, whose
 * statements run in `database` (when given).
 */
export function embeddedConnection(path: string, database: string | null): Connection {
  mkdirSync(path, { recursive: true });
  let inner: Connection;
  try {
    inner = loadChdb().createChdbConnection({ path });
  } catch (err) {
    // chdb says only "Failed to create connection"; the usual cause is the lock, whose holder the engine's status file names.
    const pid = holder(path);
    throw new Error(
      pid !== null
        ? `the embedded data in ${path} is open in process ${pid} (a running collector?): stop the collector, or read its data through its SQL endpoint or reports. One process at a time may open the embedded data.`
        : `cannot open the embedded ClickHouse in ${path}: another process holds it, or it is not writable`,
      { cause: err },
    );
  }
  if (!database) return inner;
  let used: Promise<unknown> | undefined;
  // `USE` once, before the first statement; a failure (no such database yet) is
  // the statement's failure, and the next statement tries again.
  const ready = (): Promise<unknown> => {
    used ??= inner.command({ query: `USE ${quotedIdent(database)}` } as Parameters<Connection['command']>[0]).catch((err: unknown) => {
      used = undefined;
      throw err;
    });
    return used;
  };
  return {
    ping: (p) => inner.ping(p),
    query: async (p) => (await ready(), inner.query(p)),
    exec: async (p) => (await ready(), inner.exec(p)),
    command: async (p) => (await ready(), inner.command(p)),
    insert: async (p) => (await ready(), inner.insert(p)),
    close: () => inner.close(),
  };
}
