// The hit endpoints — the hot path. They run on node:http directly, not through
// Express: every visit to every site lands here, and Express with its middleware
// costs several times the raw server's throughput.
//   POST /hit    a hit as JSON, sent as text/plain (no CORS preflight) or application/json
//   POST /lead   the same, for form submissions: `k` may be left out (it is `lead`)
//   GET  /p.gif  the pixel: the hit in the query string, answered with a 1x1 GIF
// A hit is answered 204 only once it is durable (buffer/journal-buffer.ts).
// Past reading the body (node's stream events take a listener per request),
// nothing makes a promise or a closure per hit: the steps are synchronous, and
// the journal (once per event-loop turn) and the limits (once per call, every
// 5 ms) answer the hit's own object.
import { randomBytes } from 'node:crypto';
import { isAscii, isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { remember } from '../cache/remember.js';
import { newContext, type HitContext, type RequestFacts, type Step } from '../pipeline/context.js';
import { runPipeline, STEPS } from '../pipeline/pipeline.js';
import { limitQuery } from '../pipeline/steps/limits.js';
import { DROP_STATUS, drop, type DropReason } from '../pipeline/reasons.js';
import type { Services } from '../services.js';
import { tsvStream } from '../spill/tables.js';
import { hitTsv } from './row.js';
import { JournalEntry, type MoreRows } from '../buffer/journal-buffer.js';
import type { LimitTarget, LimitVerdict } from '../limits/visit-limits.js';
import { firstPartyRequest, hitCookies } from '../first-party/cookies.js';
import { TOUCH_DAYS } from '../../../contract/touches.js';

export const MAX_HIT_BYTES = 16 * 1024;

/** Headers every hot-path answer carries (helmet's, for a body-less response). */
const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Cache-Control': 'no-store',
} as const;

const OPEN_HEADERS = { ...BASE_HEADERS, 'Access-Control-Allow-Origin': '*' } as const;

/** The 1x1 transparent GIF of the pixel endpoint. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const ACCEPTED_TYPES = new Set(['text/plain', 'application/json', '']);

/** Verdicts per Content-Type header as sent: browsers send a handful of spellings. */
const acceptedType = remember((raw) => ACCEPTED_TYPES.has(raw.split(';', 1)[0]!.trim().toLowerCase()), 100);

/** Set-Cookie values of a first-party answer (first-party/cookies.ts); null for none. */
type Cookies = string[] | null;

function headers(cors: string | null, cookies: Cookies = null): Record<string, string | string[]> {
  const base = cors === '*' ? OPEN_HEADERS : cors === null ? BASE_HEADERS : { ...BASE_HEADERS, 'Access-Control-Allow-Origin': cors, Vary: 'Origin' };
  return cookies === null || cookies.length === 0 ? base : { ...base, 'Set-Cookie': cookies };
}

export function reply(res: ServerResponse, status: number, reason?: string, cors: string | null = '*', cookies: Cookies = null): void {
  if (reason === undefined) {
    res.writeHead(status, headers(cors, cookies)).end();
    return;
  }
  const body = JSON.stringify({ error: reason });
  res.writeHead(status, { ...headers(cors), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

/**
 * Reads a body up to `limit` bytes and calls `done` with it, or with null when
 * it is larger. A request that fails while being read (the client went away)
 * gets no call: there is no one left to answer.
 */
export function readBody(req: IncomingMessage, limit: number, done: (body: Buffer | null) => void): void {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    done(null);
    return;
  }
  let first: Buffer | null = null;
  let chunks: Buffer[] | null = null;
  let size = 0;
  const onData = (c: Buffer) => {
    size += c.length;
    if (size > limit) {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.resume();
      done(null);
      return;
    }
    if (first === null) first = c;
    else (chunks ??= [first]).push(c);
  };
  const onEnd = () => done(chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0)));
  req.on('data', onData);
  req.on('end', onEnd);
}

/** The request's facts; `firstParty` for a request through the site's own server (/fp/), whose answer sets cookies. */
function facts(svc: Services, req: IncomingMessage, firstParty: boolean): RequestFacts {
  const h = req.headers;
  return {
    ip: svc.ingest.clientIp(req),
    userAgent: (h['user-agent'] ?? '').slice(0, 1024),
    origin: h.origin,
    clientHints: typeof h['sec-ch-ua'] === 'string' ? h['sec-ch-ua'] : '',
    receivedAt: Date.now(),
    firstParty: firstParty ? firstPartyRequest(req, svc.ingest.forwarded) : undefined,
  };
}

