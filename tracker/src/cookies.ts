// First-party cookies, read and written without ever throwing: a sandboxed
// iframe or a browser with cookies disabled makes document.cookie throw or
// ignore writes, and the host page must not notice.
//
// js-cookie (the project's cookie library) alone weighs ~720 bytes gzip, a third
// of the tracker's 2 KB budget; the tracker needs only "read one" and "write one",
// written here in a few dozen bytes with the same encoding js-cookie uses for
// values (percent-encoding), so a site reading our cookies with js-cookie gets
// the same strings (tests/unit/tracker/cookies.test.ts checks both directions).
import { d, loc } from './page.js';

/** The cookie's decoded value; undefined when absent, unreadable or malformed. */
export function getCookie(name: string): string | undefined {
  try {
    return decodeURIComponent(d.cookie.match('(^|; )' + name + '=([^;]*)')![2]!);
  } catch {
    // absent, unreadable cookie jar or a malformed %-sequence: treated as absent
  }
}

/**
 * The site's registrable domain (`shop.co.uk` for `www.shop.co.uk`), found as
 * GA's cookieDomain 'auto' finds it: the shortest suffix of the host name the
 * browser lets a cookie be set on (it refuses public suffixes, by its own list,
 * so we need none). The host name itself always is one (an IP address too).
 * The probe cookie `tl_d` stays for the session; its value is this page's own,
 * so an earlier page's probe cannot answer for a shorter suffix.
 */
let domain: string | undefined;
function registrableDomain(): string {
  if (!domain) for (let probe = '' + Math.random(), labels = loc.hostname.split('.'), i = labels.length; getCookie('tl_d') != probe && i--; ) d.cookie = 'tl_d=' + probe + ';path=/;domain=' + (domain = labels.slice(i).join('.'));
  return domain!;
}

/**
 * Writes a cookie for the whole registrable domain (www. and every subdomain
 * share it) for `days` days; a negative number deletes it. The host's own cookie
 * of that name, which earlier versions wrote, is removed first, so reads see one.
 */
export function setCookie(name: string, value: string | number, days: number): void {
  try {
    d.cookie = name + '=;path=/;max-age=0';
    d.cookie = name + '=' + encodeURIComponent(value) + ';path=/;max-age=' + days * 86400 + ';domain=' + registrableDomain(); // SameSite=Lax is the browsers' default
  } catch {
    // cookies unavailable: the tracker keeps working, only without memory
  }
}
