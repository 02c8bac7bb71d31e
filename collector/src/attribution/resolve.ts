// Identity resolution, the ClickHouse part. A full resolution:
//   1. read the identity columns of the current deals, the links, the GA / Metrika
//      ids that can join something, and the first form lead of each visitor
//      (four reads side by side);
//   2. union-find in Node (identity.ts);
//   3. write the graph's ids with their components, and the members:
//      (conversion, visitor id) pairs, keys and ids only;
//   4. side by side in ClickHouse: the conversions (members joined with the deals'
//      attributes) and the touches (the one join of hits with the members);
//   5. record the run in attribution_runs: only then do readers see it.
// It starts a generation (a partition of each table, snapshot.ts); later runs
// rewrite only what a change touched (incremental.ts) with the same writer
// (writeRun). The newest generations are kept, older ones dropped.
import { randomInt } from 'node:crypto';
import { Readable } from 'node:stream';
import { queryRows as rows, type ClickHouseClient, type ClickHouseSettings } from '../clickhouse/client.js';
import { ident, num, toDateTimeString } from '../clickhouse/sql.js';
import { CLUSTER_HOUSEKEEPING, localName } from '../clickhouse/cluster.js';
import { tsv } from '../hits/row.js';
import { resolveGraph, type Conversion, type DealIds, type GraphId, type HitIdRow, type LeadRow, type LinkRow } from './identity.js';
import { lateCounts, lateCountsSql, recordRun, type LateColumns, type Run } from './runs.js';
import type { Snapshot } from './snapshot.js';

/**
 * How far back a run reads what arrived since the one before it, before that one's
 * start: hits wait in the collector's batches and Redis before they are stored,
 * with their arrival time. A row stored later than this is noticed by the counts
 * (runs.ts, lateCounts) and answered by a full resolution.
 */
export const LATE_SECONDS = 300;

/** The longest look-back a report may ask for: touches older than this are not kept. */
export const MAX_WINDOW_DAYS = 365;

/** A deal's conversion key, made in SQL only (the read and the conversions write share it). */
export const DEAL_KEY = `concat('deal:', source, ':', deal_id)`;

/** Revenue rule: a won deal brings its current amount; every other outcome (returned included) brings 0. */
const REVENUE = `if(outcome = 'won', amount_minor, toInt64(0))`;

/** `columns` of the current (highest) version of every deal not deleted (of those `where` picks). */
export function currentDeals(d: string, columns: string, where = '1', deleted = false): string {
  return `SELECT ${columns} FROM (
    SELECT * FROM ${d}.deals WHERE ${where} ORDER BY version DESC LIMIT 1 BY source, deal_id
  )${deleted ? '' : ' WHERE deleted = 0'}`;
}

/** The identity columns that deals give the resolution (DealIds). */
export const DEAL_ID_COLUMNS = `${DEAL_KEY} AS conv_key, source, deal_id, toUnixTimestamp(created_at) AS created, contact_ids, visitor_id, ga_cid, ym_uid, email_hashes, phone_hashes`;

/**
 * GA (`ga`) or Metrika (`ym`) ids of hit_ids (column `col`) that can join something:
 * named by a deal or a link, or carried by two visitors or more. Grouped by a hash
 * of the id (a third faster than by the string): a collision can only keep an
 * id that joins nothing, and the merge ignores such an id.
 * On a cluster (`global`) hit_ids, deals and links are Distributed tables: each
 * shard would run the subquery over the whole cluster again, which ClickHouse
 * refuses (distributed_product_mode = deny); GLOBAL IN runs it once, on the
 * server asked, and sends its result to every shard. A GA id's visitors may sit
 * on several shards, so the "two visitors or more" part must see all of hit_ids.
 */
function joiningIds(d: string, kind: 'ga' | 'ym', col: string, global: boolean): string {
  return `cityHash64(${col}) ${global ? 'GLOBAL IN' : 'IN'} (
    SELECT cityHash64(${col}) FROM ${d}.deals WHERE ${col} != ''
    UNION ALL SELECT cityHash64(id_a) FROM ${d}.identity_links WHERE kind_a = '${kind}'
    UNION ALL SELECT cityHash64(id_b) FROM ${d}.identity_links WHERE kind_b = '${kind}'
    UNION ALL SELECT h FROM (
      SELECT cityHash64(${col}) AS h, min(cityHash64(visitor_id)) AS lo, max(cityHash64(visitor_id)) AS hi
      FROM ${d}.hit_ids WHERE ${col} != '' GROUP BY h
    ) WHERE lo != hi)`;
}

