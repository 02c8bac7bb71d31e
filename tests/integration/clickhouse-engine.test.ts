// The embedded engine's hook (collector/src/clickhouse/embedded.ts): chdb's
// `connection` inside @clickhouse/client. Both packages are pinned; this file
// fails loudly if an upgrade of either breaks what the collector relies on. It
// runs in every project: it needs no server.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, EMBEDDED, knownSettings, serverVersion } from '../../collector/src/clickhouse/client.js';
import { ROOT } from '../../collector/src/paths.js';
import { clickhouseCode, isRejectedData } from '../../collector/src/spill/rejected.js';

const pkg = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { version: string; dependencies?: Record<string, string> };

describe('the embedded engine behind @clickhouse/client', () => {
  const data = mkdtempSync(join(tmpdir(), 'tl-chdb-hook-'));
  const target = { url: EMBEDDED, user: 'default', password: '', database: 'hook', data };
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  it('runs on the pinned versions of chdb and @clickhouse/client, as installed', () => {
    const wanted = pkg('package.json').dependencies!;
    // Exact versions: an upgrade is a decision, taken with this file.
    expect(wanted.chdb).toMatch(/^\d+\.\d+\.\d+$/);
    expect(wanted['@clickhouse/client']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg('node_modules/chdb/package.json').version).toBe(wanted.chdb);
    expect(pkg('node_modules/@clickhouse/client/package.json').version).toBe(wanted['@clickhouse/client']);
  });

  it('creates, inserts and reads in the configured database; commands, streams and settings work as on a server', async () => {
    const admin = connect(target, null);
    expect(await serverVersion(admin)).toMatch(/^26\./);
    await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS hook' });
    await admin.close();

    const ch = connect(target, 'hook', { output_format_json_quote_64bit_integers: 1 });
    // Unqualified names resolve in the configured database (chdb ignores the client's `database`).
    await ch.command({ query: 'CREATE TABLE t (id UInt64, s String) ENGINE = MergeTree ORDER BY id' });
    await ch.insert({ table: 't', values: [{ id: 1, s: 'один' }, { id: 2, s: 'two' }], format: 'JSONEachRow' });
    // A stream of TSV, as the journal inserts.
    await ch.insert({ table: 't', values: Readable.from([Buffer.from('3\tthree\n')], { objectMode: false }), format: 'TabSeparated' });
    const rows = await (await ch.query({ query: 'SELECT id, s FROM t ORDER BY id', format: 'JSONEachRow' })).json<{ id: string; s: string }>();
    expect(rows).toEqual([
      { id: '1', s: 'один' },
      { id: '2', s: 'two' },
      { id: '3', s: 'three' },
    ]);
    const compact = await (await ch.query({ query: 'SELECT count() AS n FROM hook.t', format: 'JSONCompact' })).json<[string]>();
    expect(compact.data).toEqual([['3']]);
    // What the collector asks of system.settings before it sends a setting.
    expect(await knownSettings(ch, { output_format_json_quote_64bit_integers: 1, no_such_setting_here: 1 })).toEqual({ output_format_json_quote_64bit_integers: 1 });
    expect((await ch.ping()).success).toBe(true);
    await ch.close();
  });

  it('reports errors as a server does: the code the spill tells rejected data by, the name', async () => {
    const ch = connect(target, 'hook');
    const unknown = await ch.query({ query: 'SELECT * FROM no_such_table', format: 'JSONEachRow' }).catch((e: unknown) => e);
    expect(clickhouseCode(unknown)).toBe(60);
    expect(String((unknown as Error).message)).toMatch(/no_such_table/);
    const bad = await ch.insert({ table: 't', values: Readable.from([Buffer.from('x\tnot a number\n')], { objectMode: false }), format: 'TabSeparated' }).catch((e: unknown) => e);
    expect(isRejectedData(bad), String(bad)).toBe(true);
    const noDb = connect({ ...target, database: 'missing' }, 'missing');
    const missing = await noDb.query({ query: 'SELECT 1', format: 'JSONEachRow' }).catch((e: unknown) => e);
    expect(clickhouseCode(missing)).toBe(81);
    await noDb.close();
    await ch.close();
  });

  it('lets go of its directory when closed: another process opens it, and this one again after', async () => {
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { connect } from ${JSON.stringify(join(ROOT, 'dist/collector/src/clickhouse/client.js'))};
         const ch = connect(${JSON.stringify(target)}, 'hook');
         await ch.command({ query: "INSERT INTO t VALUES (4, 'four')" });
         await ch.close();`,
      ],
      { encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const ch = connect(target, 'hook', { output_format_json_quote_64bit_integers: 1 });
    const [row] = await (await ch.query({ query: 'SELECT count() AS n FROM t', format: 'JSONEachRow' })).json<{ n: string }>();
    expect(row?.n).toBe('4');
    await ch.close();
  });
});
