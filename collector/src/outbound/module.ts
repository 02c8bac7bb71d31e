// The outbound side of a running collector: the outbox, its worker, and the
// parts that plan messages into it (part.ts): GA4 purchases and refunds when
// GA4 is configured, and whatever else PARTS lists. It lives in the collector
// process (the embedded engine is there too) and uses a ClickHouse session of
// its own, so its looks at the outbox never wait behind a report.
//
// The worker runs whenever a part is on. Parts that act on the CRM
// configuration (rules, stage actions) are always on: the configuration can
// gain a rule at any time, and with none they plan nothing.
import type { Logger } from 'pino';
import { connect, type ClickHouseClient } from '../clickhouse/client.js';
import type { Config } from '../config.js';
import type { StoredDeal } from '../crm/deals/ingest.js';
import type { Crm } from '../crm/service.js';
import { OUTBOUND_OUTCOMES, type Metrics } from '../metrics/registry.js';
import { actionsPart } from './actions/part.js';
import { ga4Part } from './ga4/part.js';
import { metrikaCdpPart, metrikaPart } from './metrika/part.js';
import { Outbox } from './outbox.js';
import { triggerPart } from './trigger/part.js';
import { isSampleDeal, type OutboundPart, type PartStarter } from './part.js';
import type { Sender } from './sender.js';
import { OutboxWorker } from './worker.js';

/** Every part, in the order their sweeps run. */
const PARTS: PartStarter[] = [ga4Part, metrikaPart, metrikaCdpPart, actionsPart, triggerPart];

/** How often every part plans again from what is stored (what a missed hook left). */
const SWEEP_MS = 60_000;

/** The last sweep: when it started, and how many subjects each part looked at. */
export type Sweep = { at: number; looked: Record<string, number> };

export type Outbound = {
  /** The senders of the parts that are on. */
  readonly senders: Sender[];
  readonly outbox: Outbox;
  /** The last sweep finished (null before the first, or with no part on). */
  lastSweep(): Sweep | null;
  /** The worker looks at the outbox now: a message was made due by hand (the outbox page's Try again). */
  wake(): void;
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
  /** The collector's client: the outbox is read through it while no part is on. */
  clickhouse: ClickHouseClient;
  /** The settings the collector's clients send (clickhouse/client.ts portableSettings). */
  settings: Record<string, string | number>;
  log: Logger;
  metrics: Metrics;
  crm: Crm;
};

export function startOutbound(o: OutboundOptions): Outbound {
  const own = connect(o.config.clickhouse, o.config.clickhouse.database, o.settings);
  const outbox = new Outbox(own, o.metrics);
  const log = o.log.child({ part: 'outbound' });
  let worker: OutboxWorker | undefined;
  const ctx = { config: o.config, ch: own, outbox, log, metrics: o.metrics, crm: o.crm, wake: () => worker?.wake() };
  // OUTBOUND=off: this collector leaves planning and sending to another one.
  const parts = o.config.outbound ? PARTS.map((start) => start(ctx)).filter((p): p is OutboundPart => p !== null) : [];
  if (!parts.length) {
    void own.close();
    return { senders: [], outbox: new Outbox(o.clickhouse, o.metrics), lastSweep: () => null, wake: () => undefined, dealsChanged: () => undefined, close: async () => undefined };
  }
  const senders = parts.flatMap((p) => p.senders);
  const partOf = new Map(parts.flatMap((p) => p.senders.map((s) => [s.name, p] as const)));
  for (const s of senders) for (const outcome of OUTBOUND_OUTCOMES) o.metrics.outbound.inc({ sender: s.name, outcome }, 0);
  const started = new OutboxWorker(outbox, senders, log, o.metrics, (m) => partOf.get(m.sender)?.settled?.(m));
  worker = started;
  let last: Sweep | null = null;
  let sweeping: Promise<void> | null = null;
  const sweep = async () => {
    const at = Math.floor(Date.now() / 1000);
    const looked: Record<string, number> = {};
    for (const p of parts) {
      if (!p.sweep) continue;
      try {
        looked[p.name] = await p.sweep();
      } catch (err) {
        log.error({ err: String(err), part: p.name }, 'outbound sweep failed; tried again at the next');
      }
    }
    last = { at, looked };
    log.debug(last, 'outbound sweep done');
  };
  // One sweep at a time: a slow one is not overtaken by the next.
  const tick = () => {
    if (!sweeping) sweeping = sweep().finally(() => (sweeping = null));
  };
  tick();
  const timer = setInterval(tick, SWEEP_MS);
  timer.unref();
  started.wake();
  log.info({ parts: parts.map((p) => p.name), senders: senders.map((s) => s.name) }, 'outbound on');
  return {
    senders,
    outbox,
    lastSweep: () => last,
    wake: () => started.wake(),
    dealsChanged(stored) {
      const deals = stored.filter((d) => !isSampleDeal(d));
      if (!deals.length) return;
      for (const p of parts) {
        p.dealsChanged?.(deals).catch((err: unknown) =>
          log.error({ err: String(err), part: p.name, deals: deals.length }, 'outbound plan failed; the next sweep plans these deals again'),
        );
      }
    },
    async close() {
      clearInterval(timer);
      // The worker first: every answer received is written; the plans started are waited for next.
      await started.close();
      await sweeping;
      for (const p of parts) await p.close?.();
      await own.close();
    },
  };
}
