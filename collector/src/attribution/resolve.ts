// Identity resolution, the ClickHouse part. One run:
//   1. read the identity columns of the current deals, the links, the GA / Metrika
//      ids that can join something, and the first form lead of each visitor
//      (four reads side by side);
//   2. union-find in Node (identity.ts);
//   3. write the members: (conversion, visitor id) pairs, keys and ids only;
//   4. side by side in ClickHouse: the conversions (members joined with the deals'
//      attributes) and the touches (the one join of hits with the members);
//   5. record the run in attribution_runs: only then do readers see it.
// The run is a partition of each table; the newest runs are kept, older ones dropped.
import { randomInt } from 'node:crypto';
import { queryRows as rows, type ClickHouseClient, type ClickHouseSettings } from '../clickhouse/client.js';
import { ident, num, toDateTimeString } from '../clickhouse/sql.js';
import { CLUSTER_HOUSEKEEPING, localName } from '../clickhouse/cluster.js';
import { resolveConversions, type DealIds, type HitIdRow, type LeadRow, type LinkRow } from './identity.js';

/** The longest look-back a report may ask for: touches older than this are not kept. */
export const MAX_WINDOW_DAYS = 365;

/** A deal's conversion key, made in SQL only (the read and the conversions write share it). */
const DEAL_KEY = `concat('deal:', source, ':', deal_id)`;

/** Revenue rule: a won deal brings its current amount; every other outcome (returned included) brings 0. */
const REVENUE = `if(outcome = 'won', amount_minor, toInt64(0))`;

/** `columns` of the current (highest) version of every deal not deleted. */
function currentDeals(d: string, columns: string): string {
  return `SELECT ${columns} FROM (
    SELECT * FROM ${d}.deals ORDER BY version DESC LIMIT 1 BY source, deal_id
  ) WHERE deleted = 0`;
}

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
    deals: currentDeals(
      d,
      `${DEAL_KEY} AS conv_key, source, deal_id, toUnixTimestamp(created_at) AS created, contact_ids, visitor_id, ga_cid, ym_uid, email_hashes, phone_hashes`,
    ),
    links: `SELECT kind_a, id_a, kind_b, id_b FROM ${d}.identity_links`,
    hitIds: `SELECT visitor_id, ga_cid, ym_uid FROM ${d}.hit_ids
      WHERE (ga_cid != '' AND ${joiningIds(d, 'ga', 'ga_cid', global)}) OR (ym_uid != '' AND ${joiningIds(d, 'ym', 'ym_uid', global)})
      GROUP BY visitor_id, ga_cid, ym_uid`,
    leads: `SELECT visitor_id, toUnixTimestamp(min(ts)) AS ts FROM ${d}.hits WHERE kind = 'lead' AND visitor_id != '' GROUP BY visitor_id`,
  };
}

/** Describes the inputs (row counts and newest arrival of hits, deals and links): equal fingerprints, equal resolutions. */
export function fingerprintSql(db: string): string {
  const d = ident(db);
  return `SELECT concat(
    toString((SELECT count() FROM ${d}.hits)), '/', toString((SELECT max(received_at) FROM ${d}.hits)), '/',
    toString((SELECT count() FROM ${d}.deals)), '/', toString((SELECT max(received_at) FROM ${d}.deals)), '/',
    toString((SELECT count() FROM ${d}.identity_links)), '/', toString((SELECT max(linked_at) FROM ${d}.identity_links))) AS f`;
}

const members = (d: string, r: string) => `${d}.attribution_members WHERE run = ${r}`;

