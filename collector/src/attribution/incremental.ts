// Incremental identity resolution. After new deals, links or hits, only the
// components of the identity graph they touch are resolved again; every other
// conversion keeps the rows an earlier run of the generation wrote (snapshot.ts).
//   1. ClickHouse's clock, and whether anything arrived that a run cannot see by
//      arrival time: rows stored late with an older arrival (the counts of
//      runs.ts) or deleted (a mutation). Then a full resolution is made instead.
//   2. What arrived since the last run (from its late_from): deals (their
//      current version, deleted or not), links, and the visitors of new hits
//      with their GA / Metrika ids and whether they sent a form lead.
//   3. The touched part of the graph, widened until closed: the components of
//      the ids found (attribution_ids), all their ids, and every edge of those
//      ids (current deals, links, hit_ids pairs); an endpoint found on the way
//      is looked up in turn. Ids new to the graph widen through hit_ids, since a
//      full resolution keeps a GA / Metrika id only once it joins two visitors.
//   4. Union-find over that part alone (identity.ts), the same code as a full run.
//   5. The conversions of the part written anew (writeRun, partial: the joins read
//      only their deals and their visitors' visits), those gone written as removed.
// The components are closed sets: no edge leaves one. So the part, with every
// edge of its ids, is closed too, and resolving it alone gives what resolving
// everything would give for it. Every id of a touched component is written again
// under a new component, so a component is either wholly current or wholly replaced.
import { queryRows as rows, type ClickHouseClient, type ClickHouseSettings } from '../clickhouse/client.js';
import { ident, num, slices, strList, toDateTimeString } from '../clickhouse/sql.js';
import { resolveGraph, type DealIds, type HitIdRow, type LeadRow, type LinkRow } from './identity.js';
import { currentDeals, DEAL_ID_COLUMNS, LATE_SECONDS, newRunId, startClock, visitorsHitsWhere, writeRun, type Steps } from './resolve.js';
import { grewSince, mutationsSql, recordRun, type Run } from './runs.js';
import { finishedRunsSql, inSnapshot, type Snapshot } from './snapshot.js';

/** Rounds of widening before a full resolution is made instead (a long chain found one step at a time). */
const MAX_ROUNDS = 10;
/** Past this many ids in the touched part, a full resolution is made instead: reading them by lists costs more. */
const MAX_PART_IDS = 100_000;

/** Why a run was full instead of incremental (counted in metrics). */
export type FullReason = 'late_rows' | 'deleted_rows' | 'too_wide';

type Id = { kind: string; id: string };
const keyOf = (kind: string, id: string) => `${kind}\u0000${id}`;
const fromKey = (k: string): Id => {
  const at = k.indexOf('\u0000');
  return { kind: k.slice(0, at), id: k.slice(at + 1) };
};

/** The identity ids a deal names, as identity.ts merges them. */
function dealEdges(d: DealIds): Id[] {
  const out: Id[] = [];
  if (d.visitor_id) out.push({ kind: 'visitor', id: d.visitor_id.toUpperCase() });
  if (d.ga_cid) out.push({ kind: 'ga', id: d.ga_cid });
  if (d.ym_uid) out.push({ kind: 'ym', id: d.ym_uid });
  for (const h of d.email_hashes) if (h) out.push({ kind: 'email', id: h });
  for (const h of d.phone_hashes) if (h) out.push({ kind: 'phone', id: h });
  for (const c of d.contact_ids) if (c) out.push({ kind: 'contact', id: c.includes(':') ? c : `${d.source}:${c}` });
  return out;
}

const linkEnds = (l: LinkRow): Id[] => [
  { kind: l.kind_a, id: l.kind_a === 'visitor' ? l.id_a.toUpperCase() : l.id_a },
  { kind: l.kind_b, id: l.kind_b === 'visitor' ? l.id_b.toUpperCase() : l.id_b },
];

const pairEnds = (p: HitIdRow): Id[] => [
  { kind: 'visitor', id: p.visitor_id.toUpperCase() },
  ...(p.ga_cid ? [{ kind: 'ga', id: p.ga_cid }] : []),
  ...(p.ym_uid ? [{ kind: 'ym', id: p.ym_uid }] : []),
];

/**
 * One incremental run on top of `last`, for inputs described by `fingerprint`.
 * Gives the run, or why a full resolution must be made instead.
 */
