// Runs the built collector (dist/) as a real child process, as production does.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../../collector/src/paths.js';
import { CLICKHOUSE_URL, REDIS_URL } from './env.js';

export const COLLECTOR_MAIN = join(ROOT, 'dist', 'collector', 'src', 'main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export type RunningCollector = {
  url: string;
  proc: ChildProcess;
  /** Everything the process printed so far (JSON log lines). */
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
};

export async function startCollector(env: Record<string, string>): Promise<RunningCollector> {
  const port = await freePort();
  const proc = spawn(process.execPath, [COLLECTOR_MAIN], {
    env: {
      PATH: process.env.PATH,
      CLICKHOUSE_URL,
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
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
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
  return {
    url: `http://127.0.0.1:${port}`,
    proc,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}
