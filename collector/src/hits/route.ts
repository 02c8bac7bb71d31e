// The hit endpoints — the hot path. They run on node:http directly, not through
// Express: every visit to every site lands here, and Express with its middleware
// costs several times the raw server's throughput.
//   POST /hit    a hit as JSON, sent as text/plain (no CORS preflight) or application/json
//   POST /lead   the same, for form submissions: `k` may be left out (it is `lead`)
//   GET  /p.gif  the pixel: the hit in the query string, answered with a 1x1 GIF
// A hit is answered 204 only once it is durable (buffer/journal-buffer.ts).
import { randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { newContext, type HitContext, type RequestFacts, type Step } from '../pipeline/context.js';
import { LATE_STEPS, runPipeline, STEPS } from '../pipeline/pipeline.js';
import { DROP_STATUS, drop, type DropReason } from '../pipeline/reasons.js';
import type { Services } from '../services.js';
import type { TableRecord } from '../spill/tables.js';

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

function headers(cors: string | null): Record<string, string> {
  if (cors === '*') return OPEN_HEADERS;
  if (cors === null) return BASE_HEADERS;
  return { ...BASE_HEADERS, 'Access-Control-Allow-Origin': cors, Vary: 'Origin' };
}

export function reply(res: ServerResponse, status: number, reason?: string, cors: string | null = '*'): void {
  if (reason === undefined) {
    res.writeHead(status, headers(cors)).end();
    return;
  }
  const body = JSON.stringify({ error: reason });
  res.writeHead(status, { ...headers(cors), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
}

/** Reads a body up to `limit` bytes; null when it is larger. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

function facts(svc: Services, req: IncomingMessage): RequestFacts {
  const h = req.headers;
  return {
    ip: svc.ingest.clientIp(req),
    userAgent: (h['user-agent'] ?? '').slice(0, 1024),
    origin: h.origin,
    clientHints: typeof h['sec-ch-ua'] === 'string' ? h['sec-ch-ua'] : '',
    receivedAt: Date.now(),
  };
}

/** Records a refused hit and answers it. */
function refuse(svc: Services, res: ServerResponse, reason: DropReason, cors: string | null, detail?: string): void {
  svc.ingest.metrics.dropped.inc({ reason });
  if (svc.log.isLevelEnabled('debug')) svc.log.debug({ reason, detail }, 'hit dropped');
  const status = DROP_STATUS[reason];
  reply(res, status, status === 204 ? undefined : reason, cors);
}

/**
 * Runs a hit through the pipeline, makes it durable, and answers. `accepted`
 * answers an accepted (or silently dropped) hit: 204, or the pixel's GIF.
 */
async function ingest(
  svc: Services,
  ctx: HitContext,
  res: ServerResponse,
  steps: readonly Step[],
  accepted: (res: ServerResponse, cors: string | null) => void,
): Promise<void> {
  const { sites } = svc.ingest.deps;
  const dropped = await runPipeline(ctx, svc.ingest.deps, steps);
  const cors = sites.corsOrigin(ctx.req.origin, ctx.site);
  if (dropped) {
    if (DROP_STATUS[dropped.reason] === 204) {
      svc.ingest.metrics.dropped.inc({ reason: dropped.reason });
      accepted(res, cors);
      return;
    }
    refuse(svc, res, dropped.reason, cors, dropped.detail);
    return;
  }
  const row = ctx.row!;
  const records: TableRecord[] = [{ table: 'hits', json: JSON.stringify(row) }];
  for (const link of ctx.links) records.push({ table: 'identity_links', json: JSON.stringify(link) });
  // The limits' Redis call and the journal write run side by side.
  const late = runPipeline(ctx, svc.ingest.deps, LATE_STEPS);
  try {
    await svc.hits.accept(
      records,
      late.then((d) => d === null),
    );
  } catch (err) {
    svc.log.error({ err: (err as Error).message }, 'hit not made durable');
    reply(res, 503, 'unavailable', cors);
    return;
  }
  accepted(res, cors);
  const verdict = await late;
  if (verdict) svc.ingest.metrics.dropped.inc({ reason: verdict.reason });
  else svc.ingest.metrics.acceptedOf(row.kind).inc();
}

const noContent = (res: ServerResponse, cors: string | null) => reply(res, 204, undefined, cors);

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

function postHandler(svc: Services, steps: readonly Step[]) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
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
    const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
    if (!ACCEPTED_TYPES.has(type)) {
      req.resume();
      return refuse(svc, res, 'unsupported_content_type', cors);
    }
    const body = await readBody(req, MAX_HIT_BYTES);
    if (body === null) return refuse(svc, res, 'body_too_large', cors);
    if (!isUtf8(body)) return refuse(svc, res, 'invalid_utf8', cors);
    await ingest(svc, newContext(facts(svc, req), { text: body.toString('utf8') }), res, steps, noContent);
  };
}

export const hitHandler = (svc: Services) => postHandler(svc, STEPS);
export const leadHandler = (svc: Services) => postHandler(svc, LEAD_STEPS);

const sendGif = (res: ServerResponse, cors: string | null) =>
  res.writeHead(200, { ...headers(cors), 'Content-Type': 'image/gif', 'Content-Length': PIXEL_GIF.length }).end(PIXEL_GIF);

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

export function pixelHandler(svc: Services) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const cors = svc.ingest.deps.sites.corsOrigin(req.headers.origin);
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(svc, res, 'method_not_allowed', cors);
    const url = req.url ?? '';
    if (url.length > MAX_HIT_BYTES) return refuse(svc, res, 'body_too_large', cors);
    const q = url.indexOf('?');
    const f = facts(svc, req);
    const parsed = pixelHit(new URLSearchParams(q === -1 ? '' : url.slice(q + 1)), req.headers.referer, f.receivedAt);
    if (parsed === undefined) return refuse(svc, res, 'malformed_json', cors);
    await ingest(svc, newContext(f, { parsed }), res, STEPS, sendGif);
  };
}
