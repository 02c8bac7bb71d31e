// GA4 purchases and refunds as an outbound part: on when GA4_MEASUREMENT_ID and
// GA4_API_SECRET are set.
import type { PartStarter } from '../part.js';
import { keyOf, Ga4Planner } from './planner.js';
import { ga4Sender } from './sender.js';

export const ga4Part: PartStarter = (ctx) => {
  if (!ctx.config.ga4) return null;
  const planner = new Ga4Planner(ctx.ch, ctx.outbox, ctx.log, ctx.metrics, ctx.wake);
  return {
    name: 'ga4',
    senders: [ga4Sender(ctx.config.ga4)],
    dealsChanged: (deals) => planner.plan(deals),
    sweep: () => planner.sweep().then((s) => s.deals),
    // A settled message may let its deal's next change go (one message of a deal is unsettled at a time).
    settled: (m) =>
      void planner.plan([keyOf(m.subject)]).catch((err: unknown) => ctx.log.error({ err: String(err), subject: m.subject }, 'GA4 plan failed; the next sweep plans this deal again')),
    close: () => planner.close(),
  };
};
