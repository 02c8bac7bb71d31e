// Which visited pages a rule's pattern matches (crm/config/triggers.ts checks
// the pattern itself). The pattern is over the page's path only: no host, no
// query, no fragment; `*` is any run of characters (`/` included); paths are
// compared case-sensitively, and a trailing slash is ignored (`/pricing`,
// `/pricing/` and `/pricing/*` all match the visit of `/pricing/`).
//
// Percent-encoding: browsers send `/цены` as `/%D1%86%D0%B5%D0%BD%D1%8B`, and
// an owner writes the pattern either way. Both sides are compared decoded: every
// escape that forms valid UTF-8 is read as its character (so `%2F` is a `/`),
// and an escape that does not stays as it was written. The literal text between
// a pattern's stars is decoded on its own, so `%2A` in a pattern is an asterisk,
// not a wildcard.
//
// The path is read from the stored URL as text, the way the collector reads a
// page's query (hits/page.ts): after the scheme, the slashes and the authority,
// up to the first `?` or `#`. A browser sends its address normalised; an address
// no browser sends (dot segments, backslashes) is matched as it stands.
//
// sqlPathRegex gives ClickHouse a narrowing of the same rule, so that the scan
// reads only the visits that may match: the leading text of each pattern, each
// character literal or percent-encoded (either case of hex digits). It lets
// through every URL the exact match would take, and a few more (a URL with the
// right beginning but a different end); the exact match in Node decides.

/** A pattern, ready to match: the decoded literal texts between its stars (one more than the stars). */
export type PagePattern = { text: string; parts: string[] };

const HEX = /^[0-9A-Fa-f]{2}$/;

/** The length of a UTF-8 sequence that starts with this byte (0: not a first byte). */
const sequenceLength = (b: number) => (b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0);

/**
 * Percent-escapes decoded where they form valid UTF-8; any other escape (a byte
 * that starts nothing, a sequence cut short, a surrogate, an overlong form) is
 * kept as written. Never throws, whatever the input.
 */
export function decodePercent(s: string): string {
  if (!s.includes('%')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const at = s.indexOf('%', i);
    if (at === -1) break;
    out += s.slice(i, at);
    const first = s.slice(at + 1, at + 3);
    const n = HEX.test(first) ? sequenceLength(parseInt(first, 16)) : 0;
    const escape = s.slice(at, at + 3 * n);
    let decoded: string | null = null;
    if (n > 0 && /^(?:%[0-9A-Fa-f]{2})+$/.test(escape) && escape.length === 3 * n) {
      try {
        decoded = decodeURIComponent(escape);
      } catch {
        decoded = null; // not a valid sequence: decodeURIComponent checks continuation bytes, overlongs and surrogates
      }
    }
    if (decoded === null) {
      out += '%';
      i = at + 1;
    } else {
      out += decoded;
      i = at + escape.length;
    }
  }
  return out + s.slice(i);
}

/** The pattern as matched: split at its stars, each literal decoded on its own. */
export function compilePattern(text: string): PagePattern {
  return { text, parts: text.split('*').map(decodePercent) };
}

/** Where the authority of a URL ends: after the scheme's `:`, any run of `/` and `\`, then up to `/`, `\`, `?` or `#`. */
function authorityEnd(url: string): number {
  let i = url.indexOf(':') + 1;
  while (i < url.length && (url[i] === '/' || url[i] === '\\')) i++;
  while (i < url.length && url[i] !== '/' && url[i] !== '\\' && url[i] !== '?' && url[i] !== '#') i++;
  return i;
}

/** The path of a stored page URL, as sent (still percent-encoded): '' when the URL has none. */
export function pagePath(url: string): string {
  const from = authorityEnd(url);
  let to = from;
  while (to < url.length && url[to] !== '?' && url[to] !== '#') to++;
  return url.slice(from, to);
}

/** `*` as any run of characters; the first part anchors the start, the last the end. Linear: no backtracking. */
function globMatch(parts: string[], s: string): boolean {
  const first = parts[0]!;
  if (parts.length === 1) return s === first;
  const last = parts[parts.length - 1]!;
  if (s.length < first.length + last.length || !s.startsWith(first) || !s.endsWith(last)) return false;
  const end = s.length - last.length;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = s.indexOf(parts[i]!, at);
    if (found === -1 || found + parts[i]!.length > end) return false;
    at = found + parts[i]!.length;
  }
  return true;
}

/** The path with its trailing slash taken away, or one added. */
const toggled = (path: string) => (path.endsWith('/') ? path.slice(0, -1) : `${path}/`);

/** Whether the visit of a page (its stored URL's path, as pagePath gives it) matches the pattern. */
export function matchesPath(pattern: PagePattern, rawPath: string): boolean {
  const path = decodePercent(rawPath);
  return globMatch(pattern.parts, path) || globMatch(pattern.parts, toggled(path));
}

/** How much of a pattern's leading text the SQL narrowing spells out: enough to narrow, short enough for max_query_size. */
const SQL_PREFIX_CHARS = 40;

/** One character as RE2 must find it in a stored URL: itself, or the percent-escapes of its UTF-8 bytes. */
function charRegex(ch: string): string {
  const code = ch.codePointAt(0)!;
  // ASCII as \xHH: no character of the pattern is ever read as regex syntax. Others as they are
  // (RE2 matches their UTF-8 bytes in UTF-8 and Latin-1 mode alike).
  const literal = code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  const bytes = [...Buffer.from(ch, 'utf8')];
  const hexDigit = (d: string) => (/[a-f]/.test(d) ? `[${d.toUpperCase()}${d}]` : d);
  const escaped = bytes.map((b) => `%${[...b.toString(16).padStart(2, '0')].map(hexDigit).join('')}`).join('');
  return `(?:${literal}|${escaped})`;
}

/** What comes before the path in a stored URL: the scheme, the slashes, the authority (as authorityEnd reads it). */
const BEFORE_PATH = '^[^:]*:[/\\\\]*[^/\\\\?#]*';

/**
 * An RE2 regular expression (ClickHouse `match`, the whole stored URL) that every
 * URL a pattern matches also matches; null when some pattern needs no narrowing
 * (it begins with `*`: every visit may match it).
 */
export function sqlPathRegex(patterns: PagePattern[]): string | null {
  const branches: string[] = [];
  for (const p of patterns) {
    // A trailing slash is ignored: the narrowing asks for the text before it.
    let lead = p.parts[0]!;
    if (lead.endsWith('/')) lead = lead.slice(0, -1);
    const chars = [...lead];
    const whole = p.parts.length === 1 && chars.length <= SQL_PREFIX_CHARS;
    if (!whole && chars.length === 0) return null;
    const text = chars.slice(0, SQL_PREFIX_CHARS).map(charRegex).join('');
    // A pattern without a star is the whole path: it ends there, after its slashes (a trailing
    // slash ignored on either side lets `/a//` match `/a/`).
    branches.push(whole ? `${text}(?:\\x2f|%2[Ff])*(?:[?#]|$)` : text);
  }
  if (!branches.length) return null;
  return `${BEFORE_PATH}(?:${[...new Set(branches)].join('|')})`;
}
