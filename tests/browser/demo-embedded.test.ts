// `npm run demo` on a machine without a ClickHouse server: the collector runs the
// embedded engine, a visit from Chromium is stored, and it is queryable through
// the collector's SQL endpoint. The server is left unused: the demo runs with
// every ClickHouse server program on its PATH replaced by one that records being
// called and fails, and the server on this machine never sees the demo's database.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';
import { launchChromium } from '../helpers/browser.js';
import { chConfig, eventually } from '../helpers/clickhouse.js';
import { freePort } from '../helpers/collector.js';
import { dropRedisPrefix } from '../helpers/redis.js';

const TOKEN = 'demo-test-sql-token-0123456789';
// A visitor's Chrome (the demo keeps the bot filter on, as production does).
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('npm run demo without a ClickHouse server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tl-demo-'));
  const shims = join(dir, 'bin');
  const calls = join(dir, 'server-calls.log');
  const database = `tl_demo_${process.pid}`;
  const prefix = `${database}:`;
  let demo: ChildProcess;
  let out = '';
  let collectorPort: number;
  let demoPort: number;
  let browser: Browser;

  beforeAll(async () => {
    // "Not installed": each server program, if anything ran it, says so in calls and fails.
    mkdirSync(shims);
    for (const name of ['clickhouse', 'clickhouse-server', 'clickhouse-client']) {
      const shim = join(shims, name);
      writeFileSync(shim, `#!/bin/sh\necho "${name} $*" >> ${JSON.stringify(calls)}\nexit 127\n`);
      chmodSync(shim, 0o755);
    }
    collectorPort = await freePort();
    demoPort = await freePort();
    demo = spawn('npm', ['run', 'demo'], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${shims}:${process.env.PATH}`,
        HOME: process.env.HOME,
        COLLECTOR_PORT: String(collectorPort),
        DEMO_PORT: String(demoPort),
        CLICKHOUSE_DATABASE: database,
        CLICKHOUSE_DATA: join(dir, 'clickhouse'),
        REDIS_PREFIX: prefix,
        SQL_TOKEN: TOKEN,
        BATCH_MAX_MS: '100',
      },
    });
    demo.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    demo.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const until = Date.now() + 110_000;
    while (!out.includes('Throughline demo is up')) {
      if (demo.exitCode !== null) throw new Error(`npm run demo exited with ${demo.exitCode}:\n${out}`);
      if (Date.now() > until) throw new Error(`npm run demo did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (demo?.pid && demo.exitCode === null) {
      const exited = new Promise((r) => demo.once('exit', r));
      process.kill(-demo.pid, 'SIGTERM');
      await exited;
    }
    await dropRedisPrefix(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  const sql = async (query: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${collectorPort}/sql?database=${database}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`demo:${TOKEN}`).toString('base64')}` },
      body: query,
    });

  it('stores a visit from Chromium in the embedded engine, queryable through the SQL endpoint', async () => {
    expect(out).toContain('ClickHouse: embedded');
    const context = await browser.newContext({ userAgent: USER_AGENT });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${demoPort}/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand`);
    type Row = { kind: string; utm_source: string; utm_campaign: string; url: string };
    const rows = await eventually(async () => {
      const r = await sql(`SELECT kind, utm_source, utm_campaign, url FROM hits WHERE kind = 'visit' FORMAT JSONEachRow`);
      expect(r.status, await r.clone().text()).toBe(200);
      return (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
    }, 15_000);
    expect(rows).toEqual([{ kind: 'visit', utm_source: 'yandex', utm_campaign: 'brand', url: `http://127.0.0.1:${demoPort}/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand` }]);
    const version = await (await sql('SELECT version()')).text();
    expect(version).toMatch(/^26\./);
    await context.close();
  });

  it('leaves the ClickHouse server unused: no server program ran, and the server has no such database', async () => {
    expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
    const r = await fetch(`${chConfig.url}/?query=${encodeURIComponent(`SELECT count() FROM system.databases WHERE name = '${database}'`)}`);
    expect((await r.text()).trim()).toBe('0');
    expect(existsSync(join(dir, 'clickhouse'))).toBe(true);
  });
});
