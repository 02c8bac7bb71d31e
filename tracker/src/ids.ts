// Ids the tracker reads from cookies other analytics tools set, and the
// Throughline visitor id the collector issues.

/** `GA1.2.908899769.1600020018` -> `908899769.1600020018`; '' when absent or malformed. */
export function gaClientId(cookie: string | undefined): string {
  const m = /^GA\d\.\d+\.(\d+\.\d+)$/.exec(cookie!); // undefined reads as "undefined": no match
  return m ? m[1]! : '';
}

/** Yandex Metrika's `_ym_uid`: digits only. */
export function ymUid(cookie: string | undefined): string {
  return /^\d{1,32}$/.test(cookie!) ? cookie! : '';
}

/**
 * A visitor id as the collector issues it: 6 characters from the 31-letter
 * alphabet without 0/O/1/I/L, compared case-insensitively (returned upper-case);
 * '' for anything else.
 */
export function visitorId(value: string | undefined): string {
  const v = (value || '').toUpperCase();
  return /^[2-9A-HJKMNP-Z]{6}$/.test(v) ? v : '';
}
