// Which sites may send hits, and from which browser origins (CORS). Configured by
// SITES: a JSON object, or the path of a file holding one:
//   {"shop": {"origins": ["https://shop.example", "https://www.shop.example"]},
//    "demo": {"origins": ["*"]}}
// touchDays: how long the first and last touch live when the collector sets
// them (first-party mode); the tracker's data-days, where the site sets one (90).
// With no SITES at all every site id is accepted from every origin (development,
// the demo); once SITES is set, only the listed sites are.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TOUCH_DAYS } from '../../../contract/touches.js';
import { ConfigError } from '../config.js';

const ORIGIN = /^(\*|https?:\/\/[^/\s]+)$/;

const schema = z.record(
  z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'site ids are 1-64 of [A-Za-z0-9_.-]'),
  z.object({
    origins: z.array(z.string().regex(ORIGIN, 'an origin is "*" or scheme://host[:port]')).default(['*']),
    touchDays: z.number().int().min(1).max(3650).default(TOUCH_DAYS),
  }),
);

export type Site = { id: string; anyOrigin: boolean; origins: ReadonlySet<string>; touchDays: number };

export class SiteRegistry {
  private readonly sites = new Map<string, Site>();
  /** Origins allowed for at least one site, for preflight requests (which carry no site id). */
  private readonly allOrigins = new Set<string>();
  private anyOrigin = false;

  constructor(config: Record<string, { origins: string[]; touchDays?: number }> | null) {
    this.open = config === null;
    for (const [id, { origins, touchDays = TOUCH_DAYS }] of Object.entries(config ?? {})) {
      const site: Site = { id, anyOrigin: origins.includes('*'), origins: new Set(origins.map((o) => o.toLowerCase())), touchDays };
      this.sites.set(id, site);
      if (site.anyOrigin) this.anyOrigin = true;
      for (const o of site.origins) this.allOrigins.add(o);
    }
  }

  /** True when no sites are configured: every site id and origin is accepted. */
  readonly open: boolean;

  get(id: string): Site | undefined {
    return this.sites.get(id);
  }

  /** May `origin` (the request's Origin header, or undefined) send hits for this site? */
  allows(site: Site | undefined, origin: string | undefined): boolean {
    if (this.open || origin === undefined) return true;
    if (!site) return false;
    return site.anyOrigin || site.origins.has(origin.toLowerCase());
  }

  /** The Access-Control-Allow-Origin value for a request, or null for none. */
  corsOrigin(origin: string | undefined, site?: Site): string | null {
    if (this.open) return '*';
    if (origin === undefined) return null;
    if (site) return this.allows(site, origin) ? origin : null;
    return this.anyOrigin || this.allOrigins.has(origin.toLowerCase()) ? origin : null;
  }
}

/** Parses SITES (JSON text or a file path); throws an Error naming SITES when it is bad. */
export function loadSites(raw: string | undefined): SiteRegistry {
  if (raw === undefined || raw.trim() === '') return new SiteRegistry(null);
  let text = raw;
  if (!raw.trim().startsWith('{')) {
    try {
      text = readFileSync(raw, 'utf8');
    } catch (err) {
      throw new ConfigError(`SITES: neither JSON nor a readable file (${(err as Error).message})`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`SITES: not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(`SITES: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return new SiteRegistry(parsed.data);
}
