// Secrets compared in constant time (a webhook URL secret, a notification
// token, the admin token): both sides are hashed first, so neither their
// contents nor their lengths leak through timing.
//
// A route that takes a body only from a known sender checks who sends it first,
// from the URL and headers alone, and reads the body after (gatedBody): a wrong
// secret costs the collector an answer, not the megabytes it announced.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Request, type RequestHandler, type Response } from 'express';

export function sameSecret(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header. */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization ?? '';
  return h.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

/**
 * The gate of an admin route outside the CRM's router (GET /admin/outbox): the
 * CRM admin token as `Authorization: Bearer`, answered as the CRM's admin routes
 * answer. Without a token configured the admin API is off (403).
 */
export function adminGate(token: string | undefined): Gate {
  return (req, res) => {
    if (!token) {
      res.status(403).json({ error: 'admin_api_disabled', reason: 'set CRM_ADMIN_TOKEN to use the admin API' });
      return false;
    }
    if (!sameSecret(bearer(req), token)) {
      res.status(401).json({ error: 'bad_admin_token' });
      return false;
    }
    return true;
  };
}

/** The raw request body as text (every CRM route reads it as text and parses it itself). */
export function bodyText(req: Request): string {
  return typeof req.body === 'string' ? req.body : '';
}

/**
 * Decides from the URL and headers alone whether a request may send its body:
 * true lets it through; false means the gate has answered it (a refusal).
 */
export type Gate = (req: Request, res: Response) => boolean;

const hasBody = (req: IncomingMessage) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * The handlers that put `gate` before the body: a refused request is answered
 * before a byte of its body is read (admit); an admitted one has its body read
 * as text, up to `limit`.
 */
export function gatedBody(gate: Gate, limit: string): RequestHandler[] {
  return [admit(gate), express.text({ type: () => true, limit })];
}

/**
 * How long the connection of a refused request stays open, unread, after its
 * answer. Closing at once would reset the connection while the sender is still
 * writing, and a reset can destroy the answer before the sender has read it.
 */
const LINGER_MS = 1000;

/**
 * `gate` as a handler: the request goes on only when admitted. The body of a
 * refused one is never read: once the answer is out, the connection stops
 * reading (node:http would otherwise read the body to discard it) and is cut
 * LINGER_MS later. Its answer says `Connection: close`, and the connection is
 * ended (FIN) with it: a keep-alive client (a CRM's webhook sender, fetch's pool)
 * would otherwise send its next request on a connection no one reads any more.
 */
export function admit(gate: Gate): RequestHandler {
  return (req, res, next) => {
    const body = hasBody(req);
    // Set before the gate answers; taken back when it admits.
    if (body) res.setHeader('Connection', 'close');
    if (gate(req, res)) {
      if (body) res.removeHeader('Connection');
      return next();
    }
    if (!body) return;
    const socket = req.socket;
    // Node destroys a `Connection: close` answer's socket once it is written,
    // which with the body unread resets the connection, and a reset can destroy
    // the answer before the sender has read it: here the socket is only ended.
    socket.destroySoon = () => socket.end();
    res.once('finish', () => {
      if (req.complete) return;
      socket.pause();
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
    });
  };
}
