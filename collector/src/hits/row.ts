// A hit becomes a row of {db}.hits. Every column is sent: an omitted JSONEachRow
// field gets the type's zero value on 18.16, not the DEFAULT.
import { classify } from '../channels/classify.js';
import { toDateTimeString } from '../clickhouse/sql.js';
import type { HitInput } from './wire.js';

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

/** Click ids in the order they are looked for; the first present wins. */
export const CLICK_IDS = ['gclid', 'yclid', 'fbclid', 'msclkid', 'ttclid', 'vkclid', 'gbraid', 'wbraid', 'dclid', 'twclid', 'li_fat_id'] as const;

export type Enrichment = {
  userAgent: string;
  ipHash: string;
  /** hit.url already parsed (the pipeline's validate step does), to parse it once. */
  url?: URL | null;
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
  const page = extra.url !== undefined ? extra.url : safeUrl(hit.url);
  const params = page && MAY_TAG.test(page.search) ? page.searchParams : NO_PARAMS;
  const utm = (name: string) => (params.get(name) ?? '').toWellFormed();
  let clickIdName = '';
  let clickId = '';
  for (const name of CLICK_IDS) {
    const v = params.get(name);
    if (v) {
      clickIdName = name;
      clickId = v.toWellFormed();
      break;
    }
  }
  const where = classify({
    clickIdName,
    utmSource: utm('utm_source'),
    utmMedium: utm('utm_medium'),
    utmCampaign: utm('utm_campaign'),
    referrer: hit.referrer,
    referrerHost: extra.referrerHost,
    pageHost: page ? page.hostname : '',
  });
  const ts = Math.trunc(hit.clientTs);
  const keys = Object.keys(hit.props);
  return {
    event_id: hit.eventId,
    site_id: hit.siteId,
    kind: hit.kind,
    ts: secondString(ts),
    ts_ms: ((ts % 1000) + 1000) % 1000,
    received_at: secondString(receivedAt),
    visitor_id: hit.visitorId.toUpperCase(),
    ga_cid: hit.gaCid.toWellFormed(),
    ym_uid: hit.ymUid.toWellFormed(),
    url: hit.url.toWellFormed(),
    referrer: hit.referrer.toWellFormed(),
    utm_source: utm('utm_source'),
    utm_medium: utm('utm_medium'),
    utm_campaign: utm('utm_campaign'),
    utm_term: utm('utm_term'),
    utm_content: utm('utm_content'),
    click_id_name: clickIdName,
    click_id: clickId,
    channel: where.channel,
    source: where.source.toWellFormed(),
    medium: where.medium.toWellFormed(),
    campaign: where.campaign.toWellFormed(),
    user_agent: extra.userAgent.toWellFormed(),
    ip_hash: extra.ipHash,
    prop_keys: keys.map((k) => k.toWellFormed()),
    prop_values: keys.map((k) => (hit.props[k] ?? '').toWellFormed()),
  };
}

const NO_PARAMS = new URLSearchParams();

function safeUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

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

