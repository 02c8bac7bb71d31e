// `npm run demo` run as a user runs it, for the tests that play it: its own ports,
// database, Redis prefix and directories (engine data, data/demo), spawned in a
// process group of its own so that stopping it stops the collector and the demo
// site it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../collector/src/paths.js';
import { freePort } from './collector.js';
import { dropRedisPrefix } from './redis.js';

export type RunningDemo = {
  collectorPort: number;
  demoPort: number;
  database: string;
  /** A directory of the run's own (removed by stop). */
  dir: string;
  /** The demo's data/demo (DEMO_DATA). */
  demoData: string;
  /** Everything the demo printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM to the whole group, then its Redis keys and directories removed. */
  stop(): Promise<void>;
};

/**
 * Starts `npm run demo` and returns once it printed `ready`. `name` names the run
 * (database `tl_<name>_<pid>`); `env` is added to the demo's (PATH and HOME are
 * the test's unless given).
 */
export async function startDemo(name: string, ready: string, env: (run: { dir: string }) => Record<string, string> = () => ({})): Promise<RunningDemo> {
  const dir = mkdtempSync(join(tmpdir(), `tl-${name}-`));
  const demoData = join(dir, 'demo');
  const database = `tl_${name}_${process.pid}`;
  const prefix = `${database}:`;
  const collectorPort = await freePort();
  const demoPort = await freePort();
  let out = '';
  const demo: ChildProcess = spawn('npm', ['run', 'demo'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      COLLECTOR_PORT: String(collectorPort),
      DEMO_PORT: String(demoPort),
      DEMO_DATA: demoData,
      CLICKHOUSE_DATABASE: database,
      CLICKHOUSE_DATA: join(dir, 'clickhouse'),
      REDIS_PREFIX: prefix,
      BATCH_MAX_MS: '100',
      ...env({ dir }),
    },
  });
  demo.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  demo.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const stop = async () => {
    if (demo.pid && demo.exitCode === null) {
      const exited = new Promise((r) => demo.once('exit', r));
      process.kill(-demo.pid, 'SIGTERM');
      await exited;
    }
    await dropRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  };
  const until = Date.now() + 110_000;
  while (!out.includes(ready)) {
    if (demo.exitCode !== null || Date.now() > until) {
      await stop();
      throw new Error(`npm run demo ${demo.exitCode !== null ? `exited with ${demo.exitCode}` : 'did not come up'}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { collectorPort, demoPort, database, dir, demoData, output: () => out, stop };
}
