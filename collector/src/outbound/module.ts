// The outbound side of a running collector: the outbox, its worker and the
// senders configured (GA4 when GA4_MEASUREMENT_ID and GA4_API_SECRET are set),
// with the planner that turns stored deals into messages. It lives in the
// collector process (the embedded engine is there too) and uses a ClickHouse
// session of its own, so its looks at the outbox never wait behind a report.
import type { Logger } from 'pino';
import { connect, type ClickHouseClient } from '../clickhouse/client.js';
import type { Config } from '../config.js';
import { OUTBOUND_OUTCOMES, type Metrics } from '../metrics/registry.js';
import type { StoredDeal } from '../crm/deals/ingest.js';
import { Ga4Planner, keyOf, type Sweep } from './ga4/planner.js';
import { ga4Sender } from './ga4/sender.js';
import { Outbox } from './outbox.js';
import type { Sender } from './sender.js';
import { OutboxWorker } from './worker.js';

/** How often every deal received within the senders' time limits is planned again (what a missed hook left). */
const SWEEP_MS = 60_000;

export type Outbound = {
  /** The senders configured. */
  readonly senders: Sender[];
  readonly outbox: Outbox;
  /** The last sweep finished (null before the first, or with no sender). */
  lastSweep(): Sweep | null;
  /**
   * Deals a CRM delivery stored: their messages are planned in the background.
   * Never throws and never delays the CRM's answer; a plan that fails is logged,
   * and the next sweep plans those deals again.
   */
  dealsChanged(deals: StoredDeal[]): void;
  close(): Promise<void>;
};

export type OutboundOptions = {
  config: Config;
  /** The collector's client: the outbox is read through it while no sender is configured. */
  clickhouse: ClickHouseClient;
  /** The settings the collector's clients send (clickhouse/client.ts portableSettings). */
  settings: Record<string, string | number>;
  log: Logger;
  metrics: Metrics;
};

export function startOutbound(o: OutboundOptions): Outbound {
  if (!o.config.ga4) {
    return { senders: [], outbox: new Outbox(o.clickhouse, o.metrics), lastSweep: () => null, dealsChanged: () => undefined, close: async () => undefined };
  }
  const own = connect(o.config.clickhouse, o.config.clickhouse.database, o.settings);
  const outbox = new Outbox(own, o.metrics);
  const senders = [ga4Sender(o.config.ga4)];
  for (const s of senders) for (const outcome of OUTBOUND_OUTCOMES) o.metrics.outbound.inc({ sender: s.name, outcome }, 0);
  const log = o.log.child({ part: 'outbound' });
  const planner: Ga4Planner = new Ga4Planner(own, outbox, log, o.metrics, () => worker.wake());
  const replan = (deals: StoredDeal[]) =>
    planner.plan(deals).catch((err: unknown) => log.error({ err: String(err), deals: deals.length }, 'outbound plan failed; the next sweep plans these deals again'));
  // A settled message may let its deal's next change go (one message of a deal is unsettled at a time).
  const worker: OutboxWorker = new OutboxWorker(outbox, senders, log, o.metrics, (m) => void replan([keyOf(m.subject)]));
  const sweep = () =>
    planner.sweep().then(
      (s) => log.debug(s, 'outbound sweep done'),
      (err: unknown) => log.error({ err: String(err) }, 'outbound sweep failed; tried again at the next'),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), SWEEP_MS);
  timer.unref();
  worker.wake();
  log.info({ senders: senders.map((s) => s.name) }, 'outbound senders on');
  return {
    senders,
    outbox,
    lastSweep: () => planner.lastSweep,
    dealsChanged(deals) {
      if (deals.length) void replan(deals);
    },
    async close() {
      clearInterval(timer);
      // The worker first: every answer received is written; a plan it started is waited for next.
      await worker.close();
      await planner.close();
      await own.close();
    },
  };
}
