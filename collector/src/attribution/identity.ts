// Identity resolution: which visits belong to the person behind each conversion.
// A deal reaches its visitor through any id the evidence ties together — the
// deal's own visitor / GA / Metrika ids and contact hashes, identity_links rows
// (form leads, inbound e-mail, CRM contacts), and the GA / Metrika ids a visitor's
// own hits carried. All of them are merged into connected components in Node
// (union-find); each component's tracker visitor ids are written with each of its
// conversions to attribution_conversions, and one join of hits with those ids
// writes each conversion's touches to attribution_touches, where the credit SQL
// of every model picks them up.
import { randomInt } from 'node:crypto';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { ident, num } from '../clickhouse/sql.js';
import { UnionFind } from './union-find.js';

export type DealRow = {
  source: string;
  deal_id: string;
  created: number;
  outcome: string;
  stage: string;
  stages_passed: string[];
  lost_from_stage: string;
  amount_minor: string | number;
  contact_ids: string[];
  visitor_id: string;
  ga_cid: string;
  ym_uid: string;
  email_hashes: string[];
  phone_hashes: string[];
};
export type LinkRow = { kind_a: string; id_a: string; kind_b: string; id_b: string };
export type HitIdRow = { visitor_id: string; ga_cid: string; ym_uid: string };
export type LeadRow = { visitor_id: string; ts: number };
export type ResolveInput = { deals: DealRow[]; links: LinkRow[]; hitIds: HitIdRow[]; leads: LeadRow[] };

export type ConversionRow = {
  conv_key: string;
  conv_kind: 'deal' | 'lead';
  /** Unix seconds. */
  conv_ts: number;
  deal_source: string;
  deal_id: string;
  outcome: string;
  stage: string;
  stages_passed: string[];
  lost_from_stage: string;
  amount_minor: number;
  revenue_minor: number;
  visitor_ids: string[];
};

/** Revenue rule: a won deal brings its current amount; every other outcome (returned included) brings 0. */
export function revenueOf(outcome: string, amountMinor: number): number {
  return outcome === 'won' ? amountMinor : 0;
}

/** Pure part of the resolution: the conversions and the visitor ids of each. */
export function resolveConversions(input: ResolveInput): ConversionRow[] {
  const uf = new UnionFind();
  // Visitor ids are case-insensitive (the collector stores them upper case).
  const visitor = (id: string) => uf.id('visitor', id.toUpperCase());
  const at = (kind: string, id: string) => (kind === 'visitor' ? visitor(id) : uf.id(kind, id));
  const dealIds = input.deals.map((d) => {
    const me = uf.id('deal', `${d.source}:${d.deal_id}`);
    if (d.visitor_id) uf.union(me, visitor(d.visitor_id));
    if (d.ga_cid) uf.union(me, uf.id('ga', d.ga_cid));
    if (d.ym_uid) uf.union(me, uf.id('ym', d.ym_uid));
    for (const h of d.email_hashes) if (h) uf.union(me, uf.id('email', h));
    for (const h of d.phone_hashes) if (h) uf.union(me, uf.id('phone', h));
    for (const c of d.contact_ids) if (c) uf.union(me, uf.id('contact', c.includes(':') ? c : `${d.source}:${c}`));
    return me;
  });
  for (const l of input.links) uf.union(at(l.kind_a, l.id_a), at(l.kind_b, l.id_b));
  for (const h of input.hitIds) {
    const v = visitor(h.visitor_id);
    if (h.ga_cid) uf.union(v, uf.id('ga', h.ga_cid));
    if (h.ym_uid) uf.union(v, uf.id('ym', h.ym_uid));
  }
  // Earliest form lead per component.
  const leadTs = new Map<number, number>();
  for (const l of input.leads) {
    const r = uf.find(visitor(l.visitor_id));
    const was = leadTs.get(r);
    if (was === undefined || l.ts < was) leadTs.set(r, l.ts);
  }
  const dealRoots = dealIds.map((i) => uf.find(i));
  const wanted = new Set<number>([...leadTs.keys(), ...dealRoots]);
  const visitors = new Map<number, string[]>();
  for (let i = 0; i < uf.count; i++) {
    if (uf.kinds[i] !== 'visitor') continue;
    const r = uf.find(i);
    if (!wanted.has(r)) continue;
    const list = visitors.get(r);
    if (list) list.push(uf.values[i]!);
    else visitors.set(r, [uf.values[i]!]);
  }
  const out: ConversionRow[] = [];
  const withDeal = new Set<number>();
  input.deals.forEach((d, n) => {
    const r = dealRoots[n]!;
    withDeal.add(r);
    const amount = Number(d.amount_minor);
    out.push({
      conv_key: `deal:${d.source}:${d.deal_id}`,
      conv_kind: 'deal',
      conv_ts: d.created,
      deal_source: d.source,
      deal_id: d.deal_id,
      outcome: d.outcome,
      stage: d.stage,
      stages_passed: d.stages_passed,
      lost_from_stage: d.lost_from_stage,
      amount_minor: amount,
      revenue_minor: revenueOf(d.outcome, amount),
      visitor_ids: (visitors.get(r) ?? []).sort(),
    });
  });
  // A form lead counts on its own only when its person has no deal: otherwise the deal is that lead.
  for (const [r, ts] of leadTs) {
    if (withDeal.has(r)) continue;
    const ids = (visitors.get(r) ?? []).sort();
    out.push({
      conv_key: `lead:${ids[0] ?? r}`,
      conv_kind: 'lead',
      conv_ts: ts,
      deal_source: '',
      deal_id: '',
      outcome: '',
      stage: '',
      stages_passed: [],
      lost_from_stage: '',
      amount_minor: 0,
      revenue_minor: 0,
      visitor_ids: ids,
    });
  }
  return out;
}

