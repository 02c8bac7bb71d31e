// The site-visit trigger as an outbound part: always on (its rules are in the
// CRM configuration, which can gain one at any time; with none it reads and
// writes nothing), but for a collector started with TRIGGER_SCAN_SECONDS=0,
// which neither scans nor sends moves (an installation of several collectors
// runs the trigger in one).
import type { PartStarter } from '../part.js';
import { TriggerPlanner } from './planner.js';
import { moveSender } from './sender.js';

export const triggerPart: PartStarter = (ctx) => {
  const seconds = ctx.config.trigger.scanSeconds;
  if (seconds === 0) return null;
  const log = ctx.log.child({ part: 'trigger' });
  const planner = new TriggerPlanner(ctx.ch, ctx.outbox, ctx.crm, log, ctx.metrics, ctx.wake);
  // A scan that outlasts the period is not queued behind by another.
  let scanning = false;
  const tick = () => {
    if (scanning) return;
    scanning = true;
    planner
      .scan()
      .catch((err: unknown) => log.error({ err: String(err) }, 'visit trigger scan failed; tried again at the next'))
      .finally(() => (scanning = false));
  };
  const timer = setInterval(tick, seconds * 1000);
  timer.unref();
  return {
    name: 'trigger',
    senders: [moveSender(ctx.crm)],
    // The start's sweep is the first scan (it catches up on what arrived while the collector was down).
    sweep: () => planner.scan(),
    async close() {
      clearInterval(timer);
      await planner.close();
    },
  };
};
