// The ids the tracker writes and the collector reads, written once: the
// Throughline visitor id, the GA client id and the Yandex Metrika id. The
// tracker's bundle, the collector and the tests import these same functions,
// so a value one side writes is a value the other side reads. (Arguments are
// `string | undefined`; an undefined one reads as "undefined": no match.)

/**
 * The visitor id's 31 characters: no 0/O and no 1/I/L, which people mix up when
 * they read an id aloud or type it from an e-mail subject.
 */
export const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const ID_LENGTH = 6;

/** How long the visitor id's cookie lives, renewed as the visits go on (the tracker's write, the collector's Set-Cookie in first-party mode). */
export const VISITOR_ID_DAYS = 400;

/**
 * A visitor id in its stored form (upper-case), '' when the value is none:
 * compared case-insensitively, nothing else forgiven (readers of text that may
 * pad it, a CRM field, trim it first).
 */
export function visitorId(value: string | undefined): string {
  // ALPHABET as a character class, ID_LENGTH long, written out: the tracker pays
  // for every byte (tests/unit/contract.test.ts holds the two equal).
  return /^[2-9A-HJKMNP-Z]{6}$/i.test(value!) ? value!.toUpperCase() : '';
}

/** What visitorCode ignores: a CRM field holding only these is empty, not a code typed wrong (global: for replace, not test). */
export const TYPED_SEPARATORS = /[\s\p{Pd}\u00ad\u200b\u2060\u2212]/gu;

/**
 * A visitor id as a person types it: read out by a caller as a promo code and
 * typed by a manager into a CRM field (`ab 23-cd`, `AB–23—CD`, ` ab23cd `).
 * Forgiven besides case: spaces and invisible separators (Unicode White_Space,
 * NBSP and the narrow one, zero-width space, word joiner, soft hyphen), dashes
 * (Unicode dash punctuation \p{Pd}: hyphen, en and em dash…, and the minus
 * sign), and full-width Latin letters and digits (a CJK input method in
 * full-width mode types the same keys as these). Nothing else: 0/O/1/I/L are in
 * no id, so a typed O meant as a 0 has no right reading and stays invalid, like
 * Cyrillic look-alikes, other punctuation, superscripts. '' when it is none.
 * Not for the tracker: ids it writes are exact, read by visitorId (this one is
 * never imported there, so the bundle does not carry it).
 */
export function visitorCode(value: string | undefined): string {
  return visitorId(
    value
      ?.replace(TYPED_SEPARATORS, '')
      .replace(/[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)),
  );
}

/**
 * A GA client id, `908899769.1600020018`, from the `_ga` cookie
 * (`GA1.2.908899769.1600020018`) or as the tracker's hidden field carries it;
 * '' when it is neither.
 */
export function gaClientId(value: string | undefined): string {
  return /^(GA\d\.\d+\.)?(\d+\.\d+)$/.exec(value!)?.[2] || '';
}

/** Yandex Metrika's id (`_ym_uid`): digits; '' when it is not one. The collector also bounds both ids' length (collector/src/identity/ids.ts). */
export function metrikaId(value: string | undefined): string {
  return /^\d+$/.test(value!) ? value! : '';
}
