// scripts/services.sh stop, run against a temporary state directory and stand-in
// processes (never the shared services): it stops only what its own start began.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../../collector/src/paths.js';
import { freePort } from '../../helpers/collector.js';

const SCRIPT = join(ROOT, 'scripts', 'services.sh');

/** A long-running process standing in for a ClickHouse server. */
function standIn(): ChildProcess {
  return spawn('sleep', ['600'], { stdio: 'ignore' });
}

const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null && spawnSync('kill', ['-0', String(p.pid)]).status === 0;

async function stop(env: Record<string, string>): Promise<string> {
  // Nothing answers on these ports: the script's "is it up" checks find nothing of the shared services.
  const dead = await freePort();
  const r = spawnSync('bash', [SCRIPT, 'stop'], {
    env: { PATH: process.env.PATH, CH_URL: `http://127.0.0.1:${dead}`, REDIS_PORT: String(dead), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status).toBe(0);
  return r.stdout + r.stderr;
}

describe('services script (attack)', () => {
  const cleanup: Array<() => void> = [];
  afterEach(() => {
    for (const f of cleanup.splice(0)) f();
  });

  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-services-'));
    const server = standIn();
    const pidFile = join(dir, 'clickhouse-server.pid');
    writeFileSync(pidFile, String(server.pid));
    cleanup.push(() => {
      server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });
    return { dir, server, pidFile, state: join(dir, 'state') };
  };

  it('16c. services:stop leaves alone a ClickHouse it did not start, whatever its pid file says', async () => {
    const { server, pidFile, state } = setup();
    await stop({ CH_PID: pidFile, STATE_DIR: state });
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(server)).toBe(true);
  });

  it('16c. services:stop stops the ClickHouse its own start began, and only while the pid is still that one', async () => {
    const { server, pidFile, state } = setup();
    spawnSync('mkdir', ['-p', state]);
    // What start leaves behind when it started ClickHouse itself: the pid it started.
    writeFileSync(join(state, 'clickhouse.ours'), String(server.pid));
    // Another process took the pid file's place (a restart by someone else): not ours to stop.
    const other = standIn();
    cleanup.push(() => other.kill('SIGKILL'));
    writeFileSync(pidFile, String(other.pid));
    await stop({ CH_PID: pidFile, STATE_DIR: state });
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(other)).toBe(true);

    // The stale mark is gone with that stop; start leaves it again when it starts ClickHouse itself.
    writeFileSync(join(state, 'clickhouse.ours'), String(server.pid));
    writeFileSync(pidFile, String(server.pid));
    const exited = new Promise((r) => server.once('exit', r));
    const out = await stop({ CH_PID: pidFile, STATE_DIR: state });
    expect(out).toMatch(/stopping ClickHouse/);
    await exited;
    expect(alive(server)).toBe(false);
  });
});
