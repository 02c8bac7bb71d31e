// Won deals as Metrika offline conversions (conversion-plan.ts decides which):
// each becomes one message, its body the file of one conversion (header and
// line, conversions.ts), dated at the win (ga4/times.ts winTime: the first
// version of the deal's newest run of won, live versions) and priced at the
// deal's amount as it stands when planned.
import type { DealRow } from '../../crm/deals/store.js';
import { winTime } from '../ga4/times.js';
import { newMessage, type Message } from '../outbox.js';
import { subjectOfRow } from './client-ids.js';
import { nextConversion } from './conversion-plan.js';
import { conversionLine, conversionsCsv } from './conversions.js';
import { DealPlanner, NO_METRIKA_ID } from './deal-planner.js';
import { CONVERSION_MAX_AGE_SECONDS, METRIKA, METRIKA_VENDOR } from './upload.js';

export class ConversionPlanner extends DealPlanner {
  constructor(
    /** The goal's identifier (the file's Target). */
    private readonly goal: string,
    ...base: ConstructorParameters<typeof DealPlanner>
  ) {
    super(...base);
  }

  protected async planDeals(histories: DealRow[][]): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const ledger = await this.outbox.ofSubjects(METRIKA, histories.map((v) => subjectOfRow(v[v.length - 1]!)));
    const plans = [];
    for (const versions of histories) {
      const row = versions[versions.length - 1]!;
      const won = row.outcome === 'won' && row.deleted === 0;
      const winAt = won ? winTime(versions) : 0;
      const next = nextConversion({ version: row.version, won, winAt }, ledger.get(subjectOfRow(row)) ?? []);
      if (next.kind === 'send') plans.push({ row, step: next.step, winAt });
    }
    if (!plans.length) return;
    const ids = await this.clientIds(plans.map((p) => p.row));
    const messages: Message[] = [];
    for (const { row, step, winAt } of plans) {
      const subject = subjectOfRow(row);
      const clientId = ids.get(subject);
      if (!clientId) {
        this.noteUnsent(subject, row.version, NO_METRIKA_ID);
        continue;
      }
      // Metrika takes a conversion dated in the past only.
      const eventAt = Math.min(now, winAt);
      const made = conversionLine({ clientId, goal: this.goal, at: eventAt, amountMinor: row.amount_minor, currency: row.currency });
      if ('refused' in made) {
        this.noteUnsent(subject, row.version, made.refused);
        continue;
      }
      messages.push(newMessage({
        sender: METRIKA,
        subject,
        step,
        basis: row.version,
        event: 'conversion',
        reference: this.goal,
        recipient: clientId,
        valueMinor: Math.max(0, row.amount_minor),
        currency: row.currency,
        body: conversionsCsv([made.line]),
        eventAt,
      }, now, { maxAgeSeconds: CONVERSION_MAX_AGE_SECONDS, vendor: METRIKA_VENDOR }));
    }
    await this.write(messages);
  }
}