/** A run's conversions: its members, one row per conversion, with the current attributes of the deal (its money in its own currency). */
export function conversionsInsertSql(db: string, run: number): string {
  const d = ident(db);
  const r = num(run);
  return `INSERT INTO ${d}.attribution_conversions (run, conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed,
  lost_from_stage, amount_minor, revenue_minor, currency, closed_at, visitor_ids)
SELECT ${r}, conv_key, conv_kind, conv_ts, deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage, amount_minor, ${REVENUE}, currency, closed_at, visitor_ids
FROM (
  SELECT conv_key, conv_kind, conv_ts, arraySort(groupArray(visitor_id)) AS all_ids, arrayFilter(v -> v != '', all_ids) AS visitor_ids
  FROM ${members(d, r)} GROUP BY conv_key, conv_kind, conv_ts
) AS m ANY LEFT JOIN (
  ${currentDeals(d, `${DEAL_KEY} AS conv_key, source AS deal_source, deal_id, outcome, stage, stages_passed, lost_from_stage, amount_minor, currency, closed_at`)}
) AS dl USING conv_key
WHERE conv_kind = 'lead' OR deal_id != ''`;
}

/**
 * The one join of all visits with a run's visitor ids (the level-1 join of the credit SQL, done once per run).
 * Filtering the visits first (visitor_id IN the members, or PREWHERE) measured no faster: a converting
 * person's visits are spread over every granule, so all of hits is read either way.
 * A touch is a visit event: one event stored twice (hits fold retried rows only at merge time) is
 * written once per conversion, by its event id, while two visits alike in all but their event id
 * stay two. The window includes its start: a visit exactly MAX_WINDOW_DAYS before is kept.
 */
export function touchesInsertSql(db: string, run: number): string {
  const d = ident(db);
  const r = num(run);
  return `INSERT INTO ${d}.attribution_touches (run, conv_key, conv_ts, event_id, ts, ts_ms, channel, source, medium, campaign)
SELECT ${r}, conv_key, conv_ts, event_id, ts, ts_ms, channel, source, medium, campaign
FROM (
  SELECT visitor_id, event_id, ts, ts_ms, channel, source, medium, campaign FROM ${d}.hits WHERE kind = 'visit'
) AS h ALL INNER JOIN (
  SELECT conv_key, conv_ts, visitor_id FROM ${members(d, r)} AND visitor_id != ''
) AS m USING visitor_id
WHERE ts <= conv_ts AND ts >= conv_ts - ${MAX_WINDOW_DAYS * 86400}
LIMIT 1 BY conv_key, event_id`;
}

export async function readFingerprint(client: ClickHouseClient, db: string): Promise<string> {
  const [row] = await rows<{ f: string }>(client, fingerprintSql(db));
  return row?.f ?? '';
}

/** A finished resolution as attribution_runs records it. */
export type Run = {
  run: number;
  fingerprint: string;
  conversions: number;
  /** `YYYY-MM-DD hh:mm:ss`, UTC. */
  finishedAt: string;
  ageSeconds: number;
};

export async function newestRun(client: ClickHouseClient, db: string): Promise<Run | null> {
  const [r] = await rows<{ run: string; fingerprint: string; conversions: string; finished_at: string; age: number }>(
    client,
    `SELECT run, fingerprint, conversions, finished_at, toInt64(toUInt32(now())) - toUInt32(finished_at) AS age
     FROM ${ident(db)}.attribution_runs ORDER BY run DESC LIMIT 1`,
  );
  if (!r) return null;
  return { run: Number(r.run), fingerprint: r.fingerprint, conversions: Number(r.conversions), finishedAt: r.finished_at, ageSeconds: Math.max(0, Number(r.age)) };
}

/** Runs kept besides the newest, so a report that started on one is not cut off. */
const KEEP_RUNS = 2;

const TABLES = ['attribution_members', 'attribution_conversions', 'attribution_touches'];

/** Where a resolution spent its time (ms): reading inputs, union-find, writing members, the conversions and touches joins. */
export type Steps = { read: number; merge: number; write: number; join: number };

/**
 * Resolves identities now, for inputs described by `fingerprint` (read before the
 * inputs, so newer data is never hidden). `settings` go with every statement (the
 * query priority of a background refresh).
 */
