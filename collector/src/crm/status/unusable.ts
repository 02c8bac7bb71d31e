// What of a stored deal cannot be used, named instead of stored in silence:
//   unmapped_status     its status maps to no funnel stage: it is stored with stage ""
//                       and counts in no stage of the funnel until the mapping knows it;
//   visitor_id_invalid  a visitor-id field holds something that is no visitor id
//                       even as typed (spaces, dashes and case forgiven): mostly a
//                       caller's promo code mistyped by a manager, so it has a reason
//                       of its own (the sales team fixes it, not the site's developer),
//                       named even when another field gave the deal a visitor id;
//   malformed_id        a GA or Metrika id field holds something that is no such
//                       id (a template left unfilled) and no other field gave one;
//   no_identity         it carries no visitor, GA or Metrika id, e-mail, phone or
//                       contact: nothing can ever tie it to a visit.
// A refused record (not stored at all) is named in the reply's `refused`.
import type { DealChange } from '../change.js';
import type { SourceConfig } from '../config/schema.js';
import type { DealRow } from '../deals/store.js';
import { ALPHABET, ID_LENGTH, TYPED_SEPARATORS, visitorCode } from '../../../../contract/ids.js';
import { idValues, type IdName } from '../fields/select.js';

export const UNUSABLE_REASONS = ['unmapped_status', 'visitor_id_invalid', 'malformed_id', 'no_identity'] as const;
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
  // The fields the ids were read from (select.ts), the contract's default names among them.
  const given = (id: IdName) => idValues(change, source.identityFields, id).filter(Boolean);
  // A field of only spaces and dashes is a manager's "no code", not a code typed wrong.
  const typed = new Set(given('visitor_id').filter((v) => v.replace(TYPED_SEPARATORS, '') !== ''));
  for (const v of typed) if (!visitorCode(v)) note('visitor_id_invalid', `visitor_id ${shown(v)} is not a visitor id (${ID_LENGTH} of ${ALPHABET}, spaces and dashes aside); dropped`);
  const ym = given('ym_uid');
  if (ym.length && !row.ym_uid) note('malformed_id', `ym_uid ${shown(ym[0]!)} is not a Metrika id; dropped`);
  const ga = given('ga_cid');
  if (ga.length && !row.ga_cid) note('malformed_id', `ga_cid ${shown(ga[0]!)} is not a GA client id; dropped`);
  const ids = [row.visitor_id, row.ga_cid, row.ym_uid, ...row.email_hashes, ...row.phone_hashes, ...row.contact_ids];
  if (!ids.some(Boolean)) note('no_identity', NO_IDENTITY_DETAIL);
  return out;
}
