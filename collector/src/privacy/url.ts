// Stored URLs and referrers carry no e-mail addresses, phone numbers or
// people's names. GET forms and newsletter links put them in the query string
// (`?email=anna%40mail.ru&phone=%2B7916…`), single-page apps in the fragment
// (`#/thanks?email=…`). A parameter named like one (any case or spelling:
// email, E-Mail, phone_number, tel, name, fio, …), named in URL_REDACT_PARAMS,
// or whose value holds an e-mail or a phone number keeps its name and loses its
// value, which becomes `redacted`. Redacted rather than hashed: nothing joins
// visits on a URL's contact data (leads bring it as keyed hashes, steps/contacts.ts),
// and a hash of it would still single a person out; a redaction keeps nothing.
// UTM tags and click ids are kept as they are: attribution reads them.
// Most URLs have no query or nothing in it that could be personal: one test of
// a regular expression tells, and only the rest is taken apart.
import type { CountryCode } from 'libphonenumber-js';
import { CLICK_IDS } from '../hits/row.js';
import { hasContact, personalName, squashName } from './personal.js';

export const REDACTED = 'redacted';

const KEPT = new Set<string>(CLICK_IDS);
const isKept = (name: string) => KEPT.has(name) || name.toLowerCase().startsWith('utm_');

/** Decodes a query component as a form does (`+` is a space); malformed escapes are kept as they are. */
function decode(raw: string): string {
  const s = raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class UrlRedactor {
  /** Squashed names of the configured parameters. */
  private readonly extra: Set<string>;
  /** What any URL that needs redacting holds after its `?` or `#`: an `@`, a run of digits, a suspicious name. */
  private readonly suspect: RegExp;

  constructor(
    extraParams: readonly string[] = [],
    private readonly country: CountryCode = 'RU',
  ) {
    this.extra = new Set(extraParams.map(squashName));
    const names = ['mail', 'phone', 'tel', 'mobile', 'cell', 'whatsapp', 'name', 'fio', ...extraParams.map(escapeRegExp)];
    this.suspect = new RegExp(`@|%40|\\d(?:[\\d\\s().+-]|%20|%2B|%28|%29){5,}\\d|${names.join('|')}`, 'i');
  }

  /** The URL with every personal value redacted; the same string when there is none. */
  redact(url: string): string {
    const q = url.indexOf('?');
    const h = url.indexOf('#');
    if (q === -1 && h === -1) return url;
    const start = q === -1 || (h !== -1 && h < q) ? h : q;
    if (!this.suspect.test(url.slice(start))) return url;
    const head = url.slice(0, start);
    if (start === h) return `${head}#${this.fragment(url.slice(h + 1))}`;
    const query = this.pairs(url.slice(q + 1, h === -1 ? url.length : h));
    return h === -1 ? `${head}?${query}` : `${head}?${query}#${this.fragment(url.slice(h + 1))}`;
  }

  /** A fragment: a route with its own query (`/thanks?email=…`), pairs (`email=…&x=1`), or plain text. */
  private fragment(f: string): string {
    const q = f.indexOf('?');
    if (q !== -1) return `${this.text(f.slice(0, q))}?${this.pairs(f.slice(q + 1))}`;
    return f.includes('=') ? this.pairs(f) : this.text(f);
  }

  private text(raw: string): string {
    return raw !== '' && hasContact(decode(raw), this.country) ? REDACTED : raw;
  }

  private pairs(query: string): string {
    return query
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1) return this.text(pair);
        const rawName = pair.slice(0, eq);
        const rawValue = pair.slice(eq + 1);
        const name = decode(rawName);
        if (rawValue === '' || isKept(name)) return pair;
        const personal = personalName(name) !== null || this.extra.has(squashName(name)) || hasContact(decode(rawValue), this.country);
        return personal ? `${rawName}=${REDACTED}` : pair;
      })
      .join('&');
  }
}

/** The redactor of the built-in names only (pipeline deps that configure none, as unit tests build them). */
export const DEFAULT_REDACTOR = new UrlRedactor();