export async function resolveNow(
  client: ClickHouseClient,
  db: string,
  fingerprint: string,
  settings: ClickHouseSettings = {},
  cluster = '',
): Promise<Run & { steps: Steps }> {
  const t0 = performance.now();
  const q = inputQueries(db, cluster);
  const [deals, links, hitIds, leads] = await Promise.all([
    rows<DealIds>(client, q.deals, settings),
    rows<LinkRow>(client, q.links, settings),
    rows<HitIdRow>(client, q.hitIds, settings),
    rows<LeadRow>(client, q.leads, settings),
  ]);
  const t1 = performance.now();
  const conversions = resolveConversions({ deals, links, hitIds, leads });
  const t2 = performance.now();
  const run = Date.now() * 1000 + randomInt(1000);
  const d = ident(db);
  const pairs: { run: number; conv_key: string; conv_kind: string; conv_ts: number; visitor_id: string }[] = [];
  for (const c of conversions) {
    const base = { run, conv_key: c.conv_key, conv_kind: c.conv_kind, conv_ts: c.conv_ts };
    if (!c.visitor_ids.length) pairs.push({ ...base, visitor_id: '' });
    for (const visitor_id of c.visitor_ids) pairs.push({ ...base, visitor_id });
  }
  await client.insert({ table: `${d}.attribution_members`, values: pairs, format: 'JSONEachRow', clickhouse_settings: settings });
  const t3 = performance.now();
  await Promise.all([
    client.command({ query: conversionsInsertSql(db, run), clickhouse_settings: settings }),
    client.command({ query: touchesInsertSql(db, run), clickhouse_settings: settings }),
  ]);
  const t4 = performance.now();
  const finishedAt = toDateTimeString(Date.now());
  await client.insert({
    table: `${d}.attribution_runs`,
    values: [{ run, fingerprint, conversions: conversions.length, finished_at: finishedAt }],
    format: 'JSONEachRow',
  });
  await dropOldRuns(client, db, run, cluster);
  const steps = { read: t1 - t0, merge: t2 - t1, write: t3 - t2, join: t4 - t3 };
  return { run, fingerprint, conversions: conversions.length, finishedAt, ageSeconds: 0, steps };
}

/** Drops every run older than the newest KEEP_RUNS before `run`, from each table (runs cut off half-way included). */
async function dropOldRuns(client: ClickHouseClient, db: string, run: number, cluster = ''): Promise<void> {
  if (cluster) return dropOldClusterRuns(client, db, run, cluster);
  const d = ident(db);
  const old = await rows<{ partition: string }>(
    client,
    `SELECT DISTINCT partition FROM system.parts
     WHERE database = '${d}' AND table IN (${TABLES.map((t) => `'${t}'`).join(', ')}) AND active AND toUInt64(partition) < ${num(run)}
     ORDER BY toUInt64(partition) DESC`,
  );
  for (const { partition } of old.slice(KEEP_RUNS)) {
    const p = BigInt(partition).toString();
    for (const table of TABLES) await client.command({ query: `ALTER TABLE ${d}.${table} DROP PARTITION ${p}` });
  }
}

/**
 * dropOldRuns on a cluster. A Distributed table has no partitions and this server's
 * system.parts holds only its own shard's, so the runs are read from the tables
 * themselves (`run` is the partition key), and each drop goes to the replicated
 * tables ON CLUSTER, queued and not waited for (CLUSTER_HOUSEKEEPING): a server
 * that is down drops it when it is back. A run not yet dropped costs disk only:
 * readers take the run they name or the newest. The next resolution finds a run
 * whose drop is still under way again and queues it again, which is harmless.
 */
async function dropOldClusterRuns(client: ClickHouseClient, db: string, run: number, cluster: string): Promise<void> {
  const d = ident(db);
  const c = ident(cluster);
  const old = await rows<{ run: string }>(
    client,
    `SELECT DISTINCT run FROM (${TABLES.map((t) => `SELECT DISTINCT run FROM ${d}.${t} WHERE run < ${num(run)}`).join(' UNION ALL ')}) ORDER BY run DESC`,
  );
  for (const { run: r } of old.slice(KEEP_RUNS)) {
    const p = BigInt(r).toString();
    for (const table of TABLES) {
      await client.command({ query: `ALTER TABLE ${d}.${localName(table)} ON CLUSTER ${c} DROP PARTITION ${p}`, clickhouse_settings: CLUSTER_HOUSEKEEPING });
    }
  }
}
