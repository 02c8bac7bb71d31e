// The outbox table (migrations/0060_outbound.sql), as the planners, the worker
// and the admin route read and write it. A message is written before it is
// sent; each later state is the message written again with a higher revision,
// so ClickHouse never updates a row and a state written is never lost to a
// restart. The current state of each message is the view outbound_current.
// Every state written is counted once here, under its outcome.
import type { ClickHouseClient } from '../clickhouse/client.js';
import { queryRows } from '../clickhouse/client.js';
import { num, str, toDateTimeString } from '../clickhouse/sql.js';
import type { Metrics, OutboundOutcome } from '../metrics/registry.js';
import { tooOldReason } from './sender.js';

export const STATES = ['pending', 'sent', 'failed', 'too_old'] as const;
export type State = (typeof STATES)[number];

/** One message in its current state. Times are unix seconds. */
export type Message = {
  sender: string;
  id: string;
  subject: string;
  step: number;
  basis: number;
  event: string;
  reference: string;
  recipient: string;
  valueMinor: number;
  currency: string;
  body: string;
  eventAt: number;
  createdAt: number;
  state: State;
  attempts: number;
  nextAt: number;
  answer: string;
  revision: number;
};

/** The deterministic id of a subject's step: a plan made twice names the same message. */
export const messageId = (sender: string, subject: string, step: number) => `${sender}:${subject}#${step}`;

/** What a planner decides of a new message; the rest is the same for every new one (newMessage). */
export type Draft = Pick<Message, 'sender' | 'subject' | 'step' | 'basis' | 'event' | 'reference' | 'recipient' | 'valueMinor' | 'currency' | 'body' | 'eventAt'>;

/**
 * A new message planned at `now` (unix seconds), named by messageId: pending and
 * due now; or, given the sender's time limit, too_old with its reason when its
 * event is already past it (written so that it is counted and shown, never sent).
 */
export function newMessage(d: Draft, now: number, limit?: { maxAgeSeconds: number; vendor: string }): Message {
  const tooOld = limit !== undefined && d.eventAt < now - limit.maxAgeSeconds;
  return {
    ...d,
    id: messageId(d.sender, d.subject, d.step),
    createdAt: now,
    state: tooOld ? 'too_old' : 'pending',
    attempts: 0,
    nextAt: now,
    answer: tooOld ? tooOldReason(d.eventAt, limit.maxAgeSeconds, limit.vendor) : '',
    revision: 0,
  };
}

/** Subjects per query: keeps the SQL well under max_query_size. */
const SUBJECTS_PER_QUERY = 1000;

const dateTime = (s: number) => toDateTimeString(s * 1000);

/** The outbox row of a message (every column: JSONEachRow gives an omitted one its type's zero). */
function rowOf(m: Message): Record<string, unknown> {
  return {
    sender: m.sender,
    id: m.id,
    subject: m.subject,
    step: m.step,
    basis: m.basis,
    event: m.event,
    reference: m.reference.toWellFormed(),
    recipient: m.recipient.toWellFormed(),
    value_minor: m.valueMinor,
    currency: m.currency,
    body: m.body.toWellFormed(),
    event_at: dateTime(m.eventAt),
    created_at: dateTime(m.createdAt),
    state: m.state,
    attempts: m.attempts,
    next_at: dateTime(m.nextAt),
    answer: m.answer.toWellFormed(),
    revision: m.revision,
  };
}

// Times are read as unix seconds under names of their own (an alias equal to its column would refer to itself).
const COLUMNS = `sender, id, subject, step, basis, event, reference, recipient, value_minor, currency, body,
  toUInt32(event_at) AS event_s, toUInt32(created_at) AS created_s, state, attempts, toUInt32(next_at) AS next_s, answer, revision`;

type Raw = Record<string, string | number>;

function messageOf(r: Raw): Message {
  return {
    sender: String(r.sender),
    id: String(r.id),
    subject: String(r.subject),
    step: Number(r.step),
    basis: Number(r.basis),
    event: String(r.event),
    reference: String(r.reference),
    recipient: String(r.recipient),
    valueMinor: Number(r.value_minor),
    currency: String(r.currency),
    body: String(r.body),
    eventAt: Number(r.event_s),
    createdAt: Number(r.created_s),
    state: String(r.state) as State,
    attempts: Number(r.attempts),
    nextAt: Number(r.next_s),
    answer: String(r.answer),
    revision: Number(r.revision),
  };
}

let lastRevision = 0;
/** Revisions of later states: increasing in this process, above the first row's 0. */
function nextRevision(): number {
  lastRevision = Math.max(lastRevision + 1, Date.now() * 1000);
  return lastRevision;
}

/**
 * When a message's current state was written (unix seconds): a later state's
 * revision is the microsecond it was written at (nextRevision), the first
 * row's 0 is its creation.
 */
export const writtenAt = (m: Pick<Message, 'revision' | 'createdAt'>): number => (m.revision > 0 ? Math.floor(m.revision / 1_000_000) : m.createdAt);

/** What a failed message tried again by hand keeps of the answer that failed it. */
export const TRIED_AGAIN = 'tried again by hand after: ';

/** Why a message was not tried again (Outbox.tryAgain). */
export type NotTried =
  /** No such message. */
  | { why: 'unknown' }
  /** Only a failed message is tried again: a sent one would reach the vendor twice, a pending one is being tried, a too_old one cannot be sent. */
  | { why: 'not_failed'; state: State }
  /** A later message of its subject was planned after it failed, from a ledger without it: that one already carries its change. */
  | { why: 'superseded'; step: number };

