// Replay at start: a collector adopts the journal and spool files of an instance
// that died, inserts them, and sets aside the rows whose data ClickHouse refuses
// (instead of retrying them forever and stalling every batch behind them).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, portableSettings } from '../../collector/src/clickhouse/client.js';
import { toRow } from '../../collector/src/hits/row.js';
import { isWireError, parseHit } from '../../collector/src/hits/wire.js';
import { fileName } from '../../collector/src/spill/files.js';
import { isRejectedData } from '../../collector/src/spill/rejected.js';
import { bodyOf, insertTables, journalLine } from '../../collector/src/spill/tables.js';
import { chConfig, eventually, freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { freePort, startCollector, type RunningCollector } from '../helpers/collector.js';

const DEAD_PID = 2 ** 22 + 4321; // above the default pid_max: no such process

function rowJson(id: string): string {
  const hit = parseHit(JSON.stringify({ s: 'demo', k: 'visit', e: id, t: Date.now(), u: 'https://shop.example/replayed' }));
  if (isWireError(hit)) throw new Error(hit.reason);
  return JSON.stringify(toRow(hit, Date.now(), { userAgent: 'UA', ipHash: '' }));
}

describe('replay of a dead instance’s files', () => {
  let db: TestDatabase;
  let spool: string;
  let c: RunningCollector | undefined;

  beforeAll(async () => {
    db = await freshDatabase();
    spool = mkdtempSync(join(tmpdir(), 'tl-replay-'));
  });
  afterAll(async () => {
    await c?.stop();
    await db?.drop();
    rmSync(spool, { recursive: true, force: true });
  });

  it('tells data ClickHouse refuses from a server that is down', async () => {
    // With the settings the collector sends (portableSettings), as its inserts are.
    const client = connect(db.target, db.name, await portableSettings(db.client));
    const refused = await insertTables(client, { hits: bodyOf(['{"nope":1}']) }, 5000).catch((e: unknown) => e);
    await client.close();
    expect(isRejectedData(refused)).toBe(true);
    const down = connect({ ...chConfig, url: `http://127.0.0.1:${await freePort()}` }, 'x');
    const unreachable = await insertTables(down, { hits: bodyOf([rowJson('downdown1')]) }, 2000).catch((e: unknown) => e);
    await down.close();
    expect(unreachable).toBeInstanceOf(Error);
    expect(isRejectedData(unreachable)).toBe(false);
  });

  it('inserts the journal and spool files left behind and sets the refused row aside', async () => {
    writeFileSync(join(spool, fileName('j', DEAD_PID, 1, 1)), journalLine('hits', rowJson('journal001')) + 'hits\t{"torn');
    writeFileSync(join(spool, fileName('s', DEAD_PID, 1, 2)), journalLine('hits', rowJson('spooled01')));
    writeFileSync(join(spool, fileName('s', DEAD_PID, 1, 3)), journalLine('hits', '{"nope":1}'));
    writeFileSync(join(spool, fileName('j', DEAD_PID, 1, 4)), journalLine('hits', rowJson('after0001')));
    c = await startCollector({ CLICKHOUSE_DATABASE: db.name, SPOOL_DIR: spool });
    const rows = await eventually(() => db.rows<{ event_id: string }>(`SELECT event_id FROM hits ORDER BY event_id`), 10_000, (r) => r.length === 3);
    expect(rows.map((r) => r.event_id)).toEqual(['after0001', 'journal001', 'spooled01']);
    const bad = readdirSync(spool).filter((f) => f.startsWith('bad-rows-'));
    expect(bad).toHaveLength(1);
    const lines = readFileSync(join(spool, bad[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ stream: 'hits', table: 'hits', row: '{"nope":1}', code: 117 })]);
    expect(readdirSync(spool).filter((f) => f.includes(`-${DEAD_PID}-`))).toEqual([]);
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    expect(metrics).toMatch(/throughline_rows_rejected_total\{table="hits"\} 1\n/);
    expect(metrics).toMatch(/throughline_batches_replayed_total\{from="disk"\} 4/);
    expect(existsSync(spool)).toBe(true);
  });
});
