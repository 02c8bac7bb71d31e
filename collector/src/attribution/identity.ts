// Identity resolution, the pure part: which tracker visitor ids belong to the
// person behind each conversion. A deal reaches its visitor through any id the
// evidence ties together — the deal's own visitor / GA / Metrika ids and contact
// hashes, identity_links rows (form leads, inbound e-mail, CRM contacts), and
// the GA / Metrika ids a visitor's own hits carried. All of them are merged into
// connected components (union-find). Only ids are read here: the deal's
// attributes (outcome, amount, stages) are joined back in ClickHouse
// (resolve.ts), which also turns the members into touches.
import { UnionFind } from './union-find.js';

/** The identity columns of a current, not deleted deal; `conv_key` is made by SQL (resolve.ts). */
export type DealIds = {
  conv_key: string;
  source: string;
  deal_id: string;
  /** Unix seconds. */
  created: number;
  contact_ids: string[];
  visitor_id: string;
  ga_cid: string;
  ym_uid: string;
  email_hashes: string[];
  phone_hashes: string[];
};
export type LinkRow = { kind_a: string; id_a: string; kind_b: string; id_b: string };
/** A tracker visitor id and a GA / Metrika id its hits carried. */
export type HitIdRow = { visitor_id: string; ga_cid: string; ym_uid: string };
export type LeadRow = { visitor_id: string; ts: number };
/** `ids`: ids to keep in the graph even without an edge (incremental.ts: every id of a touched component). */
export type ResolveInput = { deals: DealIds[]; links: LinkRow[]; hitIds: HitIdRow[]; leads: LeadRow[]; ids?: { kind: string; id: string }[] };

export type Conversion = {
  conv_key: string;
  conv_kind: 'deal' | 'lead';
  /** Unix seconds: the deal's creation, the person's first form lead. */
  conv_ts: number;
  /** Every tracker visitor id of the person, sorted; none for an unattributable conversion. */
  visitor_ids: string[];
};

/** An id of the graph and its component (a number of this resolution). */
export type GraphId = { kind: string; id: string; comp: number };

/** The conversions (every deal given, and form leads of people without a deal) with their visitor ids. */
export function resolveConversions(input: ResolveInput): Conversion[] {
  return resolveGraph(input).conversions.map(({ comp: _, ...c }) => c);
}

/**
 * resolveConversions, with every id of the graph and its component: an incremental
 * resolution (incremental.ts) finds the components a change touches by its ids.
 */
export function resolveGraph(input: ResolveInput): { conversions: (Conversion & { comp: number })[]; ids: GraphId[] } {
  const uf = new UnionFind();
  // Visitor ids are case-insensitive (the collector stores them upper case).
  const visitor = (id: string) => uf.id('visitor', id.toUpperCase());
  const at = (kind: string, id: string) => (kind === 'visitor' ? visitor(id) : uf.id(kind, id));
  const dealIds = input.deals.map((d) => {
    // identity_links name a deal `<source>:<deal id>`, a contact `<source>:<contact id>`.
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
  for (const i of input.ids ?? []) at(i.kind, i.id);
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
  for (const [value, i] of uf.ofKind('visitor')) {
    const r = uf.find(i);
    if (!wanted.has(r)) continue;
    const list = visitors.get(r);
    if (list) list.push(value);
    else visitors.set(r, [value]);
  }
  for (const list of visitors.values()) list.sort();
  const none: string[] = [];
  const out: (Conversion & { comp: number })[] = input.deals.map((d, n) => ({
    conv_key: d.conv_key,
    conv_kind: 'deal',
    conv_ts: d.created,
    visitor_ids: visitors.get(dealRoots[n]!) ?? none,
    comp: dealRoots[n]!,
  }));
  // A form lead counts on its own only when its person has no deal: otherwise the deal is that lead.
  const withDeal = new Set(dealRoots);
  for (const [r, ts] of leadTs) {
    if (withDeal.has(r)) continue;
    const ids = visitors.get(r) ?? none;
    out.push({ conv_key: `lead:${ids[0] ?? r}`, conv_kind: 'lead', conv_ts: ts, visitor_ids: ids, comp: r });
  }
  const ids: GraphId[] = [];
  for (const kind of uf.kinds()) for (const [id, i] of uf.ofKind(kind)) ids.push({ kind, id, comp: uf.find(i) });
  return { conversions: out, ids };
}