/** `cluster`: CLICKHOUSE_CLUSTER ('' for one server). */
export function inputQueries(db: string, cluster = '') {
  const d = ident(db);
  const global = cluster !== '';
  return {
    deals: currentDeals(d, DEAL_ID_COLUMNS),
    links: `SELECT kind_a, id_a, kind_b, id_b FROM ${d}.identity_links`,
    hitIds: `SELECT visitor_id, ga_cid, ym_uid FROM ${d}.hit_ids
      WHERE (ga_cid != '' AND ${joiningIds(d, 'ga', 'ga_cid', global)}) OR (ym_uid != '' AND ${joiningIds(d, 'ym', 'ym_uid', global)})
      GROUP BY visitor_id, ga_cid, ym_uid`,
    leads: `SELECT visitor_id, toUnixTimestamp(min(ts)) AS ts FROM ${d}.hits WHERE kind = 'lead' AND visitor_id != '' GROUP BY visitor_id`,
  };
}

/** The rows a run writes: members of one run of one generation. */
const members = (d: string, at: Snapshot) => `${d}.attribution_members WHERE generation = ${num(at.generation)} AND run = ${num(at.run)}`;

/**
 * A run's conversions: its members, one row per conversion, with the current attributes of the deal (its money in its own currency).
 * `partial`: the run rewrites some conversions only (incremental.ts): only their deals are read.
 */
export function conversionsInsertSql(db: string, at: Snapshot, partial = false): string {
  const d = ident(db);
  const own = partial ? `${DEAL_KEY} GLOBAL IN (SELECT conv_key FROM ${members(d, at)})` : '1';
  return `INSERT INTO ${d}.attribution_conversions (generation, run, removed, conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed,
  lost_from_stage, amount_minor, revenue_minor, currency, closed_at, visitor_ids)
SELECT ${num(at.generation)}, ${num(at.run)}, 0, conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage, amount_minor, ${REVENUE}, currency, closed_at, visitor_ids
FROM (
  SELECT conv_key, conv_kind, conv_ts, arraySort(groupArray(visitor_id)) AS all_ids, arrayFilter(v -> v != '', all_ids) AS visitor_ids
  FROM ${members(d, at)} GROUP BY conv_key, conv_kind, conv_ts
) AS m ANY LEFT JOIN (
  ${currentDeals(d, `${DEAL_KEY} AS conv_key, source AS deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage, amount_minor, currency, closed_at`, own)}
) AS dl USING conv_key
WHERE conv_kind = 'lead' OR deal_id != ''`;
}

/**
 * The one join of visits with a run's visitor ids (the level-1 join of the credit SQL, done once per run).
 * A full run joins all visits: filtering them first (visitor_id IN the members, or PREWHERE) measured
 * no faster, since a converting person's visits are spread over every granule. A partial run
 * (incremental.ts) names a few visitors: then the filter reads the visitor_id column and only the
 * granules that hold them.
 * A touch is a visit event: one event stored twice (hits fold retried rows only at merge time) is
 * written once per conversion, by its event id, while two visits alike in all but their event id
 * stay two. The window includes its start: a visit exactly MAX_WINDOW_DAYS before is kept.
 */
export function touchesInsertSql(db: string, at: Snapshot, partial = false, cluster = false): string {
  const d = ident(db);
  const theirs = `visitor_id GLOBAL IN (SELECT visitor_id FROM ${members(d, at)} AND visitor_id != '')`;
  const where = partial ? visitorsHitsWhere(theirs, `kind = 'visit'`, cluster) : `WHERE kind = 'visit'`;
  return `INSERT INTO ${d}.attribution_touches (generation, run, conv_key, conv_ts, event_id, ts, ts_ms, channel, source, medium, campaign)
SELECT ${num(at.generation)}, ${num(at.run)}, conv_key, conv_ts, event_id, ts, ts_ms, channel, source, medium, campaign
FROM (
  SELECT visitor_id, event_id, ts, ts_ms, channel, source, medium, campaign FROM ${d}.hits ${where}
) AS h ALL INNER JOIN (
  SELECT conv_key, conv_ts, visitor_id FROM ${members(d, at)} AND visitor_id != ''
) AS m USING visitor_id
WHERE ts <= conv_ts AND ts >= conv_ts - ${MAX_WINDOW_DAYS * 86400}
LIMIT 1 BY conv_key, event_id`;
}