export async function resolveIncrementally(
  client: ClickHouseClient,
  db: string,
  last: Run,
  fingerprint: string,
  settings: ClickHouseSettings = {},
  cluster = '',
  lateSeconds = LATE_SECONDS,
): Promise<(Run & { steps: Steps }) | { full: FullReason; detail?: string }> {
  const t0 = performance.now();
  // Named at the start: runs of several collectors at once are ordered as they read, so the newest reading wins.
  const run = newRunId();
  const d = ident(db);
  const base: Snapshot = { generation: last.generation, run: last.run };
  const read = <T>(sql: string) => rows<T>(client, sql, settings);
  const [clock, [deletes]] = await Promise.all([
    startClock(client, db, settings, lateSeconds, last.lateFrom),
    read<{ n: string }>(`SELECT ${mutationsSql(db, `toDateTime(${num(last.startedAt)})`)} AS n`),
  ]);
  const { now, lateCounts: next, earlierCounts: then } = clock;
  if (grewSince(last.lateCounts, then!)) return { full: 'late_rows', detail: `rows (hits/deals/links) received before ${last.lateFrom}: ${last.lateCounts} then, ${then} now` };
  if (Number(deletes!.n) > 0) return { full: 'deleted_rows' };
  const since = `toDateTime(${num(last.lateFrom)})`;
  const [newDeals, newLinks, newHits] = await Promise.all([
    read<DealIds>(currentDeals(d, DEAL_ID_COLUMNS, `(source, deal_id) GLOBAL IN (SELECT source, deal_id FROM ${d}.deals WHERE received_at >= ${since})`, true)),
    read<LinkRow>(`SELECT kind_a, id_a, kind_b, id_b FROM ${d}.identity_links WHERE linked_at >= ${since}`),
    read<HitIdRow & { lead: number }>(
      `SELECT visitor_id, ga_cid, ym_uid, max(kind = 'lead') AS lead FROM ${d}.hits WHERE received_at >= ${since} AND visitor_id != '' GROUP BY visitor_id, ga_cid, ym_uid`,
    ),
  ]);

  // 3. The touched part of the graph.
  const finished = finishedRunsSql(db, base);
  const compOf = new Map<string, string>(); // looked up: id -> component `<run>:<comp>` ('' when not in the graph)
  const part = new Set<string>(); // ids of the part
  const comps = new Set<string>();
  const deals = new Map<string, DealIds>();
  const links = new Map<string, LinkRow>();
  const pairs = new Map<string, HitIdRow>();
  let pending = new Set<string>();
  // Visitors known only from new plain visits (no form lead, no GA / Metrika id): they matter only if in the graph.
  const plain = new Set<string>();
  const want = (ids: Id[]) =>
    ids.forEach((i) => {
      pending.add(keyOf(i.kind, i.id));
      plain.delete(keyOf(i.kind, i.id));
    });
  for (const dl of newDeals) want([{ kind: 'deal', id: `${dl.source}:${dl.deal_id}` }]);
  for (const l of newLinks) want(linkEnds(l));
  // A new hit's visitor matters when it is in the graph, sent a form lead, or carries a GA / Metrika id.
  const plainHit = (h: HitIdRow & { lead: number }) => Number(h.lead) !== 1 && !h.ga_cid && !h.ym_uid;
  for (const h of newHits.filter((x) => !plainHit(x))) {
    const v = h.visitor_id.toUpperCase();
    if (h.ga_cid || h.ym_uid) pairs.set(`${v}\u0000${h.ga_cid}\u0000${h.ym_uid}`, { visitor_id: v, ga_cid: h.ga_cid, ym_uid: h.ym_uid });
    want(pairEnds(h));
  }
  for (const h of newHits.filter(plainHit)) {
    const k = keyOf('visitor', h.visitor_id.toUpperCase());
    if (!pending.has(k)) plain.add(k);
    pending.add(k);
  }
  const wasUnknown = new Set<string>();
  for (let round = 0; pending.size; round++) {
    if (round === MAX_ROUNDS || part.size > MAX_PART_IDS) return { full: 'too_wide' };
    const ask = [...pending].filter((k) => !part.has(k));
    pending = new Set();
    for (const list of slices(ask.filter((k) => !compOf.has(k)))) {
      for (const k of list) compOf.set(k, '');
      // The component as `<run>:<comp>`, named apart from the column (an alias would shadow it in WHERE).
      const found = await read<{ kind: string; id: string; at: string }>(
        `SELECT kind, id, argMax(concat(toString(run), ':', toString(comp)), run) AS at FROM ${d}.attribution_ids
         WHERE generation = ${num(base.generation)} AND run GLOBAL IN (${finished}) AND id IN (${strList(list.map((k) => fromKey(k).id))})
         GROUP BY kind, id`,
      );
      for (const f of found) if (compOf.has(keyOf(f.kind, f.id))) compOf.set(keyOf(f.kind, f.id), f.at);
    }
    const fresh: string[] = [];
    const newComps = new Set<string>();
    for (const k of ask) {
      const c = compOf.get(k)!;
      if (c) {
        if (!comps.has(c)) newComps.add(c);
        continue;
      }
      // A visitor of a new plain visit, new to the graph: nothing to join.
      if (plain.has(k)) continue;
      wasUnknown.add(k);
      if (!part.has(k)) fresh.push(k);
      part.add(k);
    }
    for (const list of slices([...newComps])) {
      for (const c of list) comps.add(c);
      const members = await read<{ kind: string; id: string; at: string }>(
        `SELECT kind, id, concat(toString(run), ':', toString(comp)) AS at FROM ${d}.attribution_ids
         WHERE generation = ${num(base.generation)} AND (run, comp) IN (${pairsList(list)})`,
      );
      for (const m of members) {
        const k = keyOf(m.kind, m.id);
        compOf.set(k, m.at);
        plain.delete(k);
        if (!part.has(k)) fresh.push(k);
        part.add(k);
      }
    }
    // Every edge of the ids new to the part; an end outside it is looked up next round.
    const of = (kind: string) => fresh.map(fromKey).filter((i) => i.kind === kind).map((i) => i.id);
    const anyIds = fresh.map((k) => fromKey(k).id);
    const [dealRows, linkRows, pairRows] = await Promise.all([
      inSlices(of('deal'), (list) => read<DealIds>(currentDeals(d, DEAL_ID_COLUMNS, `concat(source, ':', deal_id) IN (${list})`))),
      inSlices(anyIds, (list) => read<LinkRow>(`SELECT kind_a, id_a, kind_b, id_b FROM ${d}.identity_links WHERE id_a IN (${list}) OR id_b IN (${list})`)),
      inSlices([...of('visitor'), ...of('ga'), ...of('ym')], (list) =>
        read<HitIdRow>(
          `SELECT visitor_id, ga_cid, ym_uid FROM ${d}.hit_ids WHERE (visitor_id IN (${list}) OR ga_cid IN (${list}) OR ym_uid IN (${list})) AND (ga_cid != '' OR ym_uid != '') GROUP BY visitor_id, ga_cid, ym_uid`,
        ),
      ),
    ]);
    const reach = (ids: Id[]) => want(ids.filter((i) => !part.has(keyOf(i.kind, i.id))));
    for (const dl of dealRows) {
      deals.set(`${dl.source}:${dl.deal_id}`, dl);
      reach(dealEdges(dl));
    }
    for (const l of linkRows) {
      const ends = linkEnds(l);
      if (!ends.some((e) => part.has(keyOf(e.kind, e.id)))) continue; // an id of another kind, equal by chance
      links.set(ends.map((e) => keyOf(e.kind, e.id)).join('\u0001'), l);
      reach(ends);
    }
    for (const p of pairRows) {
      const v = p.visitor_id.toUpperCase();
      pairs.set(`${v}\u0000${p.ga_cid}\u0000${p.ym_uid}`, { visitor_id: v, ga_cid: p.ga_cid, ym_uid: p.ym_uid });
      reach(pairEnds(p));
    }
  }

  /**
   * The conversions the part had in the last run: those of its deals, and those whose visitors include
   * one of its visitors. A visitor's member rows of older runs name keys it may have left since, so the
   * keys are only candidates; each one's current row (the snapshot, narrowed to them) decides.
   */
  const conversionsOf = async (visitorIds: string[], dealKeys: string[]): Promise<Set<string>> => {
    const g = num(base.generation);
    const candidates = await inSlices(visitorIds, (list) =>
      read<{ conv_key: string }>(`SELECT DISTINCT conv_key FROM ${d}.attribution_members WHERE generation = ${g} AND visitor_id IN (${list})`),
    );
    const mine = new Set(visitorIds);
    const current = await inSlices([...dealKeys, ...candidates.map((c) => c.conv_key)], (list) =>
      read<{ conv_key: string; visitor_ids: string[] }>(
        `SELECT conv_key, visitor_ids FROM ${d}.attribution_conversions WHERE ${inSnapshot(db, base, list)} AND removed = 0`,
      ),
    );
    const deals = new Set(dealKeys);
    return new Set(current.filter((c) => deals.has(c.conv_key) || c.visitor_ids.some((v) => mine.has(v))).map((c) => c.conv_key));
  };

  // Form leads of the part's visitors, and the conversions the part had in the last run.
  const visitors = [...part].map(fromKey).filter((i) => i.kind === 'visitor').map((i) => i.id);
  const oldVisitors = [...part].filter((k) => !wasUnknown.has(k)).map(fromKey).filter((i) => i.kind === 'visitor').map((i) => i.id);
  const dealKeys = [...part].map(fromKey).filter((i) => i.kind === 'deal').map((i) => `deal:${i.id}`);
  const [leads, before] = await Promise.all([
    inSlices(visitors, (list) =>
      read<LeadRow>(
        `SELECT visitor_id, toUnixTimestamp(min(ts)) AS ts FROM ${d}.hits ${visitorsHitsWhere(`visitor_id IN (${list})`, `kind = 'lead'`, cluster !== '')} GROUP BY visitor_id`,
      ),
    ),
    conversionsOf(oldVisitors, dealKeys),
  ]);
  const t1 = performance.now();

  // 4. Union-find over the part.
  const graph = resolveGraph({ deals: [...deals.values()], links: [...links.values()], hitIds: [...pairs.values()], leads, ids: [...part].map(fromKey) });
  // A component all new to the graph, with no conversion and one visitor at most, joins nothing:
  // a full resolution would not keep it either (a visitor's own GA / Metrika id).
  const byComp = new Map<number, { ids: typeof graph.ids; visitors: number; known: boolean }>();
  for (const i of graph.ids) {
    const c = byComp.get(i.comp) ?? byComp.set(i.comp, { ids: [], visitors: 0, known: false }).get(i.comp)!;
    c.ids.push(i);
    if (i.kind === 'visitor') c.visitors++;
    if (!wasUnknown.has(keyOf(i.kind, i.id))) c.known = true;
  }
  const converting = new Set(graph.conversions.map((c) => c.comp));
  const ids = [...byComp].filter(([comp, c]) => c.known || c.visitors > 1 || converting.has(comp)).flatMap(([, c]) => c.ids);
  const after = new Set(graph.conversions.map((c) => c.conv_key));
  const removed = [...before].filter((k) => !after.has(k));
  const t2 = performance.now();

  // 5. Write and record.
  const at = { generation: base.generation, run };
  const { write, join } = await writeRun(client, db, at, { conversions: graph.conversions, ids, removed }, settings, true, cluster !== '');
  const done = {
    ...at,
    kind: 'incremental' as const,
    fingerprint,
    conversions: last.conversions - before.size + after.size,
    finishedAt: toDateTimeString(Date.now()),
    startedAt: now,
    lateFrom: now - lateSeconds,
    lateCounts: next,
  };
  await recordRun(client, db, done);
  return { ...done, ageSeconds: 0, generationStartedAt: last.generationStartedAt, steps: { read: t1 - t0, merge: t2 - t1, write, join } };
}

/**
 * Components `<run>:<comp>` as an IN list of pairs; one pair is written twice, since
 * `IN ((r, c))` would read as the two values r and c, not as one pair.
 */
function pairsList(comps: string[]): string {
  const pairs = comps.map((c) => `(${c.split(':').map((x) => num(Number(x))).join(', ')})`);
  return (pairs.length === 1 ? [pairs[0], pairs[0]] : pairs).join(', ');
}

/** Reads `read(list)` for each slice of `values` (as an IN list), side by side, and joins the rows. */
async function inSlices<T>(values: string[], read: (list: string) => Promise<T[]>): Promise<T[]> {
  const parts = await Promise.all(slices([...new Set(values)]).map((s) => read(strList(s))));
  return parts.flat();
}
