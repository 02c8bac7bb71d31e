// The GA client id of a deal that carries none of its own: the identity graph
// ties the deal to visitor ids, and a visitor's hits carried the GA ids (the
// `_ga` cookie the tracker read). The visitor ids are the deal's own and those
// the newest identity resolution gives the deal (attribution/resolve.ts: the
// person's every visitor id, through e-mails, phones, contacts and form leads).
// Of several GA ids, the one of the most recent hit wins: the browser the person
// used last.
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import { str } from '../../clickhouse/sql.js';

/** A deal without a GA id of its own: `subject` is `<source>:<deal_id>`, `visitorId` its own ('' when none). */
export type Asking = { subject: string; visitorId: string };

/** Ids per query: keeps the SQL well under max_query_size. */
const PER_QUERY = 1000;

async function inChunks<T>(ids: string[], read: (list: string) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += PER_QUERY) out.push(...(await read(ids.slice(i, i + PER_QUERY).map(str).join(','))));
  return out;
}

/** GA client ids by subject, for the deals the graph ties to one. */
export async function graphClientIds(ch: ClickHouseClient, deals: Asking[]): Promise<Map<string, string>> {
  const visitors = new Map<string, Set<string>>(deals.map((d) => [d.subject, new Set(d.visitorId ? [d.visitorId.toUpperCase()] : [])]));
  // The resolution names a deal's conversion `deal:<source>:<deal_id>` (resolve.ts).
  const members = await inChunks(
    deals.map((d) => `deal:${d.subject}`),
    (list) =>
      queryRows<{ conv_key: string; visitor_id: string }>(
        ch,
        `SELECT conv_key, visitor_id FROM attribution_members
         WHERE run = (SELECT max(run) FROM attribution_runs) AND conv_key IN (${list}) AND visitor_id != ''`,
      ),
  );
  for (const m of members) visitors.get(m.conv_key.slice('deal:'.length))?.add(m.visitor_id);
  const all = [...new Set([...visitors.values()].flatMap((s) => [...s]))];
  if (!all.length) return new Map();
  // hit_ids (one row per visitor and id pair, sorted by visitor) first; hits only to tell several apart.
  const pairs = await inChunks(all, (list) =>
    queryRows<{ visitor_id: string; ga_cid: string }>(ch, `SELECT DISTINCT visitor_id, ga_cid FROM hit_ids WHERE visitor_id IN (${list}) AND ga_cid != ''`),
  );
  const gaOf = new Map<string, string[]>();
  for (const p of pairs) gaOf.set(p.visitor_id, [...(gaOf.get(p.visitor_id) ?? []), p.ga_cid]);
  const candidates = new Map<string, string[]>();
  for (const [subject, ids] of visitors) {
    const ga = [...new Set([...ids].flatMap((v) => gaOf.get(v) ?? []))];
    if (ga.length) candidates.set(subject, ga);
  }
  const several = [...candidates.values()].some((ga) => ga.length > 1);
  const seen = several ? await lastSeen(ch, [...gaOf.keys()]) : new Map<string, number>();
  // Newest hit first; ids seen at the same second, by the id itself, so the choice never varies.
  const rank = (id: string) => seen.get(id) ?? 0;
  const newest = (ga: string[]) => [...ga].sort((a, b) => rank(b) - rank(a) || (a < b ? 1 : -1))[0]!;
  return new Map([...candidates].map(([subject, ga]) => [subject, newest(ga)]));
}

/** When each GA id was last seen on a hit of these visitors (unix seconds). */
async function lastSeen(ch: ClickHouseClient, visitorIds: string[]): Promise<Map<string, number>> {
  const rows = await inChunks(visitorIds, (list) =>
    queryRows<{ ga_cid: string; seen: number | string }>(
      ch,
      `SELECT ga_cid, toUInt32(max(ts)) AS seen FROM hits WHERE visitor_id IN (${list}) AND ga_cid != '' GROUP BY ga_cid`,
    ),
  );
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.ga_cid, Math.max(out.get(r.ga_cid) ?? 0, Number(r.seen)));
  return out;
}
