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
