// What the Metrika planners (offline conversions, CDP orders) share: plans run
// one at a time (a deal delivered twice at once is planned once: the second
// plan reads the first one's messages); a plan reads the deals' stored versions
// and the outbox, decides, and writes its messages in one insert; a sweep, at
// start and every minute (module.ts), plans again every deal received within
// SWEEP_LOOKBACK_SECONDS, so a delivery whose plan failed, a collector killed
// right after answering the CRM, or Metrika turned on a day later, are caught
// up; a deal whose messages already say what they should plans nothing.
//
// A deal change that cannot be sent (no Metrika ClientID reaches the deal, or a
// field outside Metrika's rules) is counted once per deal version in
// throughline_outbound_changes_unsent_total{sender, reason}; the sweeps keep
// trying, since a later identity resolution may tie the deal to a visitor.
import type { Logger } from 'pino';
import { queryRows, type ClickHouseClient } from '../../clickhouse/client.js';
import { dateTime, toDateTimeString } from '../../clickhouse/sql.js';
import type { StoredDeal as DealKey } from '../../crm/deals/ingest.js';
import { dealHistories, type DealRow } from '../../crm/deals/store.js';
import type { Metrics } from '../../metrics/registry.js';
import type { Message, Outbox } from '../outbox.js';
import { NOT_SAMPLE_DEAL, Serial } from '../part.js';
import { metrikaClientIds } from './client-ids.js';

/** How far back a sweep looks (by arrival): three days and an hour, as GA4's. */
export const SWEEP_LOOKBACK_SECONDS = 73 * 3600;

/** Deals remembered as counted unsendable (bounded: past it, one may be counted once more). */
const UNSENT_REMEMBERED = 100_000;

/** Deal ids per read of their histories. */
const DEALS_PER_READ = 1000;

export const NO_METRIKA_ID = 'no_metrika_id';

const day = (s: number) => toDateTimeString(s * 1000);

/** Unix seconds of a `YYYY-MM-DD hh:mm:ss` UTC DateTime as read back (NaN for 18.16's zero date). */
export const secondsOf = (t: string) => Date.parse(`${t.replace(' ', 'T')}Z`) / 1000;

export abstract class DealPlanner {
  private readonly serial = new Serial();
  /** The deal version last counted as unsendable, per deal: a sweep does not count it again. */
  private readonly unsent = new Map<string, number>();

  constructor(
    protected readonly ch: ClickHouseClient,
    protected readonly outbox: Outbox,
    protected readonly log: Logger,
    protected readonly metrics: Metrics,
    /** The outbox's sender of the messages planned. */
    protected readonly sender: string,
    /** Called when a plan wrote a message to send (the worker looks at once). */
    private readonly onWritten: () => void,
  ) {
    this.metrics.outboundUnsent.inc({ sender, reason: NO_METRIKA_ID }, 0);
  }

  /** Plans these deals, after every plan before. */
  plan(keys: DealKey[]): Promise<void> {
    return this.serial.run(() => this.planNow(keys));
  }

  /** Plans every deal received within the sweep's look-back; returns how many. */
  sweep(): Promise<number> {
    return this.serial.run(async () => {
      const at = Math.floor(Date.now() / 1000);
      const keys = await queryRows<{ source: string; deal_id: string }>(
        this.ch,
        `SELECT DISTINCT source, deal_id FROM deals WHERE received_at >= ${dateTime(day(at - SWEEP_LOOKBACK_SECONDS))} AND ${NOT_SAMPLE_DEAL}`,
      );
      await this.planNow(keys.map((k) => ({ source: k.source, dealId: k.deal_id })));
      return keys.length;
    });
  }

  /** Waits for the plan in progress. */
  close(): Promise<void> {
    return this.serial.idle();
  }

  /** Plans the deals of these histories (each oldest first) and writes what it decides. */
  protected abstract planDeals(histories: DealRow[][]): Promise<void>;

  private async planNow(keys: DealKey[]): Promise<void> {
    const bySource = new Map<string, Set<string>>();
    for (const k of keys) bySource.set(k.source, (bySource.get(k.source) ?? new Set<string>()).add(k.dealId));
    for (const [source, set] of bySource) {
      const ids = [...set];
      for (let i = 0; i < ids.length; i += DEALS_PER_READ) {
        const histories = await dealHistories(this.ch, source, ids.slice(i, i + DEALS_PER_READ));
        if (histories.size) await this.planDeals([...histories.values()]);
      }
    }
  }

  /** The Metrika ClientID of each deal (client-ids.ts). */
  protected clientIds(rows: DealRow[]): Promise<Map<string, string>> {
    return metrikaClientIds(this.ch, rows);
  }

  /** Counts a deal version that cannot be sent, once. */
  protected noteUnsent(subject: string, version: number, reason: string): void {
    if (this.unsent.get(subject) === version) return;
    if (this.unsent.size >= UNSENT_REMEMBERED) this.unsent.clear();
    this.unsent.set(subject, version);
    this.metrics.outboundUnsent.inc({ sender: this.sender, reason });
    this.log.info({ deal: subject, sender: this.sender, reason }, 'deal change not sent to Metrika');
  }

  /** Writes the messages planned; the worker is woken when one is to be sent. */
  protected async write(messages: Message[]): Promise<void> {
    await this.outbox.write(messages);
    for (const m of messages) {
      this.unsent.delete(m.subject);
      if (m.state === 'too_old') this.log.warn({ id: m.id, eventAt: day(m.eventAt) }, 'deal change too old for Metrika; not sent');
    }
    if (messages.some((m) => m.state === 'pending')) this.onWritten();
  }
}
