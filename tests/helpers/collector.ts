// Runs the built collector (dist/) as a real child process, as production does.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ROOT } from '../../collector/src/paths.js';
import { attachCollector, embeddedDirectory } from './clickhouse.js';
import { CLICKHOUSE_URL, EMBEDDED_ENGINE, REDIS_URL, TEST_SQL_TOKEN } from './env.js';

export const COLLECTOR_MAIN = join(ROOT, 'dist', 'collector', 'src', 'main.js');

/**
 * Ports the tests give servers they start: below Linux's ephemeral range
 * (32768–60999), so no client socket of any process (two vitest processes run
 * side by side, each making thousands of connections) can take one between the
 * check here and the server's own listen, as a port the kernel handed out could be.
 */
const PORTS = { from: 20_000, to: 32_767 };

/** A port free now, from PORTS, chosen at random (two processes asking at once do not get the same one). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from + 1));
    if (await canListen(port)) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export type RunningCollector = {
  url: string;
  /** The variables it was started with (startCollector's argument). */
  env: Record<string, string>;
  proc: ChildProcess;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

/**
 * The engine variables of a collector on the suite's engine. On the embedded
 * one: the test database's data directory (a new one for a database the test
 * process does not know), which the test process lets go of, and the SQL
 * endpoint's token, by which the tests read while the collector runs. A test
 * that names CLICKHOUSE_URL itself gets what it names.
 */
async function engineEnv(env: Record<string, string>): Promise<Record<string, string>> {
  if (!EMBEDDED_ENGINE || env.CLICKHOUSE_URL) return { CLICKHOUSE_URL };
  const data = (await embeddedDirectory(env.CLICKHOUSE_DATABASE)) ?? mkdtempSync(join(tmpdir(), 'tl-chdb-'));
  return { CLICKHOUSE_URL, CLICKHOUSE_DATA: data, SQL_TOKEN: TEST_SQL_TOKEN };
}

export async function startCollector(env: Record<string, string>): Promise<RunningCollector> {
  const port = await freePort();
  const engine = await engineEnv(env);
  const proc = spawn(process.execPath, [COLLECTOR_MAIN], {
    env: {
      PATH: process.env.PATH,
      ...engine,
      REDIS_URL,
      THROUGHLINE_PORT: String(port),
      LOG_LEVEL: 'info',
      // Test clients (Node's fetch, headless Chromium) are automated by nature;
      // tests of the bot filter turn it back on.
      BOT_FILTER: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const database = engine.CLICKHOUSE_DATA ? env.CLICKHOUSE_DATABASE : undefined;
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      if (database) attachCollector(database, undefined, '');
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start in 30 s:\n${out}`)), 30_000);
    const onData = () => {
      if (out.includes('collector listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code} before listening:\n${out}`));
    });
  });
  if (database) attachCollector(database, `http://127.0.0.1:${port}`, env.SQL_TOKEN ?? TEST_SQL_TOKEN);
  return {
    url: `http://127.0.0.1:${port}`,
    env,
    proc,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}

/** The variables of a command-line tool (npm run report) on the test database `database`, on the suite's engine. */
export async function cliEnv(database: string): Promise<Record<string, string>> {
  const engine = await engineEnv({ CLICKHOUSE_DATABASE: database });
  delete engine.SQL_TOKEN;
  return { PATH: process.env.PATH ?? '', ...engine, CLICKHOUSE_DATABASE: database };
}

/**
 * Runs `fn` (a command-line tool on the collector's database) while the
 * collector lets it: on the embedded engine the running collector holds the data
 * directory and a second process cannot open it (README, "ClickHouse: embedded
 * or a server"), so the collector is stopped for `fn` and started again on the
 * same variables. Returns what `fn` returned and the collector now running.
 */
export async function besideCollector<T>(collector: RunningCollector, fn: () => T | Promise<T>): Promise<{ result: T; collector: RunningCollector }> {
  if (!EMBEDDED_ENGINE) return { result: await fn(), collector };
  await collector.stop();
  const result = await fn(); // a tool run by spawnSync: it does not throw
  return { result, collector: await startCollector(collector.env) };
}