/** What a state written counts as: a pending message written again is a retry. */
const outcomeOf = (state: State, first: boolean): OutboundOutcome => (state === 'pending' ? (first ? 'queued' : 'retried') : state);

export type Summary = { sender: string; pending: number; nextAt: number };

export class Outbox {
  /** The retry by hand in progress: one at a time, so two clicks at once write a message once (the second finds it pending). */
  private retrying: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly metrics: Metrics,
  ) {}

  /** Writes new messages (pending, or too_old when already past their time), with revision 0. */
  async write(messages: Message[]): Promise<void> {
    if (!messages.length) return;
    await this.ch.insert({ table: 'outbound_messages', values: messages.map((m) => rowOf({ ...m, revision: 0 })), format: 'JSONEachRow' });
    for (const m of messages) this.metrics.outbound.inc({ sender: m.sender, outcome: outcomeOf(m.state, true) });
  }

  /** Writes a message's next state; returns the message as it now stands. */
  async settle(m: Message, next: Pick<Message, 'state' | 'attempts' | 'nextAt' | 'answer'>): Promise<Message> {
    const settled: Message = { ...m, ...next, revision: nextRevision() };
    await this.ch.insert({ table: 'outbound_messages', values: [rowOf(settled)], format: 'JSONEachRow' });
    this.metrics.outbound.inc({ sender: m.sender, outcome: outcomeOf(settled.state, false) });
    return settled;
  }

  /**
   * A failed message tried again by hand (the outbox page's Try again): written
   * again as pending and due now, its attempts kept, its answer kept after
   * TRIED_AGAIN; the worker then sends it as any other. It counts as `retried`.
   * Only a failed message that is the last of its subject (NotTried).
   */
  tryAgain(sender: string, subject: string, step: number, now = Math.floor(Date.now() / 1000)): Promise<{ ok: true; message: Message } | ({ ok: false } & NotTried)> {
    const run = this.retrying.catch(() => undefined).then(async () => {
      const of = (await this.ofSubjects(sender, [subject])).get(subject) ?? [];
      const m = of.find((x) => x.step === step);
      if (!m) return { ok: false as const, why: 'unknown' as const };
      if (m.state !== 'failed') return { ok: false as const, why: 'not_failed' as const, state: m.state };
      const later = of.find((x) => x.step > step);
      if (later) return { ok: false as const, why: 'superseded' as const, step: later.step };
      const message = await this.settle(m, { state: 'pending', attempts: m.attempts, nextAt: now, answer: `${TRIED_AGAIN}${m.answer}` });
      return { ok: true as const, message };
    });
    this.retrying = run;
    return run;
  }

  /** The current messages of these subjects of a sender, by subject, in step order. */
  async ofSubjects(sender: string, subjects: string[]): Promise<Map<string, Message[]>> {
    const out = new Map<string, Message[]>();
    for (let i = 0; i < subjects.length; i += SUBJECTS_PER_QUERY) {
      const list = subjects.slice(i, i + SUBJECTS_PER_QUERY).map(str).join(',');
      const rows = await queryRows<Raw>(this.ch, `SELECT ${COLUMNS} FROM outbound_current WHERE sender = ${str(sender)} AND subject IN (${list}) ORDER BY subject, step`);
      for (const r of rows) {
        const m = messageOf(r);
        const of = out.get(m.subject);
        if (of) of.push(m);
        else out.set(m.subject, [m]);
      }
    }
    return out;
  }

  /** Per sender: how many messages wait, and when the first of them is due. */
  async summary(senders: string[]): Promise<Summary[]> {
    if (!senders.length) return [];
    const rows = await queryRows<Raw>(
      this.ch,
      `SELECT sender, count() AS n, min(toUInt32(next_at)) AS first_s FROM outbound_current
       WHERE state = 'pending' AND sender IN (${senders.map(str).join(',')}) GROUP BY sender`,
    );
    return rows.map((r) => ({ sender: String(r.sender), pending: Number(r.n), nextAt: Number(r.first_s) }));
  }

  /**
   * Messages due at `now`: of each subject, its first message not yet settled,
   * when it is due (a subject's messages go out in step order: a refund never
   * overtakes the purchase it refunds).
   */
  async due(senders: string[], now: number, limit: number): Promise<Message[]> {
    if (!senders.length) return [];
    const rows = await queryRows<Raw>(
      this.ch,
      `SELECT * FROM (
         SELECT ${COLUMNS} FROM outbound_current WHERE state = 'pending' AND sender IN (${senders.map(str).join(',')})
         ORDER BY sender, subject, step LIMIT 1 BY sender, subject
       ) WHERE next_s <= ${num(now)} ORDER BY next_s LIMIT ${num(limit)}`,
    );
    return rows.map(messageOf);
  }

  /** How many messages are in each state, by sender. */
  async counts(): Promise<Record<string, Record<State, number>>> {
    const rows = await queryRows<Raw>(this.ch, `SELECT sender, state, count() AS n FROM outbound_current GROUP BY sender, state`);
    const out: Record<string, Record<State, number>> = {};
    for (const r of rows) {
      const of = (out[String(r.sender)] ??= { pending: 0, sent: 0, failed: 0, too_old: 0 });
      if ((STATES as readonly string[]).includes(String(r.state))) of[String(r.state) as State] = Number(r.n);
    }
    return out;
  }

  /** The newest messages in a state, newest first. */
  async inState(state: State, limit: number): Promise<Message[]> {
    const rows = await queryRows<Raw>(this.ch, `SELECT ${COLUMNS} FROM outbound_current WHERE state = ${str(state)} ORDER BY created_s DESC, id LIMIT ${num(limit)}`);
    return rows.map(messageOf);
  }
}
