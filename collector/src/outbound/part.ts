// A part of the outbound side: one kind of message (GA4 purchases and refunds,
// Metrika conversions, amoCRM moves, stage actions), with its senders and what
// plans its messages. The outbox, its worker and module.ts know no vendor: each
// part plans into the outbox, and the worker sends through the part's senders.
//
// A part plans from what is stored (deals, hits, the CRM configuration in
// force), never only from a hook: `sweep` runs at start and every minute, so
// whatever a missed hook or a restart left is planned by the next sweep, and a
// plan made twice writes the same message ids (outbox.ts messageId), which
// change nothing.
import type { Logger } from 'pino';
import type { ClickHouseClient } from '../clickhouse/client.js';
import type { Config } from '../config.js';
import type { StoredDeal } from '../crm/deals/ingest.js';
import type { Crm } from '../crm/service.js';
import type { Metrics } from '../metrics/registry.js';
import type { Message, Outbox } from './outbox.js';
import type { Sender } from './sender.js';
import { SAMPLE } from '../sample/marks.js';
import { str } from '../clickhouse/sql.js';

/**
 * The sample's deals (sample/marks.ts) are never news for anyone outside: no
 * part plans a message for them, whether a hook or a sweep finds them. A sweep
 * that reads `deals` puts this in its WHERE; module.ts drops them from hooks.
 */
export const NOT_SAMPLE_DEAL = `source != ${str(SAMPLE.source)}`;
export const isSampleDeal = (d: StoredDeal) => d.source === SAMPLE.source;

export type PartContext = {
  config: Config;
  /** The outbound side's own ClickHouse session (its reads never wait behind a report). */
  ch: ClickHouseClient;
  outbox: Outbox;
  log: Logger;
  metrics: Metrics;
  /** The CRM side: the configuration in force (`crm.config`, rules and actions included) and the amoCRM API clients. */
  crm: Crm;
  /** The worker looks at the outbox now (a plan wrote a message to send). */
  wake(): void;
};

export interface OutboundPart {
  /** For logs: `ga4`, `metrika`, `trigger`, `actions`. */
  readonly name: string;
  /** The senders of the part's messages (their names are the outbox's `sender` values it writes). */
  readonly senders: Sender[];
  /** A CRM delivery stored versions of these deals. Called in the background; a rejection is logged, and the next sweep plans again. */
  dealsChanged?(deals: StoredDeal[]): Promise<void>;
  /** Plans from what is stored: at start and every SWEEP_MS (module.ts). Returns how many subjects it looked at. */
  sweep?(): Promise<number>;
  /** A message of one of the part's senders was settled (sent, failed, too_old): the subject's next message may be planned. */
  settled?(m: Message): void;
  /** Waits for the plan in progress. */
  close?(): Promise<void>;
}

/** Starts a part, or returns null when it is not configured (its variables unset). */
export type PartStarter = (ctx: PartContext) => OutboundPart | null;

/**
 * Runs plans one at a time, in order: a deal delivered twice at once is planned
 * once, as the second plan reads the first one's messages.
 */
export class Serial {
  private queue: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => undefined).then(fn);
    this.queue = run;
    return run;
  }

  /** Waits for the plan in progress and every one queued. */
  async idle(): Promise<void> {
    await this.queue.catch(() => undefined);
  }
}
