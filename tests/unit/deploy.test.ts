// The deployment files (deploy/docker, deploy/systemd) checked against the code
// they deploy. No Docker engine runs here, so the Dockerfile is read, not built:
// every file it copies exists, it copies all the build reads, it runs what the
// build makes, on the port and health route the collector has. The compose file
// is checked by docker-compose itself (`config`), the unit by systemd-analyze
// verify; the variables each sets are variables of the collector, and valid.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envSchema, loadConfig } from '../../collector/src/config.js';
import { MIGRATIONS_DIR, ROOT } from '../../collector/src/paths.js';

const DOCKER = join(ROOT, 'deploy', 'docker');
const DOCKERFILE = join(DOCKER, 'Dockerfile');
const COMPOSE = join(DOCKER, 'compose.yaml');
const UNIT = join(ROOT, 'deploy', 'systemd', 'throughline-collector.service');
const UNIT_ENV = join(ROOT, 'deploy', 'systemd', 'collector.env');

const variables = new Set(Object.keys(envSchema.shape));
/** Set for Node itself, not the collector. */
const NODE_VARIABLES = new Set(['NODE_ENV']);
const unknownVariables = (names: string[]) => names.filter((n) => !variables.has(n) && !NODE_VARIABLES.has(n));
const portDefault = String(loadConfig({}).port);

type Instruction = { op: string; args: string };
type Stage = { from: string; name: string | undefined; steps: Instruction[] };

