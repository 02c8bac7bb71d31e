// The page URL of a hit, taken apart without a full URL parse per hit. For http
// and https URLs only the scheme and authority can make a WHATWG parse fail (the
// path, query and fragment are percent-encoded, never refused), and they also
// decide the host; a site's pages share a handful of origins, so their verdict
// is parsed once and remembered, and the rest of the URL is read as text.
import { remember } from '../cache/remember.js';

/**
 * A URL's host as the WHATWG parser gives it (null: not a URL), remembered per
 * URL. Each caller makes its own: a cache checks its last answer first, and two
 * kinds of URL taking turns in one cache would never find it there.
 */
export const rememberedHost = () => remember((url) => URL.parse(url)?.hostname ?? null, 5000);

/** The host of an `http(s)://authority` prefix, or null when no URL could start with it. */
const hostOfOrigin = rememberedHost();

/**
 * Where the authority of `url` ends: the first `/`, `\`, `?` or `#` after the
 * slashes that follow the scheme (special schemes read `\` as `/` and skip any
 * number of slashes before the authority).
 */
function authorityEnd(url: string): number {
  let start = url.indexOf(':') + 1;
  while (start < url.length && (url.charCodeAt(start) === 0x2f || url.charCodeAt(start) === 0x5c)) start++;
  for (let i = start; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x2f || c === 0x5c || c === 0x3f || c === 0x23) return i;
  }
  return url.length;
}

/**
 * The host of an http(s) URL, as `new URL(url).hostname` gives it, or null
 * where `new URL(url)` throws. `url` must start with `http://` or `https://`.
 */
export function pageHost(url: string): string | null {
  const origin = url.slice(0, authorityEnd(url));
  // A space or control character there: the parser trims the ends of the whole
  // URL and drops tabs and newlines, so the prefix alone could read otherwise.
  if (CONTROL_OR_SPACE.test(origin)) return URL.parse(url)?.hostname ?? null;
  return hostOfOrigin(origin);
}

const CONTROL_OR_SPACE = /[\x00-\x20]/;

/** Outside printable ASCII: the parser would trim, drop or percent-encode it, and decoding may not give it back. */
const NOT_PRINTABLE = /[^\x21-\x7e]/;

/**
 * The query string of an http(s) URL with its `?` ('' when none), up to the
 * fragment: URLSearchParams reads the same pairs from it as from the parsed URL's
 * `search`. Printable ASCII is taken as it stands (what the parser
 * percent-encodes there decodes back to itself); anything else, rare in what
 * browsers send, goes through the parser.
 */
export function pageSearch(url: string): string {
  // The scheme and the authority hold no `?` or `#` (either would end the
  // authority), so the first of each in the URL is the query's and the fragment's.
  const from = url.indexOf('?');
  const hash = url.indexOf('#');
  if (from === -1 || (hash !== -1 && hash < from)) return '';
  const search = url.slice(from, hash === -1 ? url.length : hash);
  return NOT_PRINTABLE.test(search) ? (URL.parse(url)?.search ?? '') : search;
}
