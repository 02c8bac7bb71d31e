// Stage actions as an outbound part: always on. With no stageActions in the
// CRM configuration it plans nothing and reads nothing; the configuration can
// gain an action at any time (PUT /crm/config, the setup page). Its senders:
// `webhook` always, `ga4_event` when GA4 is configured (GA4_*).
import type { Message } from '../outbox.js';
import type { PartStarter } from '../part.js';
import { ga4EventSender } from './ga4-event.js';
import { ActionsPlanner } from './planner.js';
import { webhookSender } from './webhook.js';

export const actionsPart: PartStarter = (ctx) => {
  const planner = new ActionsPlanner(ctx);
  // The secret of the message's action (its stage and URL) in the configuration in force at the attempt.
  const secretOf = (m: Message) => ctx.crm.config.raw.stageActions.find((a) => a.stage === m.reference && a.webhook?.url === m.recipient)?.webhook?.secret ?? null;
  return {
    name: 'actions',
    senders: [webhookSender(secretOf), ...(ctx.config.ga4 ? [ga4EventSender(ctx.config.ga4)] : [])],
    dealsChanged: (deals) => planner.plan(deals),
    sweep: () => planner.sweep(),
    close: () => planner.close(),
  };
};
