// What of a stored deal cannot be used, named instead of stored in silence:
//   unmapped_status  its status maps to no funnel stage: it is stored with stage ""
//                    and counts in no stage of the funnel until the mapping knows it;
//   malformed_id     a visitor or Metrika id field holds something that is no such
//                    id (a typo, a template left unfilled): the id is dropped;
//   no_identity      it carries no visitor, GA or Metrika id, e-mail, phone or
//                    contact: nothing can ever tie it to a visit.
// A refused record (not stored at all) is named in the reply's `refused`.
import type { DealChange } from '../change.js';
import type { SourceConfig } from '../config/schema.js';
import type { DealRow } from '../deals/store.js';
import { fieldValues } from '../fields/select.js';

export const UNUSABLE_REASONS = ['unmapped_status', 'malformed_id', 'no_identity'] as const;
export type UnusableReason = (typeof UNUSABLE_REASONS)[number];

export type Unusable = {
  record: string;
  reason: UnusableReason;
  detail: string;
  /** unmapped_status: the pipeline and status to add to the mapping. */
  pipeline?: string;
  status?: string;
};

/** The reason of a record a delivery refused, as the metric and the status count it. */
export const REFUSED = 'refused';

export const NO_IDENTITY_DETAIL = 'no visitor, GA or Metrika id, e-mail, phone or contact: the deal cannot be attributed';

/** A value, quoted and cut for a reply. */
const shown = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);

/** What of a stored version of a deal (`row`, made from `change`) cannot be used. */
export function unusableOf(record: string, change: DealChange, source: SourceConfig, row: DealRow): Unusable[] {
  if (row.deleted) return [];
  const out: Unusable[] = [];
  const note = (reason: UnusableReason, detail: string) => out.push({ record, reason, detail });
  if (row.stage === '' && row.status_id !== '') {
    const detail = `status ${shown(row.status_id)} of pipeline ${shown(row.pipeline_id)} maps to no funnel stage; stored with stage ""`;
    out.push({ record, reason: 'unmapped_status', detail, pipeline: row.pipeline_id, status: row.status_id });
  }
  const given = (names: string[]) => fieldValues(change, names).map((v) => v.trim()).filter(Boolean);
  const visitors = given(source.identityFields.visitor_id);
  if (visitors.length && !row.visitor_id) note('malformed_id', `visitor_id ${shown(visitors[0]!)} is not a visitor id; dropped`);
  const ym = given(source.identityFields.ym_uid);
  if (ym.length && !row.ym_uid) note('malformed_id', `ym_uid ${shown(ym[0]!)} is not a Metrika id; dropped`);
  const ga = given(source.identityFields.ga_cid);
  if (ga.length && !row.ga_cid) note('malformed_id', `ga_cid ${shown(ga[0]!)} is not a GA client id; dropped`);
  const ids = [row.visitor_id, row.ga_cid, row.ym_uid, ...row.email_hashes, ...row.phone_hashes, ...row.contact_ids];
  if (!ids.some(Boolean)) note('no_identity', NO_IDENTITY_DETAIL);
  return out;
}