/** Records a refused hit and answers it. */
function refuse(svc: Services, res: ServerResponse, reason: DropReason, cors: string | null, detail?: string): void {
  svc.ingest.metrics.dropped.inc({ reason });
  if (svc.log.isLevelEnabled('debug')) svc.log.debug({ reason, detail }, 'hit dropped');
  const status = DROP_STATUS[reason];
  reply(res, status, status === 204 ? undefined : reason, cors);
}

type Answer = (res: ServerResponse, cors: string | null, cookies: Cookies) => void;

const HITS = tsvStream('hits');

/**
 * A hit between its pipeline and its answer: the journal tells it when it is
 * durable (it is answered then), the limits tell it their verdict (its lines stay
 * in the batch or not); it is counted, accepted or dropped, once both have spoken.
 */
class HitInFlight extends JournalEntry implements LimitTarget {
  private isDurable: boolean | undefined;
  private verdict: LimitVerdict | undefined;

  constructor(
    more: MoreRows[] | null,
    gated: boolean,
    private readonly svc: Services,
    private res: ServerResponse | null,
    private readonly cors: string | null,
    private readonly answer: Answer,
    private readonly kind: string,
    private readonly cookies: Cookies,
  ) {
    super(HITS, gated, more);
    if (!gated) this.verdict = 'ok';
  }

  durable(err: Error | null): void {
    this.isDurable = err === null;
    const res = this.res!;
    this.res = null;
    if (err) {
      this.svc.log.error({ err: err.message }, 'hit not made durable');
      reply(res, 503, 'unavailable', this.cors);
      return;
    }
    this.answer(res, this.cors, this.cookies);
    this.count();
  }

  limited(verdict: LimitVerdict): void {
    this.verdict = verdict;
    this.svc.hits.settle(this, verdict === 'ok');
    this.count();
  }

  private count(): void {
    if (this.isDurable !== true || this.verdict === undefined) return;
    const { metrics } = this.svc.ingest;
    if (this.verdict === 'ok') metrics.acceptedOf(this.kind).inc();
    else metrics.dropped.inc({ reason: this.verdict });
  }
}

/**
 * Runs a hit through the pipeline, makes it durable, and answers. `accepted`
 * answers an accepted (or silently dropped) hit: 204, or the pixel's GIF.
 * The visit throttle and rate limit are asked beside the journal write.
 */
function ingest(svc: Services, ctx: HitContext, res: ServerResponse, steps: readonly Step[], accepted: Answer): void {
  const { deps, metrics } = svc.ingest;
  const dropped = runPipeline(ctx, deps, steps);
  const cors = deps.sites.corsOrigin(ctx.req.origin, ctx.site);
  if (dropped) {
    if (DROP_STATUS[dropped.reason] === 204) {
      metrics.dropped.inc({ reason: dropped.reason });
      accepted(res, cors, null);
      return;
    }
    refuse(svc, res, dropped.reason, cors, dropped.detail);
    return;
  }
  const row = ctx.row!;
  // What the hit lost on the way (a malformed id, a prop not kept) is counted once it is kept.
  for (const d of ctx.hit!.dropped) metrics.fieldsDropped.inc(d);
  const links =
    ctx.links.length === 0
      ? null
      : [{ stream: 'identity_links', text: ctx.links.map((l) => `${JSON.stringify(l)}\n`).join(''), rows: ctx.links.length, line: 0 }];
  const limited = !deps.limits.off;
  const fp = ctx.req.firstParty;
  const raw = ctx.parsed as { u?: unknown; r?: unknown };
  const cookies = fp ? hitCookies(fp, { visitorId: ctx.hit!.visitorId, href: raw.u, referrer: raw.r }, ctx.site?.touchDays ?? TOUCH_DAYS) : null;
  const hit = new HitInFlight(links, limited, svc, res, cors, accepted, row.kind, cookies);
  svc.hits.accept(hit, `${hitTsv(row)}\n`);
  if (limited) deps.limits.check(limitQuery(ctx), ctx.req.receivedAt, hit);
}

const noContent: Answer = (res, cors, cookies) => reply(res, 204, undefined, cors, cookies);

/** For /lead: a missing kind means `lead`, and only leads come here. */
const leadKind: Step = (ctx) => {
  const o = ctx.parsed;
  if (typeof o === 'object' && o !== null && !Array.isArray(o)) {
    const h = o as Record<string, unknown>;
    if (h.k === undefined) h.k = 'lead';
    else if (h.k !== 'lead') return drop('invalid_kind', 'k: only lead at /lead');
  }
  return undefined;
};

