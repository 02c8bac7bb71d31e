// The hit as the tracker sends it: a small JSON object with one-letter keys
// (every byte of the tracker is paid by every visitor). This file is the one
// declaration of that format; everything after it works on HitInput.
//
//   s  site id                       (required)
//   k  kind: visit | lead | tel       (required)
//   e  client event id, 8-64 chars    (required; makes retries idempotent)
//   t  client time, epoch ms          (required)
//   u  page URL                       (required)
//   r  referrer
//   g  GA client id (from _ga)
//   y  Yandex Metrika id (_ym_uid)
//   v  Throughline visitor id
//   p  extra properties: { string: string }
//   w  optional: 1 when the page runs under automation (navigator.webdriver)

import type { DropReason } from '../pipeline/reasons.js';

export type HitKind = 'visit' | 'lead' | 'tel';

export type HitInput = {
  siteId: string;
  kind: HitKind;
  eventId: string;
  clientTs: number;
  url: string;
  referrer: string;
  gaCid: string;
  ymUid: string;
  visitorId: string;
  props: Record<string, string>;
  /** The browser reported automation (navigator.webdriver). */
  automated: boolean;
};

export type WireError = { reason: DropReason; detail: string };

const KINDS = new Set<string>(['visit', 'lead', 'tel']);
const EVENT_ID = /^[A-Za-z0-9_-]{8,64}$/;
const SITE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function optString(v: unknown, max: number): string | null {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' || v.length > max) return null;
  return v;
}

/** The props of a hit that has none: shared, so never changed (steps/contacts.ts changes only props it found contacts in). */
export const NO_PROPS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Parses and shape-checks a hit body; returns the hit or a named reason. */
export function parseHit(body: string): HitInput | WireError {
  let o: unknown;
  try {
    o = JSON.parse(body);
  } catch {
    return { reason: 'malformed_json', detail: 'body is not JSON' };
  }
  return checkHit(o);
}

/** Shape-checks an already parsed hit object. */
export function checkHit(o: unknown): HitInput | WireError {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    return { reason: 'malformed_json', detail: 'body is not a JSON object' };
  }
  const h = o as Record<string, unknown>;
  if (typeof h.s !== 'string' || !SITE_ID.test(h.s)) return { reason: 'invalid_site', detail: 's: site id required' };
  if (typeof h.k !== 'string' || !KINDS.has(h.k)) return { reason: 'invalid_kind', detail: 'k: visit, lead or tel' };
  if (typeof h.e !== 'string' || !EVENT_ID.test(h.e)) return { reason: 'invalid_event_id', detail: 'e: 8-64 of [A-Za-z0-9_-]' };
  if (typeof h.t !== 'number' || !Number.isFinite(h.t)) return { reason: 'invalid_timestamp', detail: 't: epoch ms' };
  if (typeof h.u !== 'string' || h.u.length > 4096 || !/^https?:\/\//i.test(h.u)) {
    return { reason: 'invalid_url', detail: 'u: an http(s) URL of at most 4096 chars' };
  }
  const referrer = optString(h.r, 4096);
  const gaCid = optString(h.g, 64);
  const ymUid = optString(h.y, 64);
  const visitorId = optString(h.v, 16);
  if (referrer === null || gaCid === null || ymUid === null || visitorId === null) {
    return { reason: 'invalid_field', detail: 'r, g, y, v must be short strings' };
  }
  let props = NO_PROPS;
  if (h.p !== undefined) {
    props = {};
    if (typeof h.p !== 'object' || h.p === null || Array.isArray(h.p)) return { reason: 'invalid_field', detail: 'p must be an object' };
    for (const [key, value] of Object.entries(h.p)) {
      if (typeof value !== 'string' || key.length > 64 || value.length > 1024) {
        return { reason: 'invalid_field', detail: 'p: string values of at most 1024 chars' };
      }
      props[key] = value;
    }
  }
  const automated = h.w === 1 || h.w === true;
  return { siteId: h.s, kind: h.k as HitKind, eventId: h.e, clientTs: h.t, url: h.u, referrer, gaCid, ymUid, visitorId, props, automated };
}

export function isWireError(x: HitInput | WireError): x is WireError {
  return 'reason' in x;
}
