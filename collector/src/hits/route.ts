// POST /hit — the hot path. It runs on node:http directly, not through Express:
// every visit to every site lands here, and Express with its middleware costs
// several times the raw server's throughput.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services.js';
import { toRow } from './row.js';
import { isWireError, parseHit } from './wire.js';

export const MAX_HIT_BYTES = 16 * 1024;

/** Headers every hot-path answer carries (helmet's, for a body-less response). */
const BASE_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Cache-Control': 'no-store',
  'Access-Control-Allow-Origin': '*',
} as const;

export function reply(res: ServerResponse, status: number, reason?: string): void {
  if (reason === undefined) {
    res.writeHead(status, BASE_HEADERS).end();
    return;
  }
  const body = JSON.stringify({ error: reason });
  res.writeHead(status, { ...BASE_HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
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
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

export function hitHandler(svc: Services) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...BASE_HEADERS, 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type' }).end();
      return;
    }
    if (req.method !== 'POST') return reply(res, 405, 'method_not_allowed');
    const body = await readBody(req, MAX_HIT_BYTES);
    if (body === null) return reply(res, 413, 'body_too_large');
    const hit = parseHit(body.toString('utf8'));
    if (isWireError(hit)) return reply(res, 400, hit.reason);
    svc.hits.push(toRow(hit, Date.now(), { userAgent: req.headers['user-agent'] ?? '', ipHash: '' }));
    reply(res, 204);
  };
}
