// How a stage webhook is signed, and what its receiver runs to check it. Each
// attempt carries
//   Throughline-Timestamp: <unix seconds when it was sent>
//   Throughline-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
//   Throughline-Message-Id: <the message id: the receiver's idempotency key>
// The timestamp is part of what is signed, so a request captured on the way
// cannot be replayed later than the receiver's tolerance (5 minutes by
// default); the body is signed byte for byte as sent. A retry is signed again,
// with its own timestamp. The signature header may list several `v1=` values
// (comma-separated): one that matches is enough, so a secret can be rotated
// without a window where every request fails.
// Only node:crypto: a receiver written in Node can copy this file as it is.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADERS = {
  timestamp: 'Throughline-Timestamp',
  signature: 'Throughline-Signature',
  messageId: 'Throughline-Message-Id',
} as const;

/** How far a request's timestamp may be from the receiver's clock, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The hex HMAC-SHA256 of `<timestamp>.<body>` under the secret. */
export function sign(secret: string, timestamp: number | string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The Throughline-Signature header's value. */
export const signatureHeader = (secret: string, timestamp: number, body: string): string => `v1=${sign(secret, timestamp, body)}`;

export type Verified =
  | { ok: true }
  /** bad_timestamp: not unix seconds; stale: further than the tolerance from now; no_signature: no v1= value; mismatch: none matches. */
  | { ok: false; reason: 'bad_timestamp' | 'stale' | 'no_signature' | 'mismatch' };

/**
 * What a receiver runs on each request: `timestamp` and `header` are the
 * Throughline-Timestamp and Throughline-Signature headers as received, `body`
 * the raw body (the exact bytes: parse the JSON only after this says ok).
 * `now` in unix seconds.
 */
export function verifySignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: string | Buffer,
  header: string | null | undefined,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
  now = Math.floor(Date.now() / 1000),
): Verified {
  const ts = String(timestamp ?? '');
  if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'bad_timestamp' };
  if (Math.abs(now - Number(ts)) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const given = String(header ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => /^v1=[0-9a-f]{64}$/i.test(part))
    .map((part) => Buffer.from(part.slice(3), 'hex'));
  if (!given.length) return { ok: false, reason: 'no_signature' };
  const expected = Buffer.from(sign(secret, ts, body), 'hex');
  // Every value is compared in constant time, and all of them: how many matched leaks nothing either.
  const matched = given.map((g) => timingSafeEqual(g, expected)).some(Boolean);
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}
