// First-party cookies, read and written without ever throwing: a sandboxed
// iframe or a browser with cookies disabled makes document.cookie throw or
// ignore writes, and the host page must not notice.
//
// js-cookie (the project's cookie library) alone weighs ~720 bytes gzip, a third
// of the tracker's 2 KB budget; the tracker needs only "read one" and "write one",
// written here in a few dozen bytes with the same encoding js-cookie uses for
// values (percent-encoding), so a site reading our cookies with js-cookie gets
// the same strings (tests/unit/tracker/cookies.test.ts checks both directions).

/** The cookie's decoded value; undefined when absent, unreadable or malformed. */
export function getCookie(name: string): string | undefined {
  try {
    return decodeURIComponent(document.cookie.match('(^|; )' + name + '=([^;]*)')![2]!);
  } catch {
    // absent, unreadable cookie jar or a malformed %-sequence: treated as absent
  }
}

/** Writes a site-wide cookie for `days` days (a negative number deletes it). */
export function setCookie(name: string, value: string | number, days: number): void {
  try {
    document.cookie = name + '=' + encodeURIComponent(value) + ';path=/;max-age=' + days * 86400; // SameSite=Lax is the browsers' default
  } catch {
    // cookies unavailable: the tracker keeps working, only without memory
  }
}