const LEAD_STEPS: readonly Step[] = [STEPS[0]!, leadKind, ...STEPS.slice(1)];

type HotHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** `firstParty`: the handler of the path the site's own server forwards (/fp/…), whose answers set the cookies. */
function postHandler(svc: Services, steps: readonly Step[], firstParty: boolean): HotHandler {
  return (req, res) => {
    const origin = req.headers.origin;
    if (req.method === 'OPTIONS') {
      const cors = svc.ingest.deps.sites.corsOrigin(origin);
      res
        .writeHead(204, { ...headers(cors), 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '86400' })
        .end();
      return;
    }
    const cors = svc.ingest.deps.sites.corsOrigin(origin);
    if (req.method !== 'POST') return refuse(svc, res, 'method_not_allowed', cors);
    if (!acceptedType(req.headers['content-type'] ?? '')) {
      req.resume();
      return refuse(svc, res, 'unsupported_content_type', cors);
    }
    readBody(req, MAX_HIT_BYTES, (body) => {
      if (body === null) return refuse(svc, res, 'body_too_large', cors);
      // The tracker's JSON is nearly always ASCII (it escapes nothing, but URLs are
      // percent-encoded): then decoding is a copy, with no UTF-8 check to make.
      let text: string;
      if (isAscii(body)) text = body.toString('latin1');
      else if (isUtf8(body)) text = body.toString('utf8');
      else return refuse(svc, res, 'invalid_utf8', cors);
      try {
        ingest(svc, newContext(facts(svc, req, firstParty), { text }), res, steps, noContent);
      } catch (err) {
        failed(svc, res, err);
      }
    });
  };
}

/**
 * A failure inside a hit's handling answers that hit 500 (or cuts it off, when
 * its answer had begun) and leaves the process up. Callers catch, so no closure
 * is made per hit.
 */
export function failed(svc: Services, res: ServerResponse, err: unknown): void {
  svc.log.error({ err: String(err) }, 'hot route failed');
  if (!res.headersSent) reply(res, 500, 'internal_error');
  else res.destroy();
}

export const hitHandler = (svc: Services, firstParty = false) => postHandler(svc, STEPS, firstParty);
export const leadHandler = (svc: Services, firstParty = false) => postHandler(svc, LEAD_STEPS, firstParty);

const sendGif: Answer = (res, cors, cookies) =>
  res.writeHead(200, { ...headers(cors, cookies), 'Content-Type': 'image/gif', 'Content-Length': PIXEL_GIF.length }).end(PIXEL_GIF);

/**
 * The hit of a pixel request: `?d=<the JSON hit>`, or the wire keys as query
 * parameters (s, k, e, t, u, r, g, y, v). A `<noscript>` pixel knows only its
 * site: the kind defaults to visit, the event id is made here, the time is now
 * and the page is the Referer.
 */
export function pixelHit(query: URLSearchParams, referer: string | undefined, now: number): unknown {
  const d = query.get('d');
  if (d !== null) {
    try {
      return JSON.parse(d);
    } catch {
      return undefined;
    }
  }
  const o: Record<string, unknown> = {
    s: query.get('s') ?? undefined,
    k: query.get('k') ?? 'visit',
    e: query.get('e') ?? randomBytes(12).toString('base64url'),
    t: query.has('t') ? Number(query.get('t')) : now,
    u: query.get('u') ?? referer ?? undefined,
  };
  for (const key of ['r', 'g', 'y', 'v']) if (query.has(key)) o[key] = query.get(key);
  return o;
}

export function pixelHandler(svc: Services, firstParty = false): HotHandler {
  return (req, res) => {
    const cors = svc.ingest.deps.sites.corsOrigin(req.headers.origin);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(svc, res, 'method_not_allowed', cors);
    const url = req.url ?? '';
    if (url.length > MAX_HIT_BYTES) return refuse(svc, res, 'body_too_large', cors);
    const q = url.indexOf('?');
    const f = facts(svc, req, firstParty);
    const parsed = pixelHit(new URLSearchParams(q === -1 ? '' : url.slice(q + 1)), req.headers.referer, f.receivedAt);
    if (parsed === undefined) return refuse(svc, res, 'malformed_json', cors);
    ingest(svc, newContext(f, { parsed }), res, STEPS, sendGif);
  };
}
