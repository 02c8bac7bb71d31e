// A sender delivers the outbox's messages of one kind to one vendor (GA4 now;
// Metrika, amoCRM moves and webhooks later). The outbox and its worker know no
// vendor: they keep the messages, decide when each is due, and act on the
// verdict its sender gives.
import type { Message } from './outbox.js';

/** A vendor's verdict on one send. `answer` is what the vendor said (or the error), for the outbox and the admin. */
export type Verdict =
  | { kind: 'sent' }
  /** Worth trying again later: a 5xx, 408 or 429, a network error, a timeout. */
  | { kind: 'retry'; answer: string }
  /** The vendor refused the message itself: the same message would get the same answer. */
  | { kind: 'failed'; answer: string };

export interface Sender {
  /** The outbox's `sender` column. */
  readonly name: string;
  /** The vendor's name for people (`GA4`). */
  readonly vendor: string;
  /** The oldest a message's event may be when it is sent; an older one is not sent (too_old). */
  readonly maxAgeSeconds: number;
  send(message: Message): Promise<Verdict>;
}

/** Why a message was not sent: its change is older than the vendor accepts (`eventAt` in unix seconds). */
export function tooOldReason(eventAt: number, maxAgeSeconds: number, vendor: string): string {
  const at = new Date(eventAt * 1000).toISOString().slice(0, 19).replace('T', ' ');
  return `not sent: the change of ${at} UTC is older than the ${Math.round(maxAgeSeconds / 3600)} hours ${vendor} accepts`;
}

/** The most of a vendor's answer kept with a message. */
const ANSWER_CHARS = 500;

/** An HTTP answer as a verdict: 2xx sent; 408, 429 and 5xx tried again; any other status refused. */
export function verdictOf(status: number, body: string): Verdict {
  if (status >= 200 && status < 300) return { kind: 'sent' };
  const answer = `HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, ANSWER_CHARS)}` : ''}`;
  return status >= 500 || status === 408 || status === 429 ? { kind: 'retry', answer } : { kind: 'failed', answer };
}

/**
 * POSTs a JSON body and judges the answer. No answer within `timeoutMs`, or a
 * network error, is tried again. The URL may carry a secret (GA4's api_secret):
 * what is kept of an error is its code, never the URL; redirects are not
 * followed, so the secret goes nowhere but where it was configured to.
 */
export async function postJson(url: string, body: string, timeoutMs: number): Promise<Verdict> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { kind: 'retry', answer: unanswered(err, timeoutMs) };
  }
  const text = await res.text().catch(() => '');
  return verdictOf(res.status, text);
}

/** Why a request got no answer, in words that carry no URL (every sender's: the outbox shows them alike). */
export function unanswered(err: unknown, timeoutMs?: number): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return timeoutMs ? `no answer in ${timeoutMs / 1000} s` : 'no answer in time';
  return `network error: ${e?.cause?.code ?? e?.name ?? 'unknown'}`;
}
