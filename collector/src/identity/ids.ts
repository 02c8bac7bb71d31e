// The ids a hit may carry besides the event and site ids, each with its own
// rule. An id is stored and joined on as it stands, so one outside its rule is
// not repaired but refused (the caller removes it from the hit and counts it).
import { normalizeVisitorId } from '../visitor-id/id.js';

/** A GA client id as the tracker reads it from `_ga`: `908899769.1600020018`. */
const GA_CLIENT_ID = /^\d{1,20}\.\d{1,20}$/;
/** A Yandex Metrika id (`_ym_uid`): digits only. */
const METRIKA_ID = /^\d{1,30}$/;

export type IdField = 'visitor_id' | 'ga_cid' | 'ym_uid';

/** Each id's rule: its stored form, or null when the value is not such an id. */
export const ID_RULES: Record<IdField, (raw: string) => string | null> = {
  visitor_id: normalizeVisitorId,
  ga_cid: (raw) => (GA_CLIENT_ID.test(raw) ? raw : null),
  ym_uid: (raw) => (METRIKA_ID.test(raw) ? raw : null),
};
