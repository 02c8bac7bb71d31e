// What of a request may be logged. Secrets travel in URLs (a CRM webhook's
// :secret segment, the report page's ?token=, amoCRM's OAuth code and state), so
// a URL is masked by where a secret stands in the route, never by what the value
// looks like: a long source name is not a secret, a short secret still is.
// Every log line that names a request goes through requestLog().
import type { IncomingMessage } from 'node:http';

/**
 * The routes with a secret in their path, and their siblings whose segment at
 * that place is a fixed word. A URL takes the pattern that matches most of its
 * leading segments literally; `:secret` marks what is masked.
 */
const ROUTES = [
  '/crm/amocrm/:source/:secret',
  '/crm/amocrm/:source/oauth',
  '/crm/zoho/:source/:secret',
  '/crm/zoho/:source/notify',
  '/crm/zoho/:source/watch',
  '/crm/import/:source/:secret',
  '/inbound-email/:secret',
].map((p) => p.split('/').slice(1));

/** Query parameters whose value is a credential: report and metrics tokens, OAuth's code and state (our secret). */
const SECRET_PARAMS = new Set(['token', 'code', 'state', 'secret', 'access_token', 'refresh_token', 'client_secret', 'password', 'key']);

export const MASK = '…';

type Split = { segments: string[]; query: string };

function split(url: string): Split {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return { segments: path.split('/').slice(1), query: q === -1 ? '' : url.slice(q + 1) };
}

/** Indexes of the path segments that hold a secret. */
function secretSegments(segments: string[]): number[] {
  let best: string[] | null = null;
  let bestLiterals = -1;
  for (const route of ROUTES) {
    if (segments.length < route.length) continue;
    let literals = 0;
    let matches = true;
    for (let i = 0; i < route.length; i++) {
      const part = route[i]!;
      if (part.startsWith(':')) continue;
      if (part !== segments[i]) {
        matches = false;
        break;
      }
      literals++;
    }
    if (matches && literals > bestLiterals) {
      best = route;
      bestLiterals = literals;
    }
  }
  return best ? best.flatMap((part, i) => (part === ':secret' ? [i] : [])) : [];
}

/** The secret values a URL carries, as they stand in it (percent-encoded) and decoded. */
export function secretsIn(url: string): string[] {
  const { segments, query } = split(url);
  const raw = secretSegments(segments).map((i) => segments[i]!);
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && SECRET_PARAMS.has(pair.slice(0, eq).toLowerCase())) raw.push(pair.slice(eq + 1));
  }
  const out = new Set<string>();
  for (const s of raw) {
    if (!s) continue;
    out.add(s);
    try {
      out.add(decodeURIComponent(s.replace(/\+/g, ' ')));
    } catch {
      // an undecodable secret stands in logs only as it was sent
    }
  }
  return [...out];
}

/** The URL with every secret in it replaced by `…`. */
export function maskUrl(url: string): string {
  const { segments, query } = split(url);
  for (const i of secretSegments(segments)) segments[i] = MASK;
  const path = `/${segments.join('/')}`;
  if (!query) return url.includes('?') ? `${path}?` : path;
  const masked = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq > 0 && SECRET_PARAMS.has(pair.slice(0, eq).toLowerCase()) ? `${pair.slice(0, eq + 1)}${MASK}` : pair;
    })
    .join('&');
  return `${path}?${masked}`;
}

/** `text` (an error message, which may quote the URL or a parameter) without the URL's secrets. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  // Longest first, so a secret is not half-masked by a shorter one inside it; very short values (a
  // mistyped state) would mask ordinary words and are no credential.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s.length >= 4) out = out.split(s).join(MASK);
  return out;
}

/** The fields of a log line about a request (and the error it met), with its secrets masked. */
export function requestLog(req: IncomingMessage & { originalUrl?: string }, err?: unknown): { method: string; url: string; err?: string } {
  const url = req.originalUrl ?? req.url ?? '/';
  const fields: { method: string; url: string; err?: string } = { method: req.method ?? '', url: maskUrl(url) };
  if (err !== undefined) fields.err = scrub(String(err), secretsIn(url));
  return fields;
}
