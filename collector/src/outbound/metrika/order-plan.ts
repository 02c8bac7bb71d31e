// Which of a deal's versions become CDP order upserts. Pure: the planner reads
// and writes, this decides.
//
// Every change of what Metrika knows of the order (its outcome, whether it is
// deleted, its amount, currency or stage) is one upsert, in the CRM's order, so
// Metrika sees the order go IN_PROGRESS → PAID → CANCELLED as the deal went.
// Versions that change nothing of that (a renamed deal, an edited field) send
// nothing. A deal met for the first time sends its current state only (its
// history before Metrika was on is not replayed). Messages of a deal go out in
// step order (the outbox sends a subject's messages one after another), and
// each carries the order's whole state, so a refused one is mended by the next.
import type { Message } from '../outbox.js';

/** What of a deal version the order shows. */
export type OrderState = { version: number; outcome: string; deleted: boolean; amountMinor: number; currency: string; stage: string };

/** An order message of the deal, as the outbox has it. */
export type Entry = Pick<Message, 'step' | 'basis'>;

const sameOrder = (a: OrderState, b: OrderState) =>
  a.outcome === b.outcome && a.deleted === b.deleted && a.amountMinor === b.amountMinor && a.currency === b.currency && a.stage === b.stage;

/** The versions to send (oldest first, `versions` given oldest first), each with the step its message takes. */
export function ordersToSend(versions: OrderState[], entries: Entry[]): { version: number; step: number }[] {
  const current = versions[versions.length - 1];
  if (!current) return [];
  const last = entries.reduce<Entry | null>((a, e) => (a && a.step > e.step ? a : e), null);
  if (!last) return [{ version: current.version, step: 1 }];
  if (last.basis >= current.version) return [];
  // What the last message showed; a version it came from that is no longer stored compares as different.
  let shown = versions.find((v) => v.version === last.basis) ?? null;
  let step = last.step;
  const out = [];
  for (const v of versions) {
    if (v.version <= last.basis || (shown && sameOrder(shown, v))) continue;
    out.push({ version: v.version, step: ++step });
    shown = v;
  }
  return out;
}
