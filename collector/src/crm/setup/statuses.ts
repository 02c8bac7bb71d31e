// The statuses the setup page offers to map, per source and pipeline, each
// with where it is known from: the CRM's API (amoCRM's pipelines, Zoho's Stage
// and Lead_Status lists), the deliveries (status/store.ts keeps every status
// seen), the configuration in force. One row per status, whatever lists it.
import type { SourceConfig } from '../config/schema.js';
import { amoOutcome } from '../funnel/mapping.js';
import type { SeenStatus } from '../status/store.js';
import { LEADS_PIPELINE } from '../zoho/record.js';

export type ListOrigin = 'api' | 'deliveries' | 'configuration';
/** Where a mapping goes: the source's `pipelines`, or a Zoho source's `leadStatuses`. */
export type MapTarget = 'pipelines' | 'leadStatuses';
/** Every pipeline not named: the key the mapping falls back on. */
export const ANY_PIPELINE = '*';

export type VendorStatus = { id: string; name: string; closes: 'won' | 'lost' | null };

/** What a CRM's API says of its statuses. */
export type VendorLists = {
  /** Per pipeline, its statuses (amoCRM). */
  pipelines?: { id: string; name: string; statuses: VendorStatus[] }[];
  /** Statuses of every pipeline alike (Zoho's Stage list). */
  everyPipeline?: VendorStatus[];
  /** Zoho's Lead_Status list. */
  leadStatuses?: VendorStatus[];
};

export type StatusRow = {
  target: MapTarget;
  pipeline: string;
  status: string;
  /** The CRM's name of the status, when it is not the status itself (amoCRM's ids). */
  name: string;
  /** What the CRM itself says the status is, which counts when it is left unmapped. */
  closes: 'won' | 'lost' | null;
  seen: number;
  from: ListOrigin[];
};

export type StatusGroup = { target: MapTarget; pipeline: string; name: string; rows: StatusRow[] };

/** A status row's identity in the form and on the page. */
export type RowPlace = { target: MapTarget; pipeline: string; status: string };

/**
 * Where a status seen in a delivery is mapped. A Zoho lead is stored in the
 * pipeline `Leads` and mapped through `leadStatuses`; an import without a
 * pipeline has none, which no mapping can name, so `*` maps it.
 */
export function placeOfSeen(kind: SourceConfig['kind'], pipeline: string, status: string): RowPlace {
  if (kind === 'zoho' && pipeline === LEADS_PIPELINE) return { target: 'leadStatuses', pipeline: LEADS_PIPELINE, status };
  return { target: 'pipelines', pipeline: pipeline === '' ? ANY_PIPELINE : pipeline, status };
}

/**
 * The groups of one source: the API's pipelines first, in the CRM's order, then
 * the others; in each, the API's statuses first, then the configured and seen
 * ones. `kept` are rows a refused form held that no list has (still shown, so
 * nothing entered is lost). Zoho's stages belong to every pipeline: they are
 * listed under each pipeline the configuration or the deliveries name, or under
 * `*` when none is named.
 */
export function statusGroups(src: SourceConfig, vendor: VendorLists | null, seen: SeenStatus[], kept: RowPlace[] = []): StatusGroup[] {
  const groups = new Map<string, StatusGroup>();
  const rows = new Map<string, StatusRow>();
  const group = (target: MapTarget, pipeline: string, name = '') => {
    const key = `${target}\t${pipeline}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { target, pipeline, name, rows: [] }));
    if (name && !g.name) g.name = name;
    return g;
  };
  const add = (p: RowPlace, origin: ListOrigin | null, info: Partial<Pick<StatusRow, 'name' | 'closes' | 'seen'>> = {}) => {
    const key = `${p.target}\t${p.pipeline}\t${p.status}`;
    let row = rows.get(key);
    if (!row) {
      const closes = src.kind === 'amocrm' ? outcome(amoOutcome(p.status)) : null;
      row = { ...p, name: '', closes, seen: 0, from: [] };
      rows.set(key, row);
      group(p.target, p.pipeline).rows.push(row);
    }
    if (origin && !row.from.includes(origin)) row.from.push(origin);
    if (info.name && info.name !== p.status) row.name = info.name;
    if (info.closes) row.closes = info.closes;
    if (info.seen) row.seen += info.seen;
  };

  const seenAt = seen.map((s) => ({ place: placeOfSeen(src.kind, s.pipeline, s.status), seen: s.seen }));
  for (const p of vendor?.pipelines ?? []) {
    group('pipelines', p.id, p.name);
    for (const s of p.statuses) add({ target: 'pipelines', pipeline: p.id, status: s.id }, 'api', s);
  }
  if (vendor?.everyPipeline) {
    const named = new Set([...Object.keys(src.pipelines), ...seenAt.filter((s) => s.place.target === 'pipelines').map((s) => s.place.pipeline)]);
    named.delete(ANY_PIPELINE);
    for (const pipeline of named.size ? named : [ANY_PIPELINE]) {
      for (const s of vendor.everyPipeline) add({ target: 'pipelines', pipeline, status: s.id }, 'api', s);
    }
  }
  for (const s of vendor?.leadStatuses ?? []) add({ target: 'leadStatuses', pipeline: LEADS_PIPELINE, status: s.id }, 'api', s);
  for (const [pipeline, statuses] of Object.entries(src.pipelines)) {
    for (const status of Object.keys(statuses)) add({ target: 'pipelines', pipeline, status }, 'configuration');
  }
  if (src.kind === 'zoho') {
    for (const status of Object.keys(src.leadStatuses)) add({ target: 'leadStatuses', pipeline: LEADS_PIPELINE, status }, 'configuration');
  }
  for (const s of seenAt) add(s.place, 'deliveries', { seen: s.seen });
  for (const p of kept) add(p, null);
  return [...groups.values()];
}

const outcome = (o: 'won' | 'lost' | 'open') => (o === 'open' ? null : o);
