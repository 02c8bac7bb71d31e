// The names of the hidden form fields the tracker fills, and the CRM field
// names the collector reads the same values from by default: one list, so a
// deal created from the site's form is attributed with no configuration.
import { CAMPAIGN_PARAMS } from './campaign.js';

/**
 * The tracker's hidden fields by their default names, in the order of the
 * values it fills them with: the visitor id, GA client id, Metrika id, the last
 * touch's landing and referrer, the first touch's, then the campaign's tags.
 */
export const HIDDEN_FIELDS = 'tl_vid tl_ga tl_ym tl_landing tl_referrer tl_first_landing tl_first_referrer'.split(' ').concat(CAMPAIGN_PARAMS);

export const VISITOR_FIELD = /* @__PURE__ */ HIDDEN_FIELDS[0]!;
export const GA_FIELD = /* @__PURE__ */ HIDDEN_FIELDS[1]!;
export const METRIKA_FIELD = /* @__PURE__ */ HIDDEN_FIELDS[2]!;

/**
 * The CRM fields (by name, id or code, without case) each id is read from when
 * a source names none: the tracker's field first, then the names earlier
 * versions read (existing CRM fields keep working). Click ids need no entry:
 * they keep their own names as the deal's custom fields.
 */
export const CRM_ID_FIELDS = {
  visitor_id: [VISITOR_FIELD, 'visitor_id'],
  ga_cid: [GA_FIELD, 'ga_cid', '_ga', 'gclientid'],
  ym_uid: [METRIKA_FIELD, 'ym_uid', '_ym_uid'],
  utm_source: ['utm_source'],
  utm_medium: ['utm_medium'],
  utm_campaign: ['utm_campaign'],
  utm_term: ['utm_term'],
  utm_content: ['utm_content'],
};
