// Which stage actions a deal's entries fire, and under which outbox step. Pure:
// the planner reads the versions, the outbox and the times, this decides, and
// the unit tests hold it to these rules:
//   - Each entry fires each action of its stage once: an action whose message
//     for the entry's stay (entries.ts: from its first to its last version)
//     is in the outbox, in any state, fires nothing more.
//   - An entry fires an action only when it was received (the entering
//     version's received_at) after the action came into force (since.ts):
//     adding an action never replays the deals already in its stage.
//   - An entry received before the sender's window (its time limit and an
//     hour) is no longer looked at; a deal in the bin fires nothing.
// Step: `entry ordinal × ACTIONS_PER_STAGE + the action's slot` (its place
// among the stage's actions of its kind), so one entry's actions, and later
// entries, go in order (the outbox sends a subject's messages in step order)
// and a plan made twice names the same messages. Should that step be taken
// already (a late delivery moved the entries along), the next step past every
// one taken.
import { ACTIONS_PER_STAGE, type StageAction } from '../../crm/config/actions.js';
import type { Message } from '../outbox.js';
import type { Entry, Versioned } from './entries.js';

export const GA4_EVENT = 'ga4_event';
export const WEBHOOK = 'webhook';
export type ActionSender = typeof GA4_EVENT | typeof WEBHOOK;

/** One action as configured: a GA4 event or a webhook of one stage. */
export type Action =
  | { sender: typeof GA4_EVENT; key: string; stage: string; slot: number; event: NonNullable<StageAction['ga4Event']> }
  | { sender: typeof WEBHOOK; key: string; stage: string; slot: number; webhook: NonNullable<StageAction['webhook']> };

/**
 * What names an action across configurations: its stage and its GA4 event name
 * or webhook URL. A changed secret or changed parameters are the same action; a
 * new URL is a new one.
 */
export const actionKey = (stage: string, sender: ActionSender, id: string) => JSON.stringify([stage, sender, id]);

/** The configured actions, one per GA4 event and per webhook, each with its slot. */
export function actionsOf(config: readonly StageAction[]): Action[] {
  const slots = new Map<string, number>();
  const slot = (stage: string, sender: ActionSender) => {
    const k = JSON.stringify([stage, sender]);
    const n = slots.get(k) ?? 0;
    slots.set(k, n + 1);
    return n;
  };
  const out: Action[] = [];
  for (const a of config) {
    if (a.ga4Event) out.push({ sender: GA4_EVENT, key: actionKey(a.stage, GA4_EVENT, a.ga4Event.name), stage: a.stage, slot: slot(a.stage, GA4_EVENT), event: a.ga4Event });
    if (a.webhook) out.push({ sender: WEBHOOK, key: actionKey(a.stage, WEBHOOK, a.webhook.url), stage: a.stage, slot: slot(a.stage, WEBHOOK), webhook: a.webhook });
  }
  return out;
}

/** What an outbox message of these senders says of its action: `reference` is the stage, `event` the GA4 event's name, `recipient` the webhook's URL. */
export type Known = Pick<Message, 'sender' | 'step' | 'basis' | 'event' | 'reference' | 'recipient'>;

/** The action a message was planned for. */
export const keyOfMessage = (m: Known): string =>
  m.sender === GA4_EVENT ? actionKey(m.reference, GA4_EVENT, m.event) : actionKey(m.reference, WEBHOOK, m.recipient);

/** A version as the decision needs it: received_at in unix seconds. */
export type Received = Versioned & { receivedAt: number; deleted: boolean };

export type Firing<T extends Received> = { action: Action; entry: Entry<T>; step: number };

export type Clock = {
  now: number;
  /** When each action (by key) came into force, unix seconds. */
  since: ReadonlyMap<string, number>;
  /** Per sender: how far back entries are looked at (seconds). */
  window: Readonly<Record<ActionSender, number>>;
};

/** The actions a deal's entries fire now (`known`: the deal's messages of both senders). */
export function firings<T extends Received>(entries: Entry<T>[], actions: Action[], known: Known[], clock: Clock): Firing<T>[] {
  const out: Firing<T>[] = [];
  const taken = new Map<string, Set<number>>([
    [GA4_EVENT, new Set(known.filter((m) => m.sender === GA4_EVENT).map((m) => m.step))],
    [WEBHOOK, new Set(known.filter((m) => m.sender === WEBHOOK).map((m) => m.step))],
  ]);
  /** The entering versions each action's messages were planned from. */
  const planned = new Map<string, number[]>();
  for (const m of known) planned.set(keyOfMessage(m), [...(planned.get(keyOfMessage(m)) ?? []), m.basis]);
  for (const entry of entries) {
    if (entry.row.deleted) continue;
    for (const action of actions) {
      if (action.stage !== entry.row.stage) continue;
      const since = clock.since.get(action.key);
      if (since === undefined || entry.row.receivedAt < since) continue;
      if (entry.row.receivedAt < clock.now - clock.window[action.sender]) continue;
      if ((planned.get(action.key) ?? []).some((basis) => basis >= entry.first && basis <= entry.last)) continue;
      const steps = taken.get(action.sender)!;
      let step = entry.ordinal * ACTIONS_PER_STAGE + action.slot;
      if (steps.has(step)) step = Math.max(...steps) + 1;
      steps.add(step);
      out.push({ action, entry, step });
    }
  }
  return out;
}
