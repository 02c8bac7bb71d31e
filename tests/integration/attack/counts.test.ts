// Counting exactly. Point 2: reports count visits, visitors and leads by event id,
// so hits stored twice (a batch partly inserted, then replayed) and not yet folded
// by a merge never inflate a figure. Point 16a: throughline_rows_inserted_total
// counts rows, labelled by table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from '../../../collector/src/attribution/resolver.js';
import { hitTsv, toRow } from '../../../collector/src/hits/row.js';
import { isWireError, parseHit } from '../../../collector/src/hits/wire.js';
import { buildReport, type ReportRow } from '../../../collector/src/reports/build.js';
import { insertTables, tsvStream } from '../../../collector/src/spill/tables.js';
import { eventually, freshDatabase, type TestDatabase } from '../../helpers/clickhouse.js';
import { startCollector } from '../../helpers/collector.js';
import { insertDeals, insertFunnel } from '../../helpers/crm-fixtures.js';
import { BROWSER_UA, visitHit } from '../../helpers/load.js';

const SOURCES = ['?utm_source=yandex&utm_medium=cpc&utm_campaign=brand', '?utm_source=newsletter&utm_medium=email', ''];

/** 600 hits of 150 visitors in March 2026, a tenth of them form leads, as one TabSeparated body. */
function marchHits(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < 600; i++) {
    const at = Date.UTC(2026, 2, 1 + (i % 28), 10, i % 60, 0, i % 1000);
    const hit = parseHit(
      JSON.stringify({ s: 'demo', k: i % 10 === 9 ? 'lead' : 'visit', e: `count${String(i).padStart(5, '0')}`, t: at, u: `https://shop.example/${SOURCES[i % 3]}`, v: `VIS${i % 150}` }),
    );
    if (isWireError(hit)) throw new Error(hit.reason);
    lines.push(`${hitTsv(toRow(hit, at, { userAgent: 'UA', ipHash: '' }))}\n`);
  }
  return Buffer.from(lines.join(''), 'utf8');
}

const figures = (rows: ReportRow[]) => rows.map((r) => ({ key: r.key, visits: r.visits, visitors: r.visitors, leads: r.leads }));

describe('exact counts', () => {
  let once: TestDatabase;
  let twice: TestDatabase;

  beforeAll(async () => {
    once = await freshDatabase('tl_once');
    // In one data directory on the embedded engine: the reports below read both at once.
    twice = await freshDatabase('tl_twice', { beside: once });
    // No merge may fold the repeats while the test reads them.
    await twice.client.command({ query: `SYSTEM STOP MERGES ${twice.name}.hits` });
    const hits = { [tsvStream('hits')]: marchHits() };
    await insertTables(once.client, hits, 10_000);
    await insertTables(twice.client, hits, 10_000);
    await insertTables(twice.client, hits, 10_000);
    for (const db of [once, twice]) {
      await insertFunnel(db.client, ['lead', 'won']);
      await insertDeals(db.client, [
        { source: 'amo', deal_id: '1', version: 1, created_at: '2026-03-20 10:00:00', outcome: 'won', amount_minor: 100_000, visitor_id: 'VIS1' },
        { source: 'amo', deal_id: '2', version: 1, created_at: '2026-03-25 10:00:00', outcome: 'lost', amount_minor: 50_000, visitor_id: 'VIS2' },
      ]);
    }
  });
  afterAll(async () => {
    await twice?.client.command({ query: `SYSTEM START MERGES ${twice.name}.hits` }).catch(() => {});
    await Promise.all([once?.drop(), twice?.drop()]);
  });

  it('2. visits, visitors and leads of hits stored twice, not yet merged, equal those of hits stored once', async () => {
    for (const model of ['linear', 'last_click'] as const) {
      for (const group of ['channel', 'month'] as const) {
        const o = { model, group, period: { from: '2026-03-01', to: '2026-03-31' }, windowDays: 90 };
        const [a, b] = await Promise.all([buildReport(new Resolver(once.client, once.name), o, true), buildReport(new Resolver(twice.client, twice.name), o, true)]);
        expect(a.totals.visits).toBe(540);
        expect(figures(b.rows)).toEqual(figures(a.rows));
        expect(figures([b.totals])).toEqual(figures([a.totals]));
      }
    }
    // The repeats were there all along: each event is stored twice.
    const [stored] = await twice.rows<{ n: string; ids: string }>('SELECT count() AS n, uniqExact(event_id) AS ids FROM hits');
    expect(Number(stored!.n)).toBe(2 * Number(stored!.ids));
  });

  it('16a. throughline_rows_inserted_total counts rows, labelled by table', async () => {
    const db = await freshDatabase('tl_inserted');
    const c = await startCollector({ CLICKHOUSE_DATABASE: db.name, BATCH_MAX_MS: '100', VISIT_THROTTLE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      for (let i = 0; i < 37; i++) {
        const { body } = visitHit();
        const r = await fetch(`${c.url}/hit`, { method: 'POST', body, headers: { 'Content-Type': 'text/plain', 'User-Agent': BROWSER_UA } });
        expect(r.status).toBe(204);
      }
      await eventually(() => db.rows('SELECT event_id FROM hits'), 10_000, (r) => r.length === 37);
      const metrics = await eventually(
        async () => (await fetch(`${c.url}/metrics`)).text(),
        5_000,
        (m) => /throughline_rows_inserted_total\{table="hits"\} 37\n/.test(m),
      );
      expect(metrics).toMatch(/throughline_rows_inserted_total\{table="hits"\} 37\n/);
      expect(metrics).not.toMatch(/throughline_rows_inserted_total\{table="hits\.tsv"\}/);
    } finally {
      await c.stop('SIGKILL');
      await db.drop();
    }
  });
});
