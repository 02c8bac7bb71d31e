// Private ClickHouse and Redis servers for tests that stop, kill or restart a
// service: each runs on its own ports with its own data under a temp folder, so
// the shared servers (and everyone else's tests) are never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './collector.js';

/** Where the system ClickHouse config a private server copies lives. */
export const CH_CONFIG_DIR = process.env.CLICKHOUSE_CONFIG_DIR || '/etc/clickhouse-server';

/** Waits until `check` holds (a throw counts as not yet), looking every `everyMs`; throws naming `what` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what} did not come up in ${timeoutMs} ms`);
}

export type PrivateClickHouse = {
  url: string;
  start(): Promise<void>;
  /** SIGTERM (a clean shutdown, which waits for open connections: 15 s and more under load) or SIGKILL, and wait for the exit. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
};

/**
 * A clickhouse-server with a copy of the system config, rewritten to its own
 * path, tmp_path, logs and ports, run as the clickhouse user.
 */
export async function privateClickHouse(): Promise<PrivateClickHouse> {
  const user = clickhouseUser();
  const dir = mkdtempSync(join(tmpdir(), 'tl-ch-'));
  const [http, tcp, inter] = [await freePort(), await freePort(), await freePort()];
  let xml = readFileSync(join(CH_CONFIG_DIR, 'config.xml'), 'utf8');
  const set = (tag: string, value: string | number) => {
    xml = xml.replace(new RegExp(`<${tag}>[^<]*</${tag}>`, 'g'), `<${tag}>${value}</${tag}>`);
  };
  set('log', join(dir, 'log', 'server.log'));
  set('errorlog', join(dir, 'log', 'server.err.log'));
  set('http_port', http);
  set('tcp_port', tcp);
  set('interserver_http_port', inter);
  set('path', `${join(dir, 'data')}/`);
  set('tmp_path', `${join(dir, 'tmp')}/`);
  set('user_files_path', `${join(dir, 'user_files')}/`);
  set('format_schema_path', `${join(dir, 'format_schemas')}/`);
  xml = xml
    .replace(/<https_port>[^<]*<\/https_port>/g, '')
    .replace(/<tcp_port_secure>[^<]*<\/tcp_port_secure>/g, '')
    .replace(/<listen_host>::1<\/listen_host>/g, '');
  // The distributed DDL queue path is a ZooKeeper path, not a directory: restore it.
  xml = xml.replace(/(<distributed_ddl>[\s\S]*?<path>)[^<]*(<\/path>)/, '$1/clickhouse/task_queue/ddl$2');
  mkdirSync(join(dir, 'log'));
  writeFileSync(join(dir, 'config.xml'), xml);
  copyFileSync(join(CH_CONFIG_DIR, 'users.xml'), join(dir, 'users.xml'));
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  spawnSync('chmod', ['755', dir]);
  const url = `http://127.0.0.1:${http}`;
  let proc: ChildProcess | null = null;
  const ping = () => fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok);
  const self: PrivateClickHouse = {
    url,
    async start() {
      // Run as the clickhouse user (the server refuses a data dir owned by another).
      proc = spawn('clickhouse-server', [`--config-file=${join(dir, 'config.xml')}`], { stdio: 'ignore', cwd: dir, uid: user.uid, gid: user.gid });
      const p = proc;
      await waitFor(async () => p.exitCode === null && (await ping()), `private ClickHouse on ${url}`);
    },
    async stop(signal = 'SIGTERM') {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill(signal);
      await exited;
      proc = null;
    },
    async destroy() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

/** The clickhouse system user the Debian package creates. */
export function clickhouseUser(): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', 'clickhouse'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'clickhouse'], { encoding: 'utf8' }).stdout.trim());
  if (!uid || !gid) throw new Error('no clickhouse user (install clickhouse-server)');
  return { uid, gid };
}

export type PrivateRedis = {
  url: string;
  start(): Promise<void>;
  /** SIGTERM and wait for the exit (Redis writes out its append-only file first, when it keeps one). */
  stop(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
};

/**
 * A redis-server on a free port. `persistent`: with an append-only file in a
 * folder of its own, so what it held survives a restart; else it keeps nothing.
 */
export async function privateRedis(opts: { persistent?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tl-redis-'));
  let proc: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const persistence = opts.persistent ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'];
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
    proc = null;
  };
  return {
    url,
    async start() {
      proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...persistence], { stdio: 'ignore' });
      const p = proc;
      await waitFor(async () => {
        const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
        return r.stdout.trim() === 'PONG' && p.exitCode === null;
      }, `private Redis on ${port}`, 20_000);
    },
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