/** Where a resolution spent its time (ms): reading inputs, union-find, writing ids and members, the conversions and touches joins. */
export type Steps = { read: number; merge: number; write: number; join: number };

/** What one run writes: conversions (new or rewritten), the ids of the components it made, the conversions it removed. */
export type RunRows = { conversions: Conversion[]; ids: GraphId[]; removed: string[] };

/** A new run id: microseconds, with a random tail so that two collectors starting at once differ. */
export const newRunId = () => Date.now() * 1000 + randomInt(1000);

/**
 * Writes a run's rows (not yet visible: recordRun makes them so). Returns the
 * time (ms) spent writing ids and members, and in the two joins.
 */
export async function writeRun(
  client: ClickHouseClient,
  db: string,
  at: Snapshot,
  out: RunRows,
  settings: ClickHouseSettings,
  partial: boolean,
  cluster = false,
): Promise<{ write: number; join: number }> {
  const t0 = performance.now();
  const d = ident(db);
  const { generation, run } = at;
  const pairs: string[] = [];
  for (const c of out.conversions) {
    const head = `${generation}\t${run}\t${tsv(c.conv_key)}\t${c.conv_kind}\t${c.conv_ts}\t`;
    if (!c.visitor_ids.length) pairs.push(head);
    for (const v of c.visitor_ids) pairs.push(head + tsv(v));
  }
  const ids = out.ids.map((i) => `${generation}\t${run}\t${tsv(i.kind)}\t${tsv(i.id)}\t${i.comp}`);
  const removed = out.removed.map((k) => `${generation}\t${run}\t1\t${tsv(k)}`);
  const insert = async (table: string, columns: string, lines: string[]) => {
    if (!lines.length) return;
    const result = await client.exec({
      query: `INSERT INTO ${d}.${table} (${columns}) FORMAT TabSeparated`,
      values: Readable.from([Buffer.from(`${lines.join('\n')}\n`)], { objectMode: false }),
      clickhouse_settings: settings,
    });
    for await (const _ of result.stream); // read to the end: the socket goes back to the pool
  };
  // Each body is one buffer of TabSeparated text: a third of the JSON rows' size, made without a
  // JSON.stringify per row.
  await Promise.all([
    insert('attribution_members', 'generation, run, conv_key, conv_kind, conv_ts, visitor_id', pairs),
    insert('attribution_ids', 'generation, run, kind, id, comp', ids),
    insert('attribution_conversions', 'generation, run, removed, conv_key', removed),
  ]);
  const t1 = performance.now();
  if (pairs.length) {
    await Promise.all([
      client.command({ query: conversionsInsertSql(db, at, partial), clickhouse_settings: settings }),
      client.command({ query: touchesInsertSql(db, at, partial, cluster), clickhouse_settings: settings }),
    ]);
  }
  return { write: t1 - t0, join: performance.now() - t1 };
}

/**
 * ClickHouse's clock now, and the counts of rows received before `lateSeconds` ago (the next run's
 * check) and, when given, before `earlier` (unix seconds: the previous run's point, counted again).
 * The clock is read first and then given as a literal: `now()` inside the counts' scalar
 * subqueries is evaluated apart from the outer query's, and across a second's turn the two differed,
 * leaving rows of that second out of the counts and in the next run's.
 */
export async function startClock(
  client: ClickHouseClient,
  db: string,
  settings: ClickHouseSettings,
  lateSeconds: number,
  earlier?: number,
): Promise<{ now: number; lateCounts: string; earlierCounts?: string }> {
  const [c] = await rows<{ now: number }>(client, 'SELECT toUInt32(now()) AS now', settings);
  const now = Number(c!.now);
  const points = [now - lateSeconds, ...(earlier === undefined ? [] : [earlier])].map((s) => `toDateTime(${num(s)})`);
  const [r] = await rows<LateColumns>(client, `SELECT ${lateCountsSql(db, ...points)}`, settings);
  const [next, then] = lateCounts(r!);
  return { now, lateCounts: next!, ...(then === undefined ? {} : { earlierCounts: then }) };
}

/**
 * The hits of the visitors `cond` names, and `rest`: with PREWHERE, the other columns are read only
 * for the granules that hold those visitors (0.06 s instead of 0.15 s on 10 M visits, a few
 * visitors). A Distributed table's PREWHERE is left to WHERE (each shard's own choice).
 */
