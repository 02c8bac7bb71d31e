// When a deal becomes an offline conversion. Pure: the planner reads and
// writes, this decides.
//
// A deal is one conversion, once: Metrika has no way to take a conversion
// back or change its price, so the first win Metrika takes is the deal's
// conversion, whatever happens to the deal afterwards (the CDP orders carry
// its later states). So:
//   - a deal not won now (open, paused, lost, returned, deleted) plans nothing;
//   - a deal with a conversion pending or sent plans nothing more;
//   - a conversion Metrika refused (failed) is not planned again until the deal
//     changes again (a fixed goal or counter then gets it through);
//   - a conversion too old for Metrika is not planned again for the same win;
//     a later win (after a loss or a return) may still be recent enough.
import type { Message } from '../outbox.js';

/** The deal now: `won` when its current version is won and not deleted, `winAt` its win's time (unix seconds). */
export type DealNow = { version: number; won: boolean; winAt: number };

/** A conversion message of the deal, as the outbox has it. */
export type Entry = Pick<Message, 'step' | 'basis' | 'state' | 'eventAt'>;

export type NextConversion = { kind: 'none' } | { kind: 'send'; step: number };

export function nextConversion(deal: DealNow, entries: Entry[]): NextConversion {
  if (!deal.won) return { kind: 'none' };
  if (entries.some((e) => e.state === 'pending' || e.state === 'sent')) return { kind: 'none' };
  const last = entries.reduce<Entry | null>((a, e) => (a && a.step > e.step ? a : e), null);
  if (last) {
    if (last.basis >= deal.version) return { kind: 'none' };
    if (last.state === 'too_old' && deal.winAt <= last.eventAt) return { kind: 'none' };
  }
  return { kind: 'send', step: (last?.step ?? 0) + 1 };
}
