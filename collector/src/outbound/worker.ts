// The outbox worker: sends the messages that are due, through their senders,
// and writes what became of each. It looks at the outbox when woken (a message
// was written), when the first waiting message falls due, and every IDLE_MS
// besides (messages another start wrote).
//
// A message is marked sent only after the vendor's 2xx, by one insert right
// after the answer: a process killed between the two sends that message again
// after its restart (at-least-once, README). Nothing else is ever sent twice: a
// retry is decided and written before the next try, a message marked sent is
// never due again, and an answer whose state ClickHouse failed to take is kept
// and written before anything else is sent.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/registry.js';
import { retryDelay } from './backoff.js';
import type { Message, Outbox } from './outbox.js';
import { tooOldReason, type Sender, type Verdict } from './sender.js';

/** Messages read per look, and sent at once. */
const BATCH = 50;
const PARALLEL = 4;
/** The longest the worker sleeps with nothing due. */
const IDLE_MS = 30_000;
/** The wait after the outbox itself could not be read or written (ClickHouse down). */
const TROUBLE_MS = 5_000;
/** The wait when the first due message waits behind an earlier one of its subject. */
const NOT_YET_MS = 5_000;

export type SettledHook = (m: Message) => void;

/** A message's next state, as the worker writes it. */
type Next = Pick<Message, 'state' | 'attempts' | 'nextAt' | 'answer'>;

export class OutboxWorker {
  private readonly senders: Map<string, Sender>;
  /**
   * Answers received whose state could not be written (ClickHouse failed just
   * then), by message id: the next look writes them before it reads what is
   * due, so their messages are not sent again. Only the death of the process
   * loses them.
   */
  private readonly unwritten = new Map<string, { m: Message; next: Next }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(
    private readonly outbox: Outbox,
    senders: Sender[],
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Called once a message is settled (sent, failed, too_old): the next message of its subject may be planned. */
    private readonly onSettled: SettledHook,
  ) {
    this.senders = new Map(senders.map((s) => [s.name, s]));
    for (const s of senders) this.metrics.outboundPending.set({ sender: s.name }, 0);
  }

  /** Looks at the outbox now (or right after the look in progress). */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.look().then(
      (waitMs) => this.after(waitMs),
      (err: unknown) => {
        this.log.error({ err: String(err) }, 'outbox could not be read or written; trying again shortly');
        this.after(TROUBLE_MS);
      },
    );
  }

  private after(waitMs: number): void {
    this.running = null;
    if (this.closed) return;
    if (this.again) {
      this.again = false;
      waitMs = 0;
    }
    this.timer = setTimeout(() => this.wake(), Math.min(waitMs, IDLE_MS));
    this.timer.unref();
  }

  /** One look: sends what is due; returns how long to wait before the next. */
  private async look(): Promise<number> {
    for (const [id, { m, next }] of this.unwritten) {
      await this.outbox.settle(m, next);
      this.unwritten.delete(id);
      if (next.state !== 'pending') this.onSettled(m);
    }
    const names = [...this.senders.keys()];
    const summary = await this.outbox.summary(names);
    for (const name of names) this.metrics.outboundPending.set({ sender: name }, summary.find((s) => s.sender === name)?.pending ?? 0);
    const now = Math.floor(Date.now() / 1000);
    const first = Math.min(...summary.map((s) => s.nextAt));
    if (!Number.isFinite(first)) return IDLE_MS;
    if (first > now) return (first - now) * 1000;
    const due = await this.outbox.due(names, now, BATCH);
    // Closing stops between sends: a stop waits for the sends in flight only.
    for (let i = 0; i < due.length && !this.closed; i += PARALLEL) {
      await Promise.all(due.slice(i, i + PARALLEL).map((m) => this.deliver(m)));
    }
    // Look again at once: more may be due, and the next messages of the subjects just settled.
    // (None due though one is: it waits behind an earlier step of its subject, not yet due.)
    return due.length ? 0 : NOT_YET_MS;
  }

  private async deliver(m: Message): Promise<void> {
    const sender = this.senders.get(m.sender);
    if (!sender) return;
    const now = Math.floor(Date.now() / 1000);
    if (m.eventAt < now - sender.maxAgeSeconds) {
      this.log.warn({ sender: m.sender, id: m.id }, 'outbound message too old to send');
      return this.record(m, { state: 'too_old', attempts: m.attempts, nextAt: m.nextAt, answer: tooOldReason(m.eventAt, sender.maxAgeSeconds, sender.vendor) });
    }
    const verdict: Verdict = await sender.send(m).catch((err: unknown) => ({ kind: 'retry', answer: `send failed: ${String(err)}` }) as const);
    const attempts = m.attempts + 1;
    if (verdict.kind === 'sent') return this.record(m, { state: 'sent', attempts, nextAt: m.nextAt, answer: '' });
    if (verdict.kind === 'failed') {
      this.log.warn({ sender: m.sender, id: m.id, answer: verdict.answer }, 'outbound message refused by the vendor; not tried again');
      return this.record(m, { state: 'failed', attempts, nextAt: m.nextAt, answer: verdict.answer });
    }
    this.log.info({ sender: m.sender, id: m.id, attempts, answer: verdict.answer }, 'outbound message not delivered; tried again later');
    return this.record(m, { state: 'pending', attempts, nextAt: now + Math.ceil(retryDelay(attempts) / 1000), answer: verdict.answer });
  }

  /** Writes what became of a message, at once (the vendor's answer is in hand); kept to write later when that fails. */
  private async record(m: Message, next: Next): Promise<void> {
    try {
      await this.outbox.settle(m, next);
    } catch (err) {
      this.unwritten.set(m.id, { m, next });
      throw err;
    }
    if (next.state !== 'pending') this.onSettled(m);
  }

  /** Stops looking; waits for the sends in flight, so every answer received is written. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    for (const { m, next } of this.unwritten.values()) {
      await this.outbox.settle(m, next).catch((err: unknown) => this.log.error({ id: m.id, err: String(err) }, 'outbound answer not written; the message may be sent again'));
    }
  }
}
