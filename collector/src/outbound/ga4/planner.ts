// The GA4 side of the outbox: turns the deals a CRM delivery stored into GA4
// messages (purchases, adjustments, refunds: ledger.ts), written to the outbox
// for the worker to send. Plans run one at a time, so a deal delivered twice at
// once is planned once: the second plan reads the first one's message.
//
// The queue is derived from the stored deals, so nothing depends on the hook
// that follows a delivery: a sweep (at start and every SWEEP_MS) plans again
// every deal received within GA4's time limit, and a deal whose GA4 ledger is
// already what it should be plans nothing. A message goes with the time of
// what it reports (times.ts): a purchase that opens, the win's; others, their
// change's.
import type { Logger } from 'pino';
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import { dateTime, toDateTimeString } from '../../clickhouse/sql.js';
import type { StoredDeal as DealKey } from '../../crm/deals/ingest.js';
import { dealHistories, type DealRow } from '../../crm/deals/store.js';
import type { Metrics } from '../../metrics/registry.js';
import { newMessage, type Message, type Outbox } from '../outbox.js';
import { NOT_SAMPLE_DEAL, Serial } from '../part.js';
import { graphClientIds } from '../client-id.js';
import { nextMessage, type DealNow } from './ledger.js';
import { changeTime, winTime } from './times.js';
import { GA4, GA4_MAX_AGE_SECONDS, GA4_VENDOR, measurementBody } from './sender.js';

/** Deals without a GA id remembered as counted (see noteUnsent). */
const UNSENT_REMEMBERED = 100_000;

/** Deal ids per read of their histories. */
const DEALS_PER_READ = 1000;

/** `<source>:<deal_id>`, as identity_links name a deal; source ids have no `:` (crm/config/schema.ts). */
export const subjectOf = (k: DealKey) => `${k.source}:${k.dealId}`;
export function keyOf(subject: string): DealKey {
  const at = subject.indexOf(':');
  return { source: subject.slice(0, at), dealId: subject.slice(at + 1) };
}

const dealNow = (row: DealRow): DealNow => ({
  subject: subjectOf({ source: row.source, dealId: row.deal_id }),
  version: row.version,
  outcome: row.outcome,
  deleted: row.deleted === 1,
  amountMinor: row.amount_minor,
  currency: row.currency,
});

const day = (s: number) => toDateTimeString(s * 1000);

export type Ga4Sweep = { at: number; deals: number };

export class Ga4Planner {
  private readonly serial = new Serial();
  /** The deal version last counted as unsendable (no GA client id), per deal: a sweep does not count it again. */
  private readonly unsent = new Map<string, number>();
  lastSweep: Ga4Sweep | null = null;

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly outbox: Outbox,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Called when a plan wrote a message to send (the worker looks at once). */
    private readonly onWritten: () => void,
  ) {
    this.metrics.outboundUnsent.inc({ sender: GA4, reason: 'no_client_id' }, 0);
  }

  /** Plans these deals, after every plan before. */
  plan(keys: DealKey[]): Promise<void> {
    return this.serial.run(() => this.planNow(keys));
  }

  /** Plans every deal received within GA4's time limit (an hour more, for deliveries in flight). */
  sweep(): Promise<Ga4Sweep> {
    return this.serial.run(async () => {
      const at = Math.floor(Date.now() / 1000);
      const keys = await queryRows<{ source: string; deal_id: string }>(
        this.ch,
        `SELECT DISTINCT source, deal_id FROM deals WHERE received_at >= ${dateTime(day(at - GA4_MAX_AGE_SECONDS - 3600))} AND ${NOT_SAMPLE_DEAL}`,
      );
      await this.planNow(keys.map((k) => ({ source: k.source, dealId: k.deal_id })));
      return (this.lastSweep = { at, deals: keys.length });
    });
  }

  /** Waits for the plan in progress. */
  close(): Promise<void> {
    return this.serial.idle();
  }

  private async planNow(keys: DealKey[]): Promise<void> {
    const bySource = new Map<string, Set<string>>();
    for (const k of keys) {
      const ids = bySource.get(k.source) ?? new Set<string>();
      bySource.set(k.source, ids.add(k.dealId));
    }
    for (const [source, set] of bySource) {
      const ids = [...set];
      for (let i = 0; i < ids.length; i += DEALS_PER_READ) {
        const histories = await dealHistories(this.ch, source, ids.slice(i, i + DEALS_PER_READ));
        await this.planDeals([...histories.values()]);
      }
    }
  }

  /** Plans the next message of each deal (its versions given, oldest first) and writes them in one insert. */
  private async planDeals(histories: DealRow[][]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const current = (versions: DealRow[]) => versions[versions.length - 1]!;
    const ledger = await this.outbox.ofSubjects(GA4, histories.map((v) => dealNow(current(v)).subject));
    const plans = [];
    for (const versions of histories) {
      const row = current(versions);
      const deal = dealNow(row);
      const next = nextMessage(deal, ledger.get(deal.subject) ?? []);
      if (next.kind === 'send') plans.push({ row, deal, next, at: next.opens ? winTime(versions) : changeTime(row) });
    }
    // A purchase that opens goes to the deal's own GA id, else to one the identity graph ties it to.
    const asking = plans.filter((p) => p.next.recipient === null && !p.row.ga_cid).map((p) => ({ subject: p.deal.subject, visitorId: p.row.visitor_id }));
    const graph = asking.length ? await graphClientIds(this.ch, asking, 'ga_cid') : new Map<string, string>();
    const messages: Message[] = [];
    for (const { row, deal, next, at } of plans) {
      const recipient = next.recipient ?? (row.ga_cid || graph.get(deal.subject) || '');
      if (!recipient) {
        this.noteUnsent(deal);
        continue;
      }
      this.unsent.delete(deal.subject);
      const eventAt = Math.min(now, at);
      messages.push(newMessage({
        sender: GA4,
        subject: deal.subject,
        step: next.step,
        basis: deal.version,
        event: next.event,
        reference: next.reference,
        recipient,
        valueMinor: next.valueMinor,
        currency: next.currency,
        body: measurementBody({ clientId: recipient, eventAt, event: next.event, transactionId: next.reference, valueMinor: next.valueMinor, currency: next.currency }),
        eventAt,
      }, now, { maxAgeSeconds: GA4_MAX_AGE_SECONDS, vendor: GA4_VENDOR }));
    }
    await this.outbox.write(messages);
    for (const m of messages) if (m.state === 'too_old') this.log.warn({ id: m.id, eventAt: day(m.eventAt) }, 'deal change too old for GA4; not sent');
    if (messages.some((m) => m.state === 'pending')) this.onWritten();
  }

  private noteUnsent(deal: DealNow): void {
    if (this.unsent.get(deal.subject) === deal.version) return;
    // Bounded: past it, a deal still without an id may be counted once more.
    if (this.unsent.size >= UNSENT_REMEMBERED) this.unsent.clear();
    this.unsent.set(deal.subject, deal.version);
    this.metrics.outboundUnsent.inc({ sender: GA4, reason: 'no_client_id' });
    this.log.info({ deal: deal.subject }, 'deal change not sent to GA4: no GA client id on the deal nor its visitors');
  }
}
