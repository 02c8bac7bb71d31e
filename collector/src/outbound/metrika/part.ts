// Yandex Metrika as two outbound parts:
//   metrika      offline conversions: on with METRIKA_COUNTER_ID and METRIKA_TOKEN.
//                Won deals are planned as conversions when METRIKA_GOAL names the
//                goal; without it the sender still sends the period files the
//                admin queues (route.ts), each naming its goal.
//   metrika_cdp  CDP orders: on with the counter and token, unless METRIKA_CDP=off.
import type { PartStarter } from '../part.js';
import { ConversionPlanner } from './conversion-planner.js';
import { OrderPlanner } from './order-planner.js';
import { conversionsSender, METRIKA, METRIKA_CDP, ordersSender } from './upload.js';

export const metrikaPart: PartStarter = (ctx) => {
  const cfg = ctx.config.metrika;
  if (!cfg?.api) return null;
  const planner = cfg.goal ? new ConversionPlanner(cfg.goal, ctx.ch, ctx.outbox, ctx.log, ctx.metrics, METRIKA, ctx.wake) : null;
  return {
    name: METRIKA,
    senders: [conversionsSender(cfg.api)],
    ...(planner && {
      dealsChanged: (deals) => planner.plan(deals),
      sweep: () => planner.sweep(),
      close: () => planner.close(),
    }),
  };
};

export const metrikaCdpPart: PartStarter = (ctx) => {
  const cfg = ctx.config.metrika;
  if (!cfg?.api || !cfg.cdp) return null;
  const planner = new OrderPlanner(cfg.timeZone, ctx.ch, ctx.outbox, ctx.log, ctx.metrics, METRIKA_CDP, ctx.wake);
  return {
    name: METRIKA_CDP,
    senders: [ordersSender(cfg.api)],
    dealsChanged: (deals) => planner.plan(deals),
    sweep: () => planner.sweep(),
    close: () => planner.close(),
  };
};
