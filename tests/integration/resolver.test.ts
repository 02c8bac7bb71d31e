// When identity resolution runs (attribution/resolver.ts): a report uses the newest
// finished resolution at once and refreshes a stale one in the background; only a
// report without any resolution, or one asking for fresh figures, waits. Deals
// alone are enough here (a deal without visits is an unattributed conversion).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resolver } from '../../collector/src/attribution/resolver.js';
import { inSnapshot, type Snapshot } from '../../collector/src/attribution/snapshot.js';
import type { ClickHouseClient } from '../../collector/src/clickhouse/client.js';
import { toDateTimeString } from '../../collector/src/clickhouse/sql.js';
import { buildReport } from '../../collector/src/reports/build.js';
import { freshDatabase, type TestDatabase } from '../helpers/clickhouse.js';
import { insertDeals } from '../helpers/crm-fixtures.js';

describe('identity resolution, stale-while-revalidate', () => {
  let db: TestDatabase;
  let n = 0;
  const addDeal = () =>
    insertDeals(db.client, [
      { source: 'amo', deal_id: String(++n), version: 1, created_at: '2026-03-01 10:00:00', received_at: toDateTimeString(Date.now()), outcome: 'won', amount_minor: 100 },
    ]);
  const runs = async () => (await db.rows<{ run: string }>('SELECT run FROM attribution_runs ORDER BY run')).map((r) => Number(r.run));
  const conversions = async (at: Snapshot) =>
    (await db.rows<{ conv_key: string }>(`SELECT conv_key FROM attribution_conversions WHERE ${inSnapshot(db.name, at)} AND removed = 0 ORDER BY conv_key`)).map(
      (r) => r.conv_key,
    );
  /** Waits for the refresh in progress and the one folded behind it, if any (a failure goes to onError). */
  const settled = async (r: Resolver) => {
    while (r.running) await r.running.catch(() => undefined);
  };

  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('waits only when there is no resolution yet', async () => {
    await addDeal();
    const r = new Resolver(db.client, db.name);
    const first = await r.forReport();
    expect(first).toMatchObject({ current: true, refreshing: false, ageSeconds: 0 });
    expect(first.waitedMs).toBeGreaterThan(0);
    expect(await runs()).toEqual([first.run]);
    expect(await conversions(first)).toEqual(['deal:amo:1']);
    const second = await r.forReport();
    expect(second).toMatchObject({ run: first.run, current: true, refreshing: false, waitedMs: 0 });
  });

  it('answers from the stale resolution at once and refreshes it in the background', async () => {
    const r = new Resolver(db.client, db.name);
    const [old] = (await runs()).slice(-1);
    await addDeal();
    const stale = await r.forReport();
    expect(stale).toMatchObject({ run: old, current: false, refreshing: true, waitedMs: 0 });
    expect(r.running).not.toBeNull();
    await settled(r);
    const next = await r.forReport();
    expect(next.run).toBeGreaterThan(old!);
    expect(next).toMatchObject({ current: true, refreshing: false, waitedMs: 0 });
    expect(await conversions(next)).toEqual(['deal:amo:1', 'deal:amo:2']);
  });

  it('leaves a resolution younger than maxAgeSeconds alone, unless fresh figures are asked for', async () => {
    const r = new Resolver(db.client, db.name, { maxAgeSeconds: 3600 });
    const before = await runs();
    await addDeal();
    const stale = await r.forReport();
    expect(stale).toMatchObject({ run: before.at(-1), current: false, refreshing: false, waitedMs: 0 });
    expect(r.running).toBeNull();
    const fresh = await r.forReport(true);
    expect(fresh.run).toBeGreaterThan(before.at(-1)!);
    expect(fresh).toMatchObject({ current: true, ageSeconds: 0 });
    expect(fresh.waitedMs).toBeGreaterThan(0);
    expect(await conversions(fresh)).toContain('deal:amo:3');
  });

  it('folds requests made during a refresh into one more, which does nothing when the inputs did not change', async () => {
    const r = new Resolver(db.client, db.name);
    const before = await runs();
    await addDeal();
    r.request();
    const first = r.running;
    r.request();
    r.request();
    expect(r.running).toBe(first); // one at a time
    await settled(r);
    const after = await runs();
    expect(after.filter((x) => x > before.at(-1)!)).toHaveLength(1); // the folded refresh found nothing new
    r.request(); // nothing changed since: no new run
    await settled(r);
    expect(await runs()).toEqual(after);
  });

  it('keeps the three newest generations and drops older ones from every table', async () => {
    const r = new Resolver(db.client, db.name, { fullEveryHours: 0 }); // every run full: a generation each
    for (let i = 0; i < 4; i++) {
      await addDeal();
      expect((await r.refresh()).kind).toBe('full');
    }
    const generations = (await db.rows<{ g: string }>('SELECT DISTINCT generation AS g FROM attribution_runs ORDER BY g')).map((x) => Number(x.g));
    expect(generations).toHaveLength(3);
    for (const table of ['attribution_members', 'attribution_conversions', 'attribution_touches', 'attribution_ids', 'attribution_runs']) {
      const parts = await db.rows<{ p: string }>(
        `SELECT DISTINCT partition AS p FROM system.parts WHERE database = '${db.name}' AND table = '${table}' AND active`,
      );
      expect(parts.map((x) => Number(x.p)).every((p) => generations.includes(p)), table).toBe(true);
    }
    expect(await db.rows('SELECT DISTINCT generation FROM attribution_members')).toHaveLength(3);
  });

  it('resolves only what changed on top of the newest generation, and starts a new one when it is older than fullEveryHours', async () => {
    const r = new Resolver(db.client, db.name);
    await addDeal();
    const before = await r.refresh();
    await addDeal();
    const after = await r.refresh();
    expect(after).toMatchObject({ kind: 'incremental', generation: before.generation });
    expect(after.run).toBeGreaterThan(before.run);
    expect(await conversions(after)).toEqual([...(await conversions(before)), `deal:amo:${n}`].sort());
    // The previous snapshot still reads as it was.
    expect(await conversions(before)).not.toContain(`deal:amo:${n}`);
    await addDeal();
    await new Promise((r) => setTimeout(r, 1100)); // the generation is a second old: older than a few microseconds
    const renewed = await new Resolver(db.client, db.name, { fullEveryHours: 1e-6 }).refresh();
    expect(renewed.kind).toBe('full');
    expect(renewed.generation).toBe(renewed.run);
  });

  it('runs a resolution a report waits for before the report\'s reads, and those before a background refresh', async () => {
    // The client, recording the priority each statement asked for.
    const seen: { sql: string; priority: unknown }[] = [];
    const client = new Proxy(db.client, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key !== 'query' && key !== 'command' && key !== 'insert') return value;
        return (params: { query?: string; table?: string; clickhouse_settings?: { priority?: unknown } }) => {
          seen.push({ sql: params.query ?? `INSERT INTO ${params.table}`, priority: params.clickhouse_settings?.priority });
          return (value as (p: unknown) => unknown).call(target, params);
        };
      },
    }) as ClickHouseClient;
    const r = new Resolver(client, db.name);
    const options = { model: 'linear' as const, period: {}, group: 'channel' as const, windowDays: 90 };
    const priorities = (from: number, pattern: RegExp) => [...new Set(seen.slice(from).filter((x) => pattern.test(x.sql)).map((x) => x.priority))];
    const JOINS = /^INSERT INTO \S+\.attribution_(conversions|touches|members)/;

    await addDeal();
    let from = seen.length;
    await buildReport(r, options); // stale: answers at once, refreshes in the background
    await settled(r);
    expect(priorities(from, /FROM \S+\.costs_current/)).toEqual(['2']);
    expect(priorities(from, JOINS)).toEqual(['3']);

    await addDeal();
    from = seen.length;
    await buildReport(r, options, true); // fresh: the report waits, so its resolution goes first
    expect(priorities(from, JOINS)).toEqual(['1']);
    expect(priorities(from, /FROM \S+\.costs_current/)).toEqual(['2']);
  });

  it('reports a failed background refresh and keeps answering from the previous resolution', async () => {
    const errors: unknown[] = [];
    const r = new Resolver(db.client, db.name, { onError: (err) => errors.push(err) });
    const [old] = (await runs()).slice(-1);
    await db.client.command({ query: 'RENAME TABLE attribution_members TO attribution_members_away' });
    try {
      await addDeal();
      expect(await r.forReport()).toMatchObject({ run: old, current: false, refreshing: true });
      await settled(r);
      expect(errors).toHaveLength(1);
      expect(await r.forReport()).toMatchObject({ run: old, current: false });
      await settled(r);
    } finally {
      await db.client.command({ query: 'RENAME TABLE attribution_members_away TO attribution_members' });
    }
    const healed = await r.forReport(true);
    expect(healed.run).toBeGreaterThan(old!);
  });
});
