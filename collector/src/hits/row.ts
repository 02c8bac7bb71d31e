// A hit becomes a row of {db}.hits, and the row a line of TabSeparated text
// (hitTsv): half the bytes of the same row as JSON, and cheaper to make, since
// only free text needs escaping and no key is written. Every column is sent, in
// HIT_COLUMNS order.
import { CLICK_IDS } from '../../../contract/campaign.js';
import { classify } from '../channels/classify.js';
import { toDateTimeString } from '../clickhouse/sql.js';
import { pageHost, pageSearch } from './page.js';
import { cleanText } from './text.js';
import { NO_PROPS, type HitInput } from './wire.js';

export type HitRow = {
  event_id: string;
  site_id: string;
  kind: string;
  ts: string;
  ts_ms: number;
  received_at: string;
  visitor_id: string;
  ga_cid: string;
  ym_uid: string;
  url: string;
  referrer: string;
  utm_source: string;
  utm_medium: string;
  utm_campaign: string;
  utm_term: string;
  utm_content: string;
  click_id_name: string;
  click_id: string;
  channel: string;
  source: string;
  medium: string;
  campaign: string;
  user_agent: string;
  ip_hash: string;
  prop_keys: string[];
  prop_values: string[];
};

/** The columns of a TabSeparated hit line, in order (the INSERT names them). */
export const HIT_COLUMNS = [
  'event_id', 'site_id', 'kind', 'ts', 'ts_ms', 'received_at', 'visitor_id', 'ga_cid', 'ym_uid', 'url', 'referrer',
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'click_id_name', 'click_id', 'channel',
  'source', 'medium', 'campaign', 'user_agent', 'ip_hash', 'prop_keys', 'prop_values',
] as const satisfies ReadonlyArray<keyof HitRow>;

/** What TabSeparated text must escape in a field: its separators and its escape character. */
const TSV_SPECIAL = /[\\\t\n\r]/;
const TSV_SPECIALS = new RegExp(TSV_SPECIAL.source, 'g');
/** Inside an array element's quotes, the quote too. */
const QUOTED_SPECIALS = /[\\\t\n\r']/g;
const TSV_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', "'": "\\'" };
const escapeChar = (c: string) => TSV_ESCAPES[c]!;

/** A free-text field of a TabSeparated line. */
export function tsv(s: string): string {
  return TSV_SPECIAL.test(s) ? s.replace(TSV_SPECIALS, escapeChar) : s;
}

/** An Array(String) field: `['a','b']`, each element quoted and escaped. */
function tsvArray(values: readonly string[]): string {
  if (values.length === 0) return '[]';
  return `[${values.map((v) => `'${v.replace(QUOTED_SPECIALS, escapeChar)}'`).join(',')}]`;
}

/**
 * The row as one TabSeparated line (without its newline). Fields the pipeline
 * has already constrained to safe characters (ids checked by pattern, times,
 * the channel vocabulary, the hex IP hash) are written as they are.
 */
export function hitTsv(r: HitRow): string {
  return [
    r.event_id, r.site_id, r.kind, r.ts, r.ts_ms, r.received_at, tsv(r.visitor_id), tsv(r.ga_cid), tsv(r.ym_uid), tsv(r.url),
    tsv(r.referrer), tsv(r.utm_source), tsv(r.utm_medium), tsv(r.utm_campaign), tsv(r.utm_term), tsv(r.utm_content),
    r.click_id_name, tsv(r.click_id), r.channel, tsv(r.source), tsv(r.medium), tsv(r.campaign), tsv(r.user_agent), r.ip_hash,
    tsvArray(r.prop_keys), tsvArray(r.prop_values),
  ].join('\t');
}

/** Click ids in the order they are looked for; the first present wins (the contract's list, which the tracker knows too). */
export { CLICK_IDS };

export type Enrichment = {
  userAgent: string;
  ipHash: string;
  /** The host of hit.url, already known (the validate step finds it): it is not found again. */
  pageHost?: string;
  /** The host of hit.referrer, already known (the validate step finds it): it is not parsed again. */
  referrerHost?: string;
};

/**
 * Whether a query string may hold a UTM tag or a click id: most landings carry
 * neither, and skipping URLSearchParams for them is a measurable part of a hit's
 * cost. A `%` may hide an encoded name, so it always means a full parse.
 */
const MAY_TAG = /utm_|clid|clkid|braid|li_fat_id|%/i;

export function toRow(hit: HitInput, receivedAt: number, extra: Enrichment): HitRow {
  const host = extra.pageHost ?? pageHost(hit.url);
  const search = host === null ? '' : pageSearch(hit.url);
  const params = search !== '' && MAY_TAG.test(search) ? new URLSearchParams(search) : null;
  let clickIdName = '';
  let clickId = '';
  if (params) {
    for (const name of CLICK_IDS) {
      const v = params.get(name);
      if (v) {
        clickIdName = name;
        clickId = cleanText(v);
        break;
      }
    }
  }
  const utmSource = tag(params, 'utm_source');
  const utmMedium = tag(params, 'utm_medium');
  const utmCampaign = tag(params, 'utm_campaign');
  const where = classify({
    clickIdName,
    utmSource,
    utmMedium,
    utmCampaign,
    referrer: hit.referrer,
    referrerHost: extra.referrerHost,
    pageHost: host ?? '',
  });
  const ts = Math.trunc(hit.clientTs);
  const keys = hit.props === NO_PROPS ? NONE : Object.keys(hit.props);
  return {
    event_id: hit.eventId,
    site_id: hit.siteId,
    kind: hit.kind,
    ts: secondString(ts),
    ts_ms: ((ts % 1000) + 1000) % 1000,
    received_at: secondString(receivedAt),
    // The ids, URLs and props come clean from the wire (hits/wire.ts); what is
    // decoded from the URL here is cleaned here.
    visitor_id: hit.visitorId,
    ga_cid: hit.gaCid,
    ym_uid: hit.ymUid,
    url: hit.url,
    referrer: hit.referrer,
    utm_source: utmSource,
    utm_medium: utmMedium,
    utm_campaign: utmCampaign,
    utm_term: tag(params, 'utm_term'),
    utm_content: tag(params, 'utm_content'),
    click_id_name: clickIdName,
    click_id: clickId,
    channel: where.channel,
    source: cleanText(where.source),
    medium: cleanText(where.medium),
    campaign: cleanText(where.campaign),
    user_agent: cleanText(extra.userAgent),
    ip_hash: extra.ipHash,
    prop_keys: keys,
    prop_values: keys === NONE ? NONE : keys.map((k) => hit.props[k]!),
  };
}

/** A UTM tag of the landing, '' when absent (or when the query string cannot hold one). */
function tag(params: URLSearchParams | null, name: string): string {
  return params === null ? '' : cleanText(params.get(name) ?? '');
}

/** The prop arrays of a hit without props: one shared (never changed) empty array, not two new ones per hit. */
const NONE: string[] = [];

/** toDateTimeString, remembering the last second formatted (hits arrive many per second). */
let lastSecond = NaN;
let lastString = '';
function secondString(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    lastString = toDateTimeString(second * 1000);
  }
  return lastString;
}

