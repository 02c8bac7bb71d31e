// What a hit carries through the pipeline, and what the steps may use.
import type { CountryCode } from 'libphonenumber-js';
import type { HitRow } from '../hits/row.js';
import type { HitInput } from '../hits/wire.js';
import type { VisitLimits } from '../limits/visit-limits.js';
import type { DailySalt } from '../privacy/salt.js';
import type { UrlRedactor } from '../privacy/url.js';
import type { Site, SiteRegistry } from '../sites/registry.js';
import type { FirstPartyRequest } from '../first-party/cookies.js';
import type { Drop } from './reasons.js';

/** Facts about the HTTP request, taken once by the route. */
export type RequestFacts = {
  ip: string;
  userAgent: string;
  origin: string | undefined;
  /** The Sec-CH-UA client hint, where automated Chrome names itself. */
  clientHints: string;
  receivedAt: number;
  /** Set for a request through the site's own server (/fp/): its answer sets the cookies (first-party/cookies.ts). */
  firstParty?: FirstPartyRequest;
};

export type IdentityLinkRow = { kind_a: string; id_a: string; kind_b: string; id_b: string; evidence: string; linked_at: string };

export type HitContext = {
  req: RequestFacts;
  /** The body text (POST); undefined when `parsed` is given (the pixel). */
  text?: string;
  parsed?: unknown;
  hit?: HitInput;
  /** The host of hit.url, found by validate. */
  pageHost?: string;
  /** The host of hit.referrer, found by validate ('' when there is none). */
  referrerHost?: string;
  site?: Site;
  ipHash: string;
  row?: HitRow;
  links: readonly IdentityLinkRow[];
};

export type PipelineDeps = {
  sites: SiteRegistry;
  salt: DailySalt;
  limits: VisitLimits;
  ipMode: 'hash' | 'anonymize';
  botFilter: boolean;
  /** validate refuses a client time older than this. */
  maxPastMs: number;
  identityKey: string;
  phoneCountry: CountryCode;
  /** Redacts personal values from stored URLs (URL_REDACT_PARAMS); unset: the built-in names only. */
  urlPrivacy?: UrlRedactor;
};

/** A step passes the hit on (undefined) or drops it with a named reason; synchronously. */
export type Step = (ctx: HitContext, deps: PipelineDeps) => Drop | undefined;

const NO_LINKS: readonly IdentityLinkRow[] = Object.freeze([]);

/** A context with every field present from the start: one object shape for every hit. */
export function newContext(req: RequestFacts, body: { text: string } | { parsed: unknown }): HitContext {
  return {
    req,
    text: 'text' in body ? body.text : undefined,
    parsed: 'parsed' in body ? body.parsed : undefined,
    hit: undefined,
    pageHost: undefined,
    referrerHost: undefined,
    site: undefined,
    ipHash: '',
    row: undefined,
    links: NO_LINKS,
  };
}
