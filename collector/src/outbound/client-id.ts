// The ad system's client id of a deal that carries none of its own: the
// identity graph ties the deal to visitor ids, and a visitor's hits carried the
// ad systems' ids (the `_ga` and `_ym_uid` cookies the tracker read: the hits'
// columns ga_cid and ym_uid). The visitor ids are the deal's own and those the
// newest identity resolution gives the deal (attribution/resolve.ts: the
// person's every visitor id, through e-mails, phones, contacts and form leads).
// Of several ids, the one of the most recent hit wins: the browser the person
// used last. GA4 asks for GA client ids, Metrika for its ClientIDs; the rule is
// the same for both, only the column differs.
import { queryRows, type ClickHouseClient } from '../clickhouse/client.js';
import { slices, strList } from '../clickhouse/sql.js';
import { inSnapshot } from '../attribution/snapshot.js';

/** A deal without an id of its own: `subject` is `<source>:<deal_id>`, `visitorId` its own ('' when none). */
export type Asking = { subject: string; visitorId: string };

/** The hits' column of each ad system's id: GA's client id, Metrika's ClientID (`_ym_uid`). */
export type IdColumn = 'ga_cid' | 'ym_uid';

/** Ids per query: keeps the SQL well under max_query_size. */
const PER_QUERY = 1000;

async function inChunks<T>(ids: string[], read: (list: string) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (const list of slices(ids, PER_QUERY)) out.push(...(await read(strList(list))));
  return out;
}

/** The ids in `column` by subject, for the deals the graph ties to one. */
export async function graphClientIds(ch: ClickHouseClient, deals: Asking[], column: IdColumn): Promise<Map<string, string>> {
  const visitors = new Map<string, Set<string>>(deals.map((d) => [d.subject, new Set(d.visitorId ? [d.visitorId.toUpperCase()] : [])]));
  // The resolution names a deal's conversion `deal:<source>:<deal_id>` (resolve.ts).
  const members = await inChunks(
    deals.map((d) => `deal:${d.subject}`),
    (list) =>
      queryRows<{ conv_key: string; visitor_id: string }>(
        ch,
        `SELECT conv_key, visitor_id FROM attribution_members
         WHERE ${inSnapshot('')} AND conv_key IN (${list}) AND visitor_id != ''`,
      ),
  );
  for (const m of members) visitors.get(m.conv_key.slice('deal:'.length))?.add(m.visitor_id);
  const all = [...new Set([...visitors.values()].flatMap((s) => [...s]))];
  if (!all.length) return new Map();
  // hit_ids (one row per visitor and id pair, sorted by visitor) first; hits only to tell several apart.
  const pairs = await inChunks(all, (list) =>
    queryRows<{ visitor_id: string; cid: string }>(ch, `SELECT DISTINCT visitor_id, ${column} AS cid FROM hit_ids WHERE visitor_id IN (${list}) AND ${column} != ''`),
  );
  const idsOf = new Map<string, string[]>();
  for (const p of pairs) idsOf.set(p.visitor_id, [...(idsOf.get(p.visitor_id) ?? []), p.cid]);
  const candidates = new Map<string, string[]>();
  for (const [subject, ids] of visitors) {
    const found = [...new Set([...ids].flatMap((v) => idsOf.get(v) ?? []))];
    if (found.length) candidates.set(subject, found);
  }
  const several = [...candidates.values()].some((found) => found.length > 1);
  const seen = several ? await lastSeen(ch, [...idsOf.keys()], column) : new Map<string, number>();
  // Newest hit first; ids seen at the same second, by the id itself, so the choice never varies.
  const rank = (id: string) => seen.get(id) ?? 0;
  const newest = (found: string[]) => [...found].sort((a, b) => rank(b) - rank(a) || (a < b ? 1 : -1))[0]!;
  return new Map([...candidates].map(([subject, found]) => [subject, newest(found)]));
}

/** When each id was last seen on a hit of these visitors (unix seconds). */
async function lastSeen(ch: ClickHouseClient, visitorIds: string[], column: IdColumn): Promise<Map<string, number>> {
  const rows = await inChunks(visitorIds, (list) =>
    queryRows<{ cid: string; seen: number | string }>(
      ch,
      `SELECT ${column} AS cid, toUInt32(max(ts)) AS seen FROM hits WHERE visitor_id IN (${list}) AND ${column} != '' GROUP BY ${column}`,
    ),
  );
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.cid, Math.max(out.get(r.cid) ?? 0, Number(r.seen)));
  return out;
}