function inputQueries(db: string) {
  const d = ident(db);
  const referenced = (kind: 'ga' | 'ym', col: string) =>
    `SELECT ${col} FROM ${d}.deals WHERE ${col} != '' UNION ALL ` +
    `SELECT id_a FROM ${d}.identity_links WHERE kind_a = '${kind}' UNION ALL ` +
    `SELECT id_b FROM ${d}.identity_links WHERE kind_b = '${kind}' UNION ALL ` +
    `SELECT ${col} FROM ${d}.hit_ids WHERE ${col} != '' GROUP BY ${col} HAVING min(visitor_id) != max(visitor_id)`;
  return {
    deals: `SELECT source, deal_id, toUnixTimestamp(argMax(created_at, version)) AS created,
        argMax(deleted, version) AS gone, argMax(outcome, version) AS outcome, argMax(stage, version) AS stage,
        argMax(stages_passed, version) AS stages_passed, argMax(lost_from_stage, version) AS lost_from_stage,
        argMax(amount_minor, version) AS amount_minor, argMax(contact_ids, version) AS contact_ids,
        argMax(visitor_id, version) AS visitor_id, argMax(ga_cid, version) AS ga_cid, argMax(ym_uid, version) AS ym_uid,
        argMax(email_hashes, version) AS email_hashes, argMax(phone_hashes, version) AS phone_hashes
      FROM ${d}.deals GROUP BY source, deal_id HAVING gone = 0`,
    links: `SELECT kind_a, id_a, kind_b, id_b FROM ${d}.identity_links`,
    // Only the GA / Metrika ids that can join something: shared by visitors, or named by a deal or a link.
    hitIds: `SELECT visitor_id, ga_cid, ym_uid FROM ${d}.hit_ids
      WHERE ((ga_cid != '' AND ga_cid IN (${referenced('ga', 'ga_cid')}))
        OR (ym_uid != '' AND ym_uid IN (${referenced('ym', 'ym_uid')})))
      GROUP BY visitor_id, ga_cid, ym_uid`,
    leads: `SELECT visitor_id, toUnixTimestamp(min(ts)) AS ts FROM ${d}.hits WHERE kind = 'lead' AND visitor_id != '' GROUP BY visitor_id`,
    fingerprint: `SELECT concat(
        toString((SELECT count() FROM ${d}.hits)), '/', toString((SELECT max(received_at) FROM ${d}.hits)), '/',
        toString((SELECT count() FROM ${d}.deals)), '/', toString((SELECT max(received_at) FROM ${d}.deals)), '/',
        toString((SELECT count() FROM ${d}.identity_links)), '/', toString((SELECT max(linked_at) FROM ${d}.identity_links))) AS f`,
  };
}

/** The longest look-back a report may ask for: touches older than this are not kept. */
export const MAX_WINDOW_DAYS = 365;

