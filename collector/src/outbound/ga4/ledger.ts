// What GA4 should be told next about a deal, computed from the ledger (the
// deal's messages in the outbox: what GA4 holds) and the deal's current state,
// never from the deal's previous version. Pure: the planner reads and writes,
// this decides, and the unit tests hold it to the rules below.
//
// What GA4 should hold for a deal (its target):
//   won, not deleted          its amount (a negative amount counts as 0)
//   lost, returned, deleted   0
//   open, paused              whatever it holds now: nothing is sent
// What GA4 holds: the sum of the deal's purchases minus its refunds, counting
// the messages pending or sent. A failed (4xx) or too_old message never reached
// GA4 and counts for nothing.
// The next message moves GA4 from what it holds to the target:
//   more: a purchase of the difference. The first purchase's transaction_id is
//         the deal's (`<source>:<deal_id>`); GA4 keeps one purchase per
//         transaction_id, so every later one has a derived id, `<deal>~<step>`.
//   less: a refund of the difference, under the transaction_id of the purchase
//         that opened what GA4 holds; a refund of all of it is the full refund.
//   the currency changed: a full refund first; the purchase in the new
//         currency follows once the refund is settled.
// A purchase that opens (GA4 holds nothing for the deal) reports the win, and
// goes with the time of the win; every other message, with the time of the
// change it reports (the planner gives both). So a deal won too long ago for
// GA4 stays out of it, whatever edits follow; a refund is sent whenever GA4
// holds money the deal no longer has.
// One message of a deal is unsettled at a time: while one is pending, nothing
// more is planned, and the changes made meanwhile are sent as one difference.
// A change whose message GA4 refused or that came too late is not planned again
// until the deal changes again.
import { createHash } from 'node:crypto';
import type { Message } from '../outbox.js';

/** The deal as the ledger needs it: its current version. */
export type DealNow = {
  subject: string;
  version: number;
  outcome: string;
  deleted: boolean;
  amountMinor: number;
  currency: string;
};

export type Entry = Pick<Message, 'step' | 'basis' | 'event' | 'reference' | 'recipient' | 'valueMinor' | 'currency' | 'state'>;

/** What GA4 holds for a deal, folded from its ledger. */
export type Holding = {
  valueMinor: number;
  currency: string;
  /** The transaction_id of the purchase that opened what GA4 holds (null when it holds nothing). */
  opening: string | null;
  /** The GA client id of that purchase: later adjustments go to the same client. */
  recipient: string;
  /** Every transaction_id GA4 has (or will have) a purchase of. */
  used: Set<string>;
  /** The step a next message takes. */
  nextStep: number;
  /** A message not yet settled (pending). */
  unsettled: boolean;
  /** The last message, whatever its state. */
  last: Entry | null;
};

const counted = (e: Entry) => e.state === 'pending' || e.state === 'sent';

export function holding(entries: Entry[]): Holding {
  const h: Holding = { valueMinor: 0, currency: '', opening: null, recipient: '', used: new Set(), nextStep: 1, unsettled: false, last: null };
  for (const e of [...entries].sort((a, b) => a.step - b.step)) {
    h.nextStep = Math.max(h.nextStep, e.step + 1);
    h.last = e;
    if (e.state === 'pending') h.unsettled = true;
    if (!counted(e)) continue;
    if (e.event === 'purchase') {
      h.used.add(e.reference);
      if (h.valueMinor === 0) Object.assign(h, { opening: e.reference, recipient: e.recipient, currency: e.currency });
    }
    h.valueMinor += e.valueMinor;
    if (h.valueMinor <= 0) Object.assign(h, { valueMinor: 0, opening: null, recipient: '', currency: '' });
  }
  return h;
}

/** What GA4 should hold for the deal; null: whatever it holds (an open or paused deal changes nothing). */
export function targetOf(deal: DealNow): number | null {
  if (deal.deleted || deal.outcome === 'lost' || deal.outcome === 'returned') return 0;
  if (deal.outcome === 'won') return Math.max(0, deal.amountMinor);
  return null;
}

/** GA4's limit on a parameter value; the longest suffix (`~` and a step) is kept free of it. */
const MAX_VALUE_CHARS = 100;
const SUFFIX_ROOM = 10;

/** The deal's own transaction_id: its subject, or for a very long deal id the source and a hash of the subject. */
export function transactionBase(subject: string): string {
  if (subject.length <= MAX_VALUE_CHARS - SUFFIX_ROOM) return subject;
  const source = subject.slice(0, subject.indexOf(':') + 1);
  return `${source}#${createHash('sha256').update(subject).digest('hex').slice(0, 40)}`;
}

export type Next =
  /** GA4 holds what it should, or the change was already handled. */
  | { kind: 'none' }
  /** An earlier message of the deal is not settled yet. */
  | { kind: 'wait' }
  | {
      kind: 'send';
      step: number;
      event: 'purchase' | 'refund';
      reference: string;
      /** Signed: + a purchase, − a refund. */
      valueMinor: number;
      currency: string;
      /** A purchase while GA4 holds nothing for the deal: it goes at the time of the win, to a client still to find. */
      opens: boolean;
      /** The GA client id to send to; null when it opens: the deal's own, or one from the identity graph. */
      recipient: string | null;
    };

export function nextMessage(deal: DealNow, entries: Entry[]): Next {
  const h = holding(entries);
  if (h.unsettled) return { kind: 'wait' };
  // This version's message was refused or came too late: not again until the deal changes.
  if (h.last && h.last.basis >= deal.version && !counted(h.last)) return { kind: 'none' };
  const target = targetOf(deal);
  if (target === null) return { kind: 'none' };
  const step = h.nextStep;
  const refund = (valueMinor: number): Next => ({ kind: 'send', step, event: 'refund', reference: h.opening!, valueMinor: -valueMinor, currency: h.currency, opens: false, recipient: h.recipient });
  if (h.valueMinor > 0 && target > 0 && deal.currency !== h.currency) return refund(h.valueMinor);
  const diff = target - h.valueMinor;
  if (diff < 0) return refund(-diff);
  if (diff === 0) return { kind: 'none' };
  const base = transactionBase(deal.subject);
  const opens = h.valueMinor === 0;
  const reference = opens && !h.used.has(base) ? base : `${base}~${step}`;
  return { kind: 'send', step, event: 'purchase', reference, valueMinor: diff, currency: deal.currency, opens, recipient: opens ? null : h.recipient };
}
