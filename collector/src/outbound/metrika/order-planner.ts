// Deal changes as Metrika CDP order upserts (order-plan.ts decides which): one
// message per change, its body the file of the order in that version's state
// (orders.ts), dated at the change (ga4/times.ts changeTime). The order's
// creation time is the deal's, the same in every message (Metrika refuses to
// change it once sent).
import type { DealRow } from '../../crm/deals/store.js';
import { changeTime } from '../ga4/times.js';
import { newMessage, type Message } from '../outbox.js';
import { subjectOfRow } from './client-ids.js';
import { DealPlanner, NO_METRIKA_ID, secondsOf } from './deal-planner.js';
import { orderLine, ordersCsv, orderStatus } from './orders.js';
import { ordersToSend, type OrderState } from './order-plan.js';
import { METRIKA_CDP, METRIKA_CDP_VENDOR, ORDER_MAX_AGE_SECONDS } from './upload.js';

const stateOf = (row: DealRow): OrderState => ({
  version: row.version,
  outcome: row.outcome,
  deleted: row.deleted === 1,
  amountMinor: row.amount_minor,
  currency: row.currency,
  stage: row.stage,
});

/** When the deal was created: the CRM's time (kept from the first version on), else its first version's. */
function createdAt(versions: DealRow[]): number {
  const crm = secondsOf(versions[versions.length - 1]!.created_at);
  return Number.isFinite(crm) && crm > 0 ? crm : changeTime(versions[0]!);
}

export class OrderPlanner extends DealPlanner {
  constructor(
    /** The counter's time zone: the file's times are on its clock. */
    private readonly timeZone: string,
    ...base: ConstructorParameters<typeof DealPlanner>
  ) {
    super(...base);
  }

  protected async planDeals(histories: DealRow[][]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const ledger = await this.outbox.ofSubjects(METRIKA_CDP, histories.map((v) => subjectOfRow(v[v.length - 1]!)));
    const plans = [];
    for (const versions of histories) {
      const current = versions[versions.length - 1]!;
      const sends = ordersToSend(versions.map(stateOf), ledger.get(subjectOfRow(current)) ?? []);
      if (sends.length) plans.push({ versions, current, sends });
    }
    if (!plans.length) return;
    // One ClientID per deal, as it stands now, in every message the plan writes.
    const ids = await this.clientIds(plans.map((p) => p.current));
    const messages: Message[] = [];
    for (const { versions, current, sends } of plans) {
      const subject = subjectOfRow(current);
      const clientId = ids.get(subject);
      if (!clientId) {
        this.noteUnsent(subject, current.version, NO_METRIKA_ID);
        continue;
      }
      const created = createdAt(versions);
      for (const { version, step } of sends) {
        const row = versions.find((v) => v.version === version)!;
        const status = orderStatus(row.outcome, row.deleted === 1);
        const changed = Math.min(now, changeTime(row));
        const made = orderLine({ id: subject, clientId, createdAt: created, updatedAt: changed, status, amountMinor: row.amount_minor }, this.timeZone);
        if ('refused' in made) {
          // Refused for good (a later message carries the order's whole state): counted, and the next change goes.
          this.noteUnsent(subject, current.version, made.refused);
          continue;
        }
        messages.push(newMessage({
          sender: METRIKA_CDP,
          subject,
          step,
          basis: version,
          event: status,
          reference: subject,
          recipient: clientId,
          valueMinor: Math.max(0, row.amount_minor),
          currency: row.currency,
          body: ordersCsv(made.line),
          eventAt: changed,
        }, now, { maxAgeSeconds: ORDER_MAX_AGE_SECONDS, vendor: METRIKA_CDP_VENDOR }));
      }
    }
    await this.write(messages);
  }
}