/** The one join of all visits with a run's visitor ids (the level-1 join of the credit SQL, done once per run). */
export function touchesInsertSql(db: string, run: number): string {
  const d = ident(db);
  const r = num(run);
  return `INSERT INTO ${d}.attribution_touches (run, conv_key, conv_ts, ts, ts_ms, channel, source, medium, campaign)
SELECT ${r}, conv_key, conv_ts, ts, ts_ms, channel, source, medium, campaign
FROM (
  SELECT visitor_id, ts, ts_ms, channel, source, medium, campaign FROM ${d}.hits
  WHERE kind = 'visit' AND visitor_id != ''
) ALL INNER JOIN (
  SELECT conv_key, conv_ts, arrayJoin(visitor_ids) AS visitor_id FROM ${d}.attribution_conversions WHERE run = ${r}
) USING visitor_id
WHERE ts <= conv_ts AND ts > conv_ts - ${MAX_WINDOW_DAYS * 86400}`;
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

/** Runs kept besides the newest, so a report that started on one is not cut off. */
const KEEP_RUNS = 2;

export type ResolveResult = {
  run: number;
  conversions: number;
  fresh: boolean;
  ms: number;
  /** Where a fresh resolution spent its time (ms): reading inputs, union-find, writing conversions, joining touches. */
  steps?: { read: number; merge: number; write: number; touches: number };
};

async function resolveNow(client: ClickHouseClient, db: string, fingerprint: string): Promise<ResolveResult> {
  const t0 = performance.now();
  const q = inputQueries(db);
  const [deals, links, hitIds, leads] = await Promise.all([
    rows<DealRow>(client, q.deals),
    rows<LinkRow>(client, q.links),
    rows<HitIdRow>(client, q.hitIds),
    rows<LeadRow>(client, q.leads),
  ]);
  const t1 = performance.now();
  const conversions = resolveConversions({ deals, links, hitIds, leads });
  const t2 = performance.now();
  const run = Date.now() * 1000 + randomInt(1000);
  const d = ident(db);
  const CHUNK = 50_000;
  for (let i = 0; i < conversions.length; i += CHUNK) {
    await client.insert({
      table: `${d}.attribution_conversions`,
      values: conversions.slice(i, i + CHUNK).map((c) => ({ run, ...c })),
      format: 'JSONEachRow',
    });
  }
  const t3 = performance.now();
  await client.command({ query: touchesInsertSql(db, run) });
  const t4 = performance.now();
  const finishedAt = new Date().toISOString().slice(0, 19).replace('T', ' ');
  await client.insert({
    table: `${d}.attribution_runs`,
    values: [{ run, fingerprint, conversions: conversions.length, finished_at: finishedAt }],
    format: 'JSONEachRow',
  });
  const old = await rows<{ run: string }>(client, `SELECT DISTINCT run FROM ${d}.attribution_conversions WHERE run < ${run} ORDER BY run DESC`);
  for (const r of old.slice(KEEP_RUNS)) {
    for (const table of ['attribution_conversions', 'attribution_touches']) {
      await client.command({ query: `ALTER TABLE ${d}.${table} DROP PARTITION ${BigInt(r.run).toString()}` });
    }
  }
  const steps = { read: t1 - t0, merge: t2 - t1, write: t3 - t2, touches: t4 - t3 };
  return { run, conversions: conversions.length, fresh: true, ms: performance.now() - t0, steps };
}

const inFlight = new Map<string, Promise<ResolveResult>>();

/**
 * Makes sure the newest resolution reflects the current hits, deals and links:
 * resolves again when their fingerprint (row counts and newest arrival) changed,
 * unless the newest resolution is younger than `maxAgeSeconds` (ATTRIBUTION_MAX_AGE_SECONDS):
 * on a busy site every visit changes the fingerprint.
 * Concurrent callers in one process share one resolution.
 */
export async function ensureResolved(client: ClickHouseClient, db: string, maxAgeSeconds = 0): Promise<ResolveResult> {
  const pending = inFlight.get(db);
  if (pending) return pending;
  const p = (async () => {
    const t0 = performance.now();
    const d = ident(db);
    const [fp] = await rows<{ f: string }>(client, inputQueries(db).fingerprint);
    const fingerprint = fp?.f ?? '';
    const [last] = await rows<{ run: string; fingerprint: string; conversions: string; age: string }>(
      client,
      `SELECT run, fingerprint, conversions, toUInt32(now()) - toUInt32(finished_at) AS age FROM ${d}.attribution_runs ORDER BY run DESC LIMIT 1`,
    );
    if (last && (last.fingerprint === fingerprint || Number(last.age) < maxAgeSeconds)) {
      return { run: Number(last.run), conversions: Number(last.conversions), fresh: false, ms: performance.now() - t0 };
    }
    return resolveNow(client, db, fingerprint);
  })();
  inFlight.set(db, p);
  try {
    return await p;
  } finally {
    inFlight.delete(db);
  }
}
