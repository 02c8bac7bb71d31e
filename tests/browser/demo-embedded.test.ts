// `npm run demo` on a machine without a ClickHouse server: the collector runs the
// embedded engine, a visit from Chromium is stored, and it is queryable through
// the collector's SQL endpoint. The server is left unused: the demo runs with
// every ClickHouse server program on its PATH replaced by one that records being
// called and fails, and the server on this machine never sees the demo's database.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { chConfig, eventually } from '../helpers/clickhouse.js';
import { startDemo, type RunningDemo } from '../helpers/demo.js';

const TOKEN = 'demo-test-sql-token-0123456789';
// A visitor's Chrome (the demo keeps the bot filter on, as production does).
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('npm run demo without a ClickHouse server', () => {
  let demo: RunningDemo;
  let browser: Browser;
  /** Where the server programs' shims write that they ran. */
  let calls = '';

  beforeAll(async () => {
    demo = await startDemo('demo', 'Throughline demo is up', ({ dir }) => {
      // "Not installed": each server program, if anything ran it, says so in calls and fails.
      const shims = join(dir, 'bin');
      calls = join(dir, 'server-calls.log');
      mkdirSync(shims);
      for (const name of ['clickhouse', 'clickhouse-server', 'clickhouse-client']) {
        const shim = join(shims, name);
        writeFileSync(shim, `#!/bin/sh\necho "${name} $*" >> ${JSON.stringify(calls)}\nexit 127\n`);
        chmodSync(shim, 0o755);
      }
      // No sample data: the test looks for the one visit it makes.
      return { PATH: `${shims}:${process.env.PATH}`, SQL_TOKEN: TOKEN, DEMO_SAMPLE: 'off' };
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  const sql = async (query: string): Promise<Response> =>
    fetch(`http://127.0.0.1:${demo.collectorPort}/sql?database=${demo.database}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`demo:${TOKEN}`).toString('base64')}` },
      body: query,
    });

  it('stores a visit from Chromium in the embedded engine, queryable through the SQL endpoint', async () => {
    expect(demo.output()).toContain('ClickHouse: embedded');
    const context = await browser.newContext({ userAgent: USER_AGENT });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${demo.demoPort}/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand`);
    type Row = { kind: string; utm_source: string; utm_campaign: string; url: string };
    const rows = await eventually(async () => {
      const r = await sql(`SELECT kind, utm_source, utm_campaign, url FROM hits WHERE kind = 'visit' FORMAT JSONEachRow`);
      expect(r.status, await r.clone().text()).toBe(200);
      return (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
    }, 15_000);
    expect(rows).toEqual([{ kind: 'visit', utm_source: 'yandex', utm_campaign: 'brand', url: `http://127.0.0.1:${demo.demoPort}/?utm_source=yandex&utm_medium=cpc&utm_campaign=brand` }]);
    const version = await (await sql('SELECT version()')).text();
    expect(version).toMatch(/^26\./);
    await context.close();
  });

  it('leaves the ClickHouse server unused: no server program ran, and the server has no such database', async () => {
    expect(existsSync(calls) ? readFileSync(calls, 'utf8') : '').toBe('');
    const r = await fetch(`${chConfig.url}/?query=${encodeURIComponent(`SELECT count() FROM system.databases WHERE name = '${demo.database}'`)}`);
    expect((await r.text()).trim()).toBe('0');
    expect(existsSync(join(demo.dir, 'clickhouse'))).toBe(true);
  });
});