export function visitorsHitsWhere(cond: string, rest: string, cluster: boolean): string {
  return cluster ? `WHERE ${rest} AND ${cond}` : `PREWHERE ${cond} WHERE ${rest}`;
}

/**
 * A full resolution, for inputs described by `fingerprint` (read before the
 * inputs, so newer data is never hidden): a new generation. `settings` go with
 * every statement (the query priority of a background refresh).
 */
export async function resolveNow(
  client: ClickHouseClient,
  db: string,
  fingerprint: string,
  settings: ClickHouseSettings = {},
  cluster = '',
  lateSeconds = LATE_SECONDS,
): Promise<Run & { steps: Steps }> {
  const t0 = performance.now();
  const run = newRunId();
  const clock = await startClock(client, db, settings, lateSeconds);
  const q = inputQueries(db, cluster);
  const [deals, links, hitIds, leads] = await Promise.all([
    rows<DealIds>(client, q.deals, settings),
    rows<LinkRow>(client, q.links, settings),
    rows<HitIdRow>(client, q.hitIds, settings),
    rows<LeadRow>(client, q.leads, settings),
  ]);
  const t1 = performance.now();
  const graph = resolveGraph({ deals, links, hitIds, leads });
  const t2 = performance.now();
  const at = { generation: run, run };
  const { write, join } = await writeRun(client, db, at, { ...graph, removed: [] }, settings, false);
  const done = {
    ...at,
    kind: 'full' as const,
    fingerprint,
    conversions: graph.conversions.length,
    finishedAt: toDateTimeString(Date.now()),
    startedAt: clock.now,
    lateFrom: clock.now - lateSeconds,
    lateCounts: clock.lateCounts,
  };
  await recordRun(client, db, done);
  await dropOldGenerations(client, db, run, cluster);
  const steps = { read: t1 - t0, merge: t2 - t1, write, join };
  return { ...done, ageSeconds: 0, generationStartedAt: clock.now, steps };
}

/** Generations kept besides the newest, so a report that started on one is not cut off. */
const KEEP_GENERATIONS = 2;

const TABLES = ['attribution_members', 'attribution_conversions', 'attribution_touches', 'attribution_ids', 'attribution_runs'];

/** Drops every generation older than the newest KEEP_GENERATIONS before `generation`, from each table (generations cut off half-way included). */
async function dropOldGenerations(client: ClickHouseClient, db: string, generation: number, cluster = ''): Promise<void> {
  if (cluster) return dropOldClusterGenerations(client, db, generation, cluster);
  const d = ident(db);
  const old = await rows<{ partition: string }>(
    client,
    `SELECT DISTINCT partition FROM system.parts
     WHERE database = '${d}' AND table IN (${TABLES.map((t) => `'${t}'`).join(', ')}) AND active AND toUInt64(partition) < ${num(generation)}
     ORDER BY toUInt64(partition) DESC`,
  );
  for (const { partition } of old.slice(KEEP_GENERATIONS)) {
    const p = BigInt(partition).toString();
    for (const table of TABLES) await client.command({ query: `ALTER TABLE ${d}.${table} DROP PARTITION ${p}` });
  }
}

/**
 * dropOldGenerations on a cluster. A Distributed table has no partitions and this
 * server's system.parts holds only its own shard's, so the generations are read
 * from the tables themselves (`generation` is the partition key), and each drop
 * goes to the replicated tables ON CLUSTER, queued and not waited for
 * (CLUSTER_HOUSEKEEPING): a server that is down drops it when it is back. A
 * generation not yet dropped costs disk only: readers take the one they name or
 * the newest. The next full resolution finds a generation whose drop is still
 * under way again and queues it again, which is harmless.
 */
async function dropOldClusterGenerations(client: ClickHouseClient, db: string, generation: number, cluster: string): Promise<void> {
  const d = ident(db);
  const c = ident(cluster);
  const old = await rows<{ generation: string }>(
    client,
    `SELECT DISTINCT generation FROM (${TABLES.map((t) => `SELECT DISTINCT generation FROM ${d}.${t} WHERE generation < ${num(generation)}`).join(' UNION ALL ')}) ORDER BY generation DESC`,
  );
  for (const { generation: g } of old.slice(KEEP_GENERATIONS)) {
    const p = BigInt(g).toString();
    for (const table of TABLES) {
      await client.command({ query: `ALTER TABLE ${d}.${localName(table)} ON CLUSTER ${c} DROP PARTITION ${p}`, clickhouse_settings: CLUSTER_HOUSEKEEPING });
    }
  }
}
