// Whether a visit moves a deal, and where to: the trigger's rules, pure. The
// planner reads the hits, the deals and the outbox; this decides, and the unit
// tests hold it to the rules below (with a clock of their own).
//
//   closed          the deal is not open (won, lost, returned, paused) or deleted: never moved
//   other_pipeline  no rule that matched the page is for the deal's pipeline: never to another pipeline
//   unmapped_status the deal's status has no funnel stage: where "forward" is cannot be told
//   backward        every such rule's status is at or behind the deal's stage: never backward
//   too_soon        a move of the deal was made within 10 minutes (of now, or of the visit)
// Otherwise the deal moves to the status of the rule whose stage is furthest
// forward (of two at one stage, the rule listed first).
//
// Where a deal stands: after a move is made (written pending, or sent), the
// deal counts as at the moved-to status until the CRM reports a newer one (a
// version of the deal received after the move was written), so the same visit
// rule does not move it again while amoCRM's webhook is on its way.
import type { Marker, Stage } from '../../crm/config/schema.js';
import type { Message } from '../outbox.js';

/** At most one move of a deal per this many seconds (amoCRM's "site visit" trigger fires once per 10 minutes). */
export const MOVE_INTERVAL_SECONDS = 600;

export const NOT_MOVED = ['closed', 'other_pipeline', 'unmapped_status', 'backward', 'too_soon'] as const;
export type NotMoved = (typeof NOT_MOVED)[number];

/** A rule of the deal's source whose pattern matched the visited page; `stage` is its status's funnel stage. */
export type MatchedRule = { index: number; page: string; pipeline: string; status: string; stage: Stage };

/** The deal's current version, as the trigger reads it. `receivedAt`: when it reached the collector (unix seconds). */
export type DealNow = {
  subject: string;
  pipeline: string;
  status: string;
  outcome: string;
  deleted: boolean;
  receivedAt: number;
};

/** A move of the deal in the outbox (the trigger's own messages). */
export type MoveEntry = Pick<Message, 'id' | 'reference' | 'state' | 'eventAt' | 'createdAt' | 'recipient'>;

/** A move's reference: the rule (its place and pattern) and the visit (its hit's event id) it came from. */
export const moveReference = (index: number, page: string, eventId: string) => `visitTriggers.${index} ${page} hit ${eventId}`;
/** Whether a move came from this visit (its hit's event id). */
const fromVisit = (m: MoveEntry, eventId: string) => m.reference.endsWith(` hit ${eventId}`);

export type Decision =
  /** The message of this visit and deal was written already (a scan that overlaps, or a restart): nothing to do, nothing to count. */
  | { kind: 'planned' }
  | { kind: 'not_moved'; reason: NotMoved }
  | { kind: 'move'; rule: MatchedRule; from: string };

export type Visit = {
  /** The id the move of this visit and deal would have (outbox.ts messageId). */
  id: string;
  /** Its hit's event id. */
  eventId: string;
  /** When the visit reached the collector (unix seconds). */
  at: number;
};

/** The funnel stage of a status in a pipeline, by the configuration in force (null: unmapped). */
export type StageOf = (pipeline: string, status: string) => Stage | null;

const CLOSED: readonly Marker[] = ['won', 'lost', 'returned', 'paused'];

/** A move's recipient: `<pipeline>:<from status>→<to status>`. */
export const moveRecipient = (pipeline: string, from: string, to: string) => `${pipeline}:${from}→${to}`;

/** The status a move's recipient moves to ('' when it is not a move's). */
export const movedTo = (recipient: string) => {
  const at = recipient.lastIndexOf('→');
  return at === -1 ? '' : recipient.slice(at + 1);
};

/** Pending or sent: a move amoCRM has made, or will. A failed or too_old one never reached it. */
const counts = (m: MoveEntry) => m.state === 'pending' || m.state === 'sent';

/** The move in force: the newest one counted, written no earlier than the deal's newest version arrived. */
export function moveInForce(deal: DealNow, moves: MoveEntry[]): MoveEntry | null {
  let newest: MoveEntry | null = null;
  for (const m of moves) if (counts(m) && (!newest || m.createdAt > newest.createdAt || (m.createdAt === newest.createdAt && m.eventAt > newest.eventAt))) newest = m;
  return newest && newest.createdAt >= deal.receivedAt ? newest : null;
}

export function decide(input: { deal: DealNow; rules: MatchedRule[]; moves: MoveEntry[]; visit: Visit; now: number; stageOf: StageOf }): Decision {
  const { deal, rules, moves, visit, now, stageOf } = input;
  // A move's id is the deal's and the second the visit arrived in: it may be this visit's (planned), or
  // another visit's of that second, whose move this one cannot be written beside (held, as within 10 minutes).
  const taken = moves.find((m) => m.id === visit.id);
  if (taken && fromVisit(taken, visit.eventId)) return { kind: 'planned' };
  const inForce = moveInForce(deal, moves);
  const status = inForce ? movedTo(inForce.recipient) : deal.status;
  const stage = stageOf(deal.pipeline, status);
  if (inForce ? stage?.marker && CLOSED.includes(stage.marker) : deal.deleted || deal.outcome !== 'open') return { kind: 'not_moved', reason: 'closed' };
  const ours = rules.filter((r) => r.pipeline === deal.pipeline);
  if (!ours.length) return { kind: 'not_moved', reason: 'other_pipeline' };
  if (!stage) return { kind: 'not_moved', reason: 'unmapped_status' };
  const forward = ours.filter((r) => r.stage.index > stage.index);
  if (!forward.length) return { kind: 'not_moved', reason: 'backward' };
  const recent = (m: MoveEntry) => counts(m) && (now - m.createdAt < MOVE_INTERVAL_SECONDS || Math.abs(visit.at - m.eventAt) < MOVE_INTERVAL_SECONDS);
  if (taken || moves.some(recent)) return { kind: 'not_moved', reason: 'too_soon' };
  const rule = forward.reduce((best, r) => (r.stage.index > best.stage.index || (r.stage.index === best.stage.index && r.index < best.index) ? r : best));
  return { kind: 'move', rule, from: status };
}
