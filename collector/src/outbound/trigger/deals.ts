// The deals a visit is tied to, by the identity graph attribution uses, read
// the other way round (visitor → deals; outbound/ga4 reads deal → visitors):
//   - deals whose own visitor id, GA client id or Metrika id is the visit's;
//   - deals the newest identity resolution puts with the visit's visitor id
//     (attribution/resolve.ts: through e-mails, phones, contacts, form leads and
//     the GA / Metrika ids other hits carried). A link learned since that
//     resolution counts once the next one has run (one runs after each CRM
//     delivery).
// The deals are read in their current version: an id an older version carried
// ties nothing.
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import { slices, str, strList } from '../../clickhouse/sql.js';
import { inSnapshot } from '../../attribution/snapshot.js';
import type { DealNow } from './decide.js';
import type { Visit } from './visits.js';

/** The current version of a tied deal, with the ids that tie it. */
export type TiedDeal = DealNow & { source: string; dealId: string; version: number; visitorId: string; gaCid: string; ymUid: string };

/** Ids per query: keeps the SQL well under max_query_size. */
const PER_QUERY = 500;

const chunks = <T>(list: T[]): T[][] => slices(list, PER_QUERY);
const inList = strList;
const distinct = (values: string[]) => [...new Set(values.filter(Boolean))];

/** `deal:<source>:<deal_id>`, the resolution's key of a deal's conversion (resolve.ts); source ids hold no `:`. */
const DEAL_KEY = 'deal:';

export type Ties = {
  /** The current version of every deal tied to some visit, by subject (`<source>:<deal_id>`). */
  deals: Map<string, TiedDeal>;
  /** The subjects tied to each visit. */
  of(visit: Visit): string[];
};

type Raw = {
  source: string;
  deal_id: string;
  version: number | string;
  pipeline_id: string;
  status_id: string;
  outcome: string;
  deleted: number | string;
  visitor_id: string;
  ga_cid: string;
  ym_uid: string;
  received_s: number | string;
};

/** The deals of these sources tied to these visits. */
export async function tiedDeals(ch: ClickHouseClient, sources: string[], visits: Visit[]): Promise<Ties> {
  const visitors = distinct(visits.map((v) => v.visitorId));
  const gaIds = distinct(visits.map((v) => v.gaCid));
  const ymIds = distinct(visits.map((v) => v.ymUid));
  const wanted = new Set(sources);
  const members = new Map<string, Set<string>>();
  const keys = new Map<string, Set<string>>(sources.map((s) => [s, new Set<string>()]));
  const want = (subject: string) => {
    const at = subject.indexOf(':');
    keys.get(subject.slice(0, at))?.add(subject.slice(at + 1));
  };
  for (const list of chunks(visitors)) {
    const rows = await queryRows<{ visitor_id: string; conv_key: string }>(
      ch,
      `SELECT DISTINCT visitor_id, conv_key FROM attribution_members
       WHERE ${inSnapshot('')} AND visitor_id IN (${inList(list)}) AND startsWith(conv_key, ${str(DEAL_KEY)})`,
    );
    for (const r of rows) {
      const subject = r.conv_key.slice(DEAL_KEY.length);
      if (!wanted.has(subject.slice(0, subject.indexOf(':')))) continue;
      const of = members.get(r.visitor_id) ?? members.set(r.visitor_id, new Set()).get(r.visitor_id)!;
      of.add(subject);
      want(subject);
    }
  }
  const byId = (column: string, ids: string[]) =>
    chunks(ids).map((list) => `SELECT DISTINCT source, deal_id FROM deals WHERE source IN (${inList(sources)}) AND ${column} IN (${inList(list)})`);
  for (const sql of [...byId('visitor_id', visitors), ...byId('ga_cid', gaIds), ...byId('ym_uid', ymIds)]) {
    for (const r of await queryRows<{ source: string; deal_id: string }>(ch, sql)) want(`${r.source}:${r.deal_id}`);
  }
  const deals = new Map<string, TiedDeal>();
  for (const [source, set] of keys) {
    for (const list of chunks([...set])) {
      const rows = await queryRows<Raw>(
        ch,
        `SELECT source, deal_id, version, pipeline_id, status_id, outcome, deleted, visitor_id, ga_cid, ym_uid, toUInt32(received_at) AS received_s
         FROM deals WHERE source = ${str(source)} AND deal_id IN (${inList(list)})
         ORDER BY version DESC LIMIT 1 BY deal_id`,
      );
      for (const r of rows) {
        const subject = `${r.source}:${r.deal_id}`;
        deals.set(subject, {
          subject,
          source: r.source,
          dealId: r.deal_id,
          version: Number(r.version),
          pipeline: r.pipeline_id,
          status: r.status_id,
          outcome: r.outcome,
          deleted: Number(r.deleted) === 1,
          receivedAt: Number(r.received_s),
          visitorId: r.visitor_id,
          gaCid: r.ga_cid,
          ymUid: r.ym_uid,
        });
      }
    }
  }
  // By each id of the current versions: a visit finds its deals without a look at every deal.
  const index = new Map<string, string[]>();
  const put = (key: string, subject: string) => index.set(key, [...(index.get(key) ?? []), subject]);
  for (const d of deals.values()) {
    if (d.visitorId) put(`v:${d.visitorId}`, d.subject);
    if (d.gaCid) put(`g:${d.gaCid}`, d.subject);
    if (d.ymUid) put(`y:${d.ymUid}`, d.subject);
  }
  const of = (v: Visit): string[] => {
    const out = new Set(members.get(v.visitorId) ?? []);
    for (const key of [v.visitorId && `v:${v.visitorId}`, v.gaCid && `g:${v.gaCid}`, v.ymUid && `y:${v.ymUid}`]) {
      for (const subject of (key && index.get(key)) || []) out.add(subject);
    }
    return [...out].filter((s) => deals.has(s)).sort();
  };
  return { deals, of };
}
