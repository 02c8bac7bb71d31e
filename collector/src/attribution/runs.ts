// attribution_runs: one row per finished identity resolution. Readers take the
// newest; a run becomes visible only once recorded here, after all its rows.
import { queryRows as rows, type ClickHouseClient } from '../clickhouse/client.js';
import { ident, str, strList, toDateTimeString } from '../clickhouse/sql.js';
import type { Snapshot } from './snapshot.js';

/** A finished resolution as attribution_runs records it. */
export type Run = Snapshot & {
  kind: 'full' | 'incremental';
  fingerprint: string;
  conversions: number;
  /** `YYYY-MM-DD hh:mm:ss`, UTC. */
  finishedAt: string;
  ageSeconds: number;
  /** Unix seconds (ClickHouse's clock) when it started, and when its generation's full resolution did. */
  startedAt: number;
  generationStartedAt: number;
  /** Unix seconds: the next run reads what arrived from here on. */
  lateFrom: number;
  /** Rows of hits, deals and links received before lateFrom when it read (`h/d/l`). */
  lateCounts: string;
};

/**
 * The tables a resolution reads, whose deletes (mutations) it must notice, with their replicated
 * tables of cluster mode (a name no server holds matches nothing).
 */
export const INPUT_TABLES = ['hits', 'hit_ids', 'deals', 'identity_links'].flatMap((t) => [t, `${t}_local`]);

/** Deletes (mutations) made in the input tables, those since `since` (a SQL DateTime) when given. */
export function mutationsSql(db: string, since?: string): string {
  return `(SELECT count() FROM system.mutations WHERE database = ${str(db)} AND table IN (${strList(INPUT_TABLES)})${since ? ` AND create_time >= ${since}` : ''})`;
}

/**
 * Describes the inputs (row counts and newest arrival of hits, deals and links, and the deletes
 * ever made in them: a delete and an insert in one second leave the rest alike): equal
 * fingerprints, equal resolutions.
 */
export function fingerprintSql(db: string): string {
  const d = ident(db);
  return `SELECT concat(
    toString((SELECT count() FROM ${d}.hits)), '/', toString((SELECT max(received_at) FROM ${d}.hits)), '/',
    toString((SELECT count() FROM ${d}.deals)), '/', toString((SELECT max(received_at) FROM ${d}.deals)), '/',
    toString((SELECT count() FROM ${d}.identity_links)), '/', toString((SELECT max(linked_at) FROM ${d}.identity_links)), '/',
    toString(${mutationsSql(db)})) AS f`;
}

export async function readFingerprint(client: ClickHouseClient, db: string): Promise<string> {
  const [row] = await rows<{ f: string }>(client, fingerprintSql(db));
  return row?.f ?? '';
}

type RunRow = {
  generation: string;
  run: string;
  kind: string;
  fingerprint: string;
  conversions: string;
  finished_at: string;
  age: number;
  started: number;
  generation_started: number;
  late_from: number;
  late_counts: string;
};

export async function newestRun(client: ClickHouseClient, db: string): Promise<Run | null> {
  const d = ident(db);
  const [r] = await rows<RunRow>(
    client,
    `SELECT generation, run, kind, fingerprint, conversions, finished_at, toInt64(toUInt32(now())) - toUInt32(finished_at) AS age,
       toUInt32(started_at) AS started, toUInt32(late_from) AS late_from, late_counts,
       (SELECT toUInt32(min(started_at)) FROM ${d}.attribution_runs WHERE generation = (SELECT argMax(generation, run) FROM ${d}.attribution_runs)) AS generation_started
     FROM ${d}.attribution_runs ORDER BY run DESC LIMIT 1`,
  );
  if (!r) return null;
  return {
    generation: Number(r.generation),
    run: Number(r.run),
    kind: r.kind === 'incremental' ? 'incremental' : 'full',
    fingerprint: r.fingerprint,
    conversions: Number(r.conversions),
    finishedAt: r.finished_at,
    ageSeconds: Math.max(0, Number(r.age)),
    startedAt: Number(r.started),
    generationStartedAt: Number(r.generation_started),
    lateFrom: Number(r.late_from),
    lateCounts: r.late_counts,
  };
}

/**
 * Columns `late_h`, `late_d`, `late_l`: for each of the SQL DateTime expressions
 * `before`, the hits, deals and links received before it (one read of each table for all).
 */
export function lateCountsSql(db: string, ...before: string[]): string {
  const d = ident(db);
  const counts = (table: string, col: string) => `(SELECT [${before.map((b) => `countIf(${col} < ${b})`).join(', ')}] FROM ${d}.${table})`;
  return `${counts('hits', 'received_at')} AS late_h, ${counts('deals', 'received_at')} AS late_d, ${counts('identity_links', 'linked_at')} AS late_l`;
}

/** The counts of lateCountsSql's columns as `h/d/l`, one per expression. */
export type LateColumns = { late_h: (string | number)[]; late_d: (string | number)[]; late_l: (string | number)[] };

export function lateCounts(row: LateColumns): string[] {
  return row.late_h.map((h, i) => `${h}/${row.late_d[i]}/${row.late_l[i]}`);
}

/** True when some table holds more rows received before a point than an earlier count saw: rows stored late. */
export function grewSince(earlier: string, now: string): boolean {
  const a = earlier.split('/').map(Number);
  const b = now.split('/').map(Number);
  return a.length !== b.length || b.some((n, i) => !(n <= a[i]!));
}

export async function recordRun(client: ClickHouseClient, db: string, run: Omit<Run, 'ageSeconds' | 'generationStartedAt'>): Promise<void> {
  const at = (s: number) => toDateTimeString(s * 1000);
  await client.insert({
    table: `${ident(db)}.attribution_runs`,
    values: [
      {
        generation: run.generation,
        run: run.run,
        kind: run.kind,
        fingerprint: run.fingerprint,
        conversions: run.conversions,
        started_at: at(run.startedAt),
        finished_at: run.finishedAt,
        late_from: at(run.lateFrom),
        late_counts: run.lateCounts,
      },
    ],
    format: 'JSONEachRow',
  });
}
