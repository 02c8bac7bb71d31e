// The hit as the tracker sends it: a small JSON object with one-letter keys
// (every byte of the tracker is paid by every visitor). This file is the one
// declaration of that format; everything after it works on HitInput.
//
//   s  site id                       (absent: the page URL's host name)
//   k  kind: visit | lead | tel       (required)
//   e  client event id, 8-64 chars    (required; makes retries idempotent)
//   t  client time, epoch ms          (required)
//   u  page URL                       (required)
//   r  referrer
//   g  GA client id (from _ga): digits.digits
//   y  Yandex Metrika id (_ym_uid): digits
//   v  Throughline visitor id: 6 characters of its alphabet (visitor-id/id.ts)
//   p  extra properties: { string: string }
//   w  optional: 1 when the page runs under automation (navigator.webdriver)
//
// Every string is made fit for a row here (hits/text.ts), so no step after this
// one meets a lone surrogate or a control character. An id outside its rule is
// removed from the hit, which is kept, and the removal is recorded in `dropped`.

import { ID_RULES, type IdField } from '../identity/ids.js';
import type { DropReason, FieldDrop } from '../pipeline/reasons.js';
import { cleanText, cleanUrl } from './text.js';

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
  /** Fields removed from the hit on the way (counted once the hit is kept); often NO_DROPS. */
  dropped: FieldDrop[];
};

export type WireError = { reason: DropReason; detail: string };

const KINDS = new Set<string>(['visit', 'lead', 'tel']);
const EVENT_ID = /^[A-Za-z0-9_-]{8,64}$/;
const SITE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** The props of a hit that has none: shared, so never changed (steps/contacts.ts replaces props, never edits them). */
export const NO_PROPS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The drops of a hit that lost nothing: shared, so never changed (addDrop copies it first). */
export const NO_DROPS: FieldDrop[] = Object.freeze([]) as unknown as FieldDrop[];

/** Records a removed field on the hit. */
export function addDrop(hit: { dropped: FieldDrop[] }, drop: FieldDrop): void {
  if (hit.dropped === NO_DROPS) hit.dropped = [drop];
  else hit.dropped.push(drop);
}

/** An id of the hit by its rule: '' when absent or outside the rule (then recorded as dropped). */
function idOf(hit: HitInput, v: unknown, field: IdField): string {
  if (v === undefined || v === null || v === '') return '';
  const id = typeof v === 'string' && v.length <= 64 ? ID_RULES[field](v) : null;
  if (id !== null) return id;
  addDrop(hit, { field, reason: 'malformed' });
  return '';
}

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
  // A tag without data-site sends none: the site is the page's host name (the tracker saves the bytes).
  if (h.s === undefined && typeof h.u === 'string') h.s = URL.parse(h.u)?.hostname;
  if (typeof h.s !== 'string' || !SITE_ID.test(h.s)) return { reason: 'invalid_site', detail: 's: site id required' };
  if (typeof h.k !== 'string' || !KINDS.has(h.k)) return { reason: 'invalid_kind', detail: 'k: visit, lead or tel' };
  if (typeof h.e !== 'string' || !EVENT_ID.test(h.e)) return { reason: 'invalid_event_id', detail: 'e: 8-64 of [A-Za-z0-9_-]' };
  if (typeof h.t !== 'number' || !Number.isFinite(h.t)) return { reason: 'invalid_timestamp', detail: 't: epoch ms' };
  if (typeof h.u !== 'string' || h.u.length > 4096 || !/^https?:\/\//i.test(h.u)) {
    return { reason: 'invalid_url', detail: 'u: an http(s) URL of at most 4096 chars' };
  }
  const url = cleanUrl(h.u);
  if (url === null) return { reason: 'invalid_url', detail: 'u: not a URL' };
  let referrer = '';
  if (h.r !== undefined && h.r !== null && h.r !== '') {
    if (typeof h.r !== 'string' || h.r.length > 4096) return { reason: 'invalid_field', detail: 'r: a string of at most 4096 chars' };
    const r = cleanUrl(h.r);
    if (r === null) return { reason: 'invalid_url', detail: 'r: not a URL' };
    referrer = r;
  }
  let props = NO_PROPS;
  if (h.p !== undefined) {
    // No prototype: a key such as __proto__ is a key like any other.
    props = Object.create(null) as Record<string, string>;
    if (typeof h.p !== 'object' || h.p === null || Array.isArray(h.p)) return { reason: 'invalid_field', detail: 'p must be an object' };
    for (const [key, value] of Object.entries(h.p)) {
      if (typeof value !== 'string' || key.length > 64 || value.length > 1024) {
        return { reason: 'invalid_field', detail: 'p: string values of at most 1024 chars' };
      }
      props[cleanText(key)] = cleanText(value);
    }
  }
  const automated = h.w === 1 || h.w === true;
  const hit: HitInput = { siteId: h.s, kind: h.k as HitKind, eventId: h.e, clientTs: h.t, url, referrer, gaCid: '', ymUid: '', visitorId: '', props, automated, dropped: NO_DROPS };
  hit.visitorId = idOf(hit, h.v, 'visitor_id');
  hit.gaCid = idOf(hit, h.g, 'ga_cid');
  hit.ymUid = idOf(hit, h.y, 'ym_uid');
  return hit;
}

export function isWireError(x: HitInput | WireError): x is WireError {
  return 'reason' in x;
}
