// Secrets compared in constant time (a webhook URL secret, a notification
// token, the admin token): both sides are hashed first, so neither their
// contents nor their lengths leak through timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

export function sameSecret(given: string | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer …` header. */
export function bearer(req: Request): string | undefined {
  const h = req.headers.authorization ?? '';
  return h.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
}

/** The raw request body as text (every CRM route reads it as text and parses it itself). */
export function bodyText(req: Request): string {
  return typeof req.body === 'string' ? req.body : '';
}
