// A stage webhook: what its body is, and how it is sent.
//   POST <url>
//   Content-Type: application/json
//   Throughline-Timestamp, Throughline-Signature, Throughline-Message-Id (signature.ts)
//   {"type":"deal.stage_entered","id":"webhook:amo:10701093#33","occurredAt":"2026-03-02T10:39:12.000Z",
//    "deal":{"source":"amo","id":"10701093","name":"…","pipeline":"9217056","status":"20067739",
//            "stage":"2 Qualified","previousStage":"1 Request","outcome":"open","amount":2499.9,"currency":"RUB"}}
// The deal as it was when it entered the stage; no personal data (no contacts,
// e-mails, phones, custom fields). The body is written to the outbox as it is
// sent; the headers are made at each attempt, so a retry carries a fresh
// timestamp. The secret is looked up in the configuration in force at each
// attempt (a rotated secret signs the retries), and is never written to the
// outbox, an answer or a log. Redirects are not followed: a 3xx is a refusal,
// so the deal goes nowhere but where it was configured to.
import type { Message } from '../outbox.js';
import { unanswered, verdictOf, type Sender, type Verdict } from '../sender.js';
import { WEBHOOK } from './plan.js';
import { signatureHeader, SIGNATURE_HEADERS } from './signature.js';

export const WEBHOOK_VENDOR = 'a webhook receiver';
/**
 * How late a webhook is still sent: a day. A reaction to a stage entry (a call,
 * a task, a message) that comes later than that is more likely to do harm, to
 * a deal long moved on, than good; older is not sent (too_old), and counted.
 */
export const WEBHOOK_MAX_AGE_SECONDS = 24 * 3600;

/** How long a receiver has to answer before the message is tried again. */
const TIMEOUT_MS = 10_000;

/** The deal as a stage webhook tells it. */
export type WebhookDeal = {
  source: string;
  id: string;
  name: string;
  pipeline: string;
  status: string;
  stage: string;
  previousStage: string | null;
  outcome: string;
  /** Major units (deals are kept in minor units of two digits, crm/money.ts). */
  amount: number;
  currency: string;
};

export function webhookBody(id: string, occurredAt: number, deal: WebhookDeal): string {
  return JSON.stringify({
    type: 'deal.stage_entered',
    id,
    occurredAt: new Date(occurredAt * 1000).toISOString(),
    deal: {
      source: deal.source,
      id: deal.id,
      name: deal.name,
      pipeline: deal.pipeline,
      status: deal.status,
      stage: deal.stage,
      previousStage: deal.previousStage,
      outcome: deal.outcome,
      amount: deal.amount,
      currency: deal.currency,
    },
  });
}

/** Why a message has no secret to be signed with: its action left the configuration before it was sent. */
export const NO_SECRET = 'not sent: no webhook to this URL on this stage in the configuration in force (removed after the message was planned)';

/**
 * The webhook sender. `secretOf` finds the secret of a message's action in the
 * configuration in force (`reference` is the stage, `recipient` the URL).
 */
export function webhookSender(secretOf: (m: Message) => string | null, nowMs: () => number = Date.now): Sender {
  return {
    name: WEBHOOK,
    vendor: WEBHOOK_VENDOR,
    maxAgeSeconds: WEBHOOK_MAX_AGE_SECONDS,
    async send(m: Message): Promise<Verdict> {
      const secret = secretOf(m);
      if (!secret) return { kind: 'failed', answer: NO_SECRET };
      const timestamp = Math.floor(nowMs() / 1000);
      let res: Response;
      try {
        res = await fetch(m.recipient, {
          method: 'POST',
          body: m.body,
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': 'Throughline-Webhooks/1',
            [SIGNATURE_HEADERS.timestamp]: String(timestamp),
            [SIGNATURE_HEADERS.signature]: signatureHeader(secret, timestamp, m.body),
            [SIGNATURE_HEADERS.messageId]: m.id,
          },
          redirect: 'manual',
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
      } catch (err) {
        return { kind: 'retry', answer: unanswered(err, TIMEOUT_MS) };
      }
      const text = await res.text().catch(() => '');
      return verdictOf(res.status, text);
    },
  };
}