/** The Dockerfile's instructions by stage (continuation lines joined, comments dropped). */
function dockerStages(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read ${JSON.stringify(line)}`);
    const [, op, args] = m as unknown as [string, string, string];
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ from: f[1]!, name: f[2], steps: [] });
    } else if (op !== 'ARG' || stages.length) {
      stages.at(-1)?.steps.push({ op, args });
    }
  }
  return stages;
}

/** `ENV A=1 B=2` as pairs. */
const envPairs = (args: string) => [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const);

/** The sources of a COPY (JSON form or plain), and its --from. */
function copySources(args: string): { from: string | undefined; sources: string[] } {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const rest = words.filter((w) => !w.startsWith('--'));
  return { from, sources: rest.slice(0, -1) };
}

const run = (cmd: string, args: string[], env: Record<string, string>) =>
  spawnSync(cmd, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });

describe('deploy/docker/Dockerfile', () => {
  const stages = dockerStages(readFileSync(DOCKERFILE, 'utf8'));
  const build = stages[0]!;
  const final = stages.at(-1)!;
  const steps = (s: Stage, op: string) => s.steps.filter((i) => i.op === op).map((i) => i.args);

  it('builds in one stage and runs in another, on Debian (the embedded engine ships glibc builds)', () => {
    expect(stages.length).toBe(2);
    expect(build.name).toBe('build');
    for (const s of stages) expect(s.from).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim$/);
    expect(steps(build, 'RUN')).toContain('npm ci --no-audit --no-fund');
    expect(steps(build, 'RUN')).toContain('npm run build');
    expect(steps(final, 'RUN').some((r) => r.startsWith('npm ci --omit=dev'))).toBe(true);
    expect(steps(final, 'RUN').some((r) => /npm run build|npm ci --no-audit/.test(r))).toBe(false);
  });

  it('copies only files that exist in the repository', () => {
    const missing = stages.flatMap((s) =>
      steps(s, 'COPY')
        .map(copySources)
        .filter((c) => c.from === undefined)
        .flatMap((c) => c.sources)
        .filter((src) => !existsSync(join(ROOT, src))),
    );
    expect(missing).toEqual([]);
  });

  it('copies into the build stage everything the build reads', () => {
    const copied = new Set(steps(build, 'COPY').flatMap((a) => copySources(a).sources));
    const tsBuild = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { extends: string; include: string[] };
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.build.json',
      tsBuild.extends.replace(/^\.\//, ''),
      'rollup.config.mjs',
      ...tsBuild.include.map((p) => p.split('/')[0]!),
      // rollup's inputs and the tracker's own tsconfig
      ...[...readFileSync(join(ROOT, 'rollup.config.mjs'), 'utf8').matchAll(/bundle\('\w+', '([^']+)'/g)].map((m) => m[1]!.split('/')[0]!),
    ];
    expect([...new Set(needed)].filter((n) => !copied.has(n))).toEqual([]);
    expect(readFileSync(join(ROOT, 'package.json'), 'utf8')).toContain('"build": "tsc -p tsconfig.build.json && rollup -c');
  });

  it('runs what the build produces, with the migrations it applies at start', () => {
    expect(steps(final, 'CMD')).toEqual(['["node", "dist/collector/src/main.js"]']);
    // tsconfig.build.json: rootDir "." and outDir "dist", so collector/src/main.ts becomes this file.
    const tsBuild = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(tsBuild.compilerOptions).toMatchObject({ rootDir: '.', outDir: 'dist' });
    expect(existsSync(join(ROOT, 'collector', 'src', 'main.ts'))).toBe(true);
    // The same command as npm start.
    expect((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start).toBe('node dist/collector/src/main.js');
    const copies = steps(final, 'COPY').map(copySources);
    expect(copies).toContainEqual({ from: 'build', sources: ['/app/dist'] });
    expect(copies).toContainEqual({ from: undefined, sources: [MIGRATIONS_DIR.slice(ROOT.length + 1)] });
    expect(steps(final, 'WORKDIR')).toEqual(['/app']);
  });

  it('runs as a user of its own, not root', () => {
    const users = steps(final, 'USER');
    expect(users).toEqual(['throughline']);
    const order = final.steps.map((i) => i.op);
    expect(order.indexOf('USER')).toBeLessThan(order.indexOf('CMD'));
    expect(steps(final, 'RUN').some((r) => r.includes('useradd --system --gid throughline'))).toBe(true);
  });

  it('listens on every address, on the port it exposes (the collector’s default), and checks /livez there', () => {
    const env = new Map(steps(final, 'ENV').flatMap(envPairs));
    expect(env.get('THROUGHLINE_HOST')).toBe('0.0.0.0');
    expect(env.get('THROUGHLINE_PORT')).toBe(portDefault);
    expect(steps(final, 'EXPOSE')).toEqual([portDefault]);
    const [health] = steps(final, 'HEALTHCHECK');
    expect(health).toContain('/livez');
    expect(health).toContain('process.env.THROUGHLINE_PORT || 8080');
    expect(readFileSync(join(ROOT, 'collector', 'src', 'app.ts'), 'utf8')).toContain("app.get('/livez'");
  });

  it('keeps the spool and the embedded data on the volume; sets only variables the collector reads', () => {
    const env = new Map(steps(final, 'ENV').flatMap(envPairs));
    expect(unknownVariables([...env.keys()])).toEqual([]);
    const [volume] = steps(final, 'VOLUME').map((v) => JSON.parse(v) as string[]);
    expect(volume).toEqual(['/var/lib/throughline']);
    for (const dir of ['SPOOL_DIR', 'CLICKHOUSE_DATA']) expect(env.get(dir)).toMatch(/^\/var\/lib\/throughline\//);
    expect(() => loadConfig(Object.fromEntries(env))).not.toThrow();
  });
});

describe('deploy/docker/compose.yaml', () => {
  /** docker-compose with only the variables given (and no .env file), from the repository. */
  function compose(args: string[], env: Record<string, string>) {
    const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
    if (which.status !== 0) {
      expect.fail('docker-compose is not installed: apt-get install -y docker-compose (Debian; no Docker engine is needed for `config`)');
    }
    // An empty .env of its own: a developer's deploy/docker/.env must not change what is checked.
    const dir = mkdtempSync(join(tmpdir(), 'tl-compose-'));
    try {
      writeFileSync(join(dir, '.env'), '');
      return run('docker-compose', ['--env-file', join(dir, '.env'), '-f', COMPOSE, ...args], env);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('is valid for docker-compose (config -q)', () => {
    const r = compose(['config', '-q'], { CLICKHOUSE_PASSWORD: 'compose-test-secret' });
    if (r.status !== 0) expect.fail(`docker-compose config -q failed (${r.status}):\n${r.stderr}${r.stdout}`);
  });

  it('refuses to start without a ClickHouse password, saying where to set it', () => {
    const r = compose(['config', '-q'], {});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('set CLICKHOUSE_PASSWORD');
  });

  it('starts the collector on healthy ClickHouse and Redis, pointed at them, its spool on a volume', () => {
    const r = compose(['config'], { CLICKHOUSE_PASSWORD: 'compose-test-secret', REPORTS_TOKEN: 'a-reports-token-of-16+' });
    expect(r.status, r.stderr).toBe(0);
    // docker-compose depends on python3-yaml: its reader turns the normalised file into JSON.
    const json = spawnSync('python3', ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: r.stdout, encoding: 'utf8' });
    expect(json.status, json.stderr).toBe(0);
    type Service = {
      image?: string;
      environment?: Record<string, string>;
      depends_on?: Record<string, { condition: string }>;
      healthcheck?: { test: string[] };
      volumes?: (string | { target: string; source: string })[];
      build?: { context: string; dockerfile: string };
      ports?: { target: number }[];
      stop_grace_period?: string;
    };
    const config = JSON.parse(json.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    const { clickhouse, redis, collector } = config.services as { clickhouse: Service; redis: Service; collector: Service };
    expect(clickhouse.image).toMatch(/^clickhouse\/clickhouse-server:2\d\./);
    expect(clickhouse.healthcheck?.test.join(' ')).toContain('/ping');
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(collector.depends_on).toEqual({ clickhouse: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    const env = collector.environment!;
    expect(env).toMatchObject({
      CLICKHOUSE_URL: 'http://clickhouse:8123',
      REDIS_URL: 'redis://redis:6379',
      CLICKHOUSE_USER: clickhouse.environment!.CLICKHOUSE_USER,
      CLICKHOUSE_PASSWORD: 'compose-test-secret',
      REPORTS_TOKEN: 'a-reports-token-of-16+',
    });
    expect(clickhouse.environment!.CLICKHOUSE_PASSWORD).toBe('compose-test-secret');
    expect(unknownVariables(Object.keys(env))).toEqual([]);
    // What the collector would be started with: the image's variables, then the file's.
    const image = new Map(dockerStages(readFileSync(DOCKERFILE, 'utf8')).at(-1)!.steps.filter((i) => i.op === 'ENV').flatMap((i) => envPairs(i.args)));
    expect(() => loadConfig({ ...Object.fromEntries(image), ...env })).not.toThrow();
    expect(collector.build).toEqual({ context: ROOT, dockerfile: 'deploy/docker/Dockerfile' });
    // docker-compose 1.x prints a mount as `source:target:mode`, Compose 2 as an object.
    const mounts = (collector.volumes ?? []).map((v) => (typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : v));
    expect(mounts.map((v) => v.target)).toEqual(['/var/lib/throughline']);
    expect(Object.keys(config.volumes)).toContain(mounts[0]!.source);
    expect(collector.ports?.map((p) => String(p.target))).toEqual([portDefault]);
    expect(collector.stop_grace_period).toBe('60s');
  });
});

describe('deploy/systemd/throughline-collector.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  /** Every `Key=value` of the unit, in order (a key may repeat). */
  const entries = text
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
  const all = (key: string) => entries.filter(([k]) => k === key).map(([, v]) => v);
  const one = (key: string) => {
    const v = all(key);
    expect(v, key).toHaveLength(1);
    return v[0]!;
  };

  it('passes systemd-analyze verify without a warning', () => {
    const which = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
    if (which.status !== 0) expect.fail('systemd-analyze is not installed: apt-get install -y systemd');
    const dir = mkdtempSync(join(tmpdir(), 'tl-unit-'));
    try {
      const copy = join(dir, 'throughline-collector.service');
      // verify checks that ExecStart's program exists: where Node is elsewhere here, that path.
      const node = one('ExecStart').split(' ')[0]!;
      if (existsSync(node)) copyFileSync(UNIT, copy);
      else writeFileSync(copy, text.replace(`ExecStart=${node} `, `ExecStart=${process.execPath} `));
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
      expect({ status: r.status, output: (r.stdout + r.stderr).trim() }).toEqual({ status: 0, output: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the built collector as a user of its own, configured by /etc/throughline/collector.env', () => {
    expect(one('EnvironmentFile')).toBe('/etc/throughline/collector.env');
    expect(one('User')).toBe('throughline');
    expect(one('User')).not.toBe('root');
    const dir = one('WorkingDirectory');
    expect(one('ExecStart')).toBe(`/usr/bin/node ${dir}/dist/collector/src/main.js`);
    expect(one('Restart')).toBe('on-failure');
    // A configuration error (exit 78, main.ts) is not restarted in a loop.
    expect(one('RestartPreventExitStatus')).toBe('78');
    expect(readFileSync(join(ROOT, 'collector', 'src', 'main.ts'), 'utf8')).toContain('process.exit(78)');
  });

  it('is hardened, and may write only where the collector writes', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['PrivateTmp', 'yes'],
      ['ProtectHome', 'yes'],
      ['PrivateDevices', 'yes'],
      ['CapabilityBoundingSet', ''],
    ] as const) {
      expect(one(key), key).toBe(value);
    }
    const writable = one('ReadWritePaths').split(/\s+/);
    const env = new Map(all('Environment').map((e) => e.split('=') as [string, string]));
    expect(unknownVariables([...env.keys()])).toEqual([]);
    for (const dir of ['SPOOL_DIR', 'CLICKHOUSE_DATA']) {
      const path = env.get(dir);
      expect(path, dir).toBeDefined();
      expect(writable.some((w) => path!.startsWith(`${w}/`)), `${dir}=${path} under ReadWritePaths`).toBe(true);
    }
    expect(`/var/lib/${one('StateDirectory')}`).toBe(writable[0]);
  });

  it('gives the graceful stop the time it may take', () => {
    // main.ts on SIGTERM: the outbound senders finish (10 s per request), the buffer's close waits
    // up to 10 s (journal-buffer.ts) for an insert bounded by INSERT_TIMEOUT_MS.
    const insertMs = loadConfig({}).pipeline.insertTimeoutMs;
    expect(readFileSync(join(ROOT, 'collector', 'src', 'buffer', 'journal-buffer.ts'), 'utf8')).toContain('async close(deadlineMs = 10_000)');
    const seconds = Number(/^(\d+)s$/.exec(one('TimeoutStopSec'))?.[1]);
    expect(seconds).toBeGreaterThanOrEqual(10 + 10 + insertMs / 1000);
    expect(one('KillSignal')).toBe('SIGTERM');
  });

  it('comes with an example environment file the collector accepts', () => {
    const env = Object.fromEntries(
      readFileSync(UNIT_ENV, 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z]/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(unknownVariables(Object.keys(env))).toEqual([]);
    expect(() => loadConfig(env)).not.toThrow();
  });
});
