// What the admin sees of the outbox, gathered in one place for both of its
// faces: GET /admin/outbox (JSON, outbound/route.ts) and the outbox page (HTML,
// render.ts). The senders on, how many messages each sender has in each state,
// the last sweep, and the newest messages that need a look: pending (waiting,
// or being tried again), failed (refused by the vendor) and too_old (never sent).
import type { Outbound, Sweep } from '../module.js';
import type { Message, State } from '../outbox.js';

/** Messages listed per state, newest first. */
export const LISTED = 100;

export type SenderOn = { name: string; vendor: string; maxAgeSeconds: number };

export type OutboxView = {
  senders: SenderOn[];
  /** By sender, then state; a sender no longer on keeps its messages here. */
  counts: Record<string, Record<State, number>>;
  sweep: Sweep | null;
  pending: Message[];
  failed: Message[];
  tooOld: Message[];
};

export async function outboxView(outbound: Pick<Outbound, 'senders' | 'outbox' | 'lastSweep'>): Promise<OutboxView> {
  const { outbox } = outbound;
  const [counts, pending, failed, tooOld] = await Promise.all([outbox.counts(), outbox.inState('pending', LISTED), outbox.inState('failed', LISTED), outbox.inState('too_old', LISTED)]);
  return {
    senders: outbound.senders.map((s) => ({ name: s.name, vendor: s.vendor, maxAgeSeconds: s.maxAgeSeconds })),
    counts,
    sweep: outbound.lastSweep(),
    pending,
    failed,
    tooOld,
  };
}
