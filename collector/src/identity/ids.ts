// The ids a hit may carry besides the event and site ids, each with its own
// rule: the shared contract's (contract/ids.ts), the one the tracker reads them
// with. An id is stored and joined on as it stands, so one outside its rule is
// not repaired but refused (the caller removes it from the hit and counts it).
import { gaClientId, metrikaId } from '../../../contract/ids.js';
import { normalizeVisitorId } from '../visitor-id/id.js';

export type IdField = 'visitor_id' | 'ga_cid' | 'ym_uid';

/** The longest id kept: the contract's patterns leave lengths to the collector (the tracker pays for every byte of them). */
export const ID_MAX = 64;

/** Each id's rule: its stored form, or null when the value is not such an id. */
export const ID_RULES: Record<IdField, (raw: string) => string | null> = {
  visitor_id: normalizeVisitorId,
  ga_cid: (raw) => (raw.length <= ID_MAX && gaClientId(raw)) || null,
  ym_uid: (raw) => (raw.length <= ID_MAX && metrikaId(raw)) || null,
};
