// The site-visit trigger's side of the outbox: looks at the page visits that
// arrived since its last look, and for each visit to a page some rule matches,
// at the deals the visitor is tied to; a deal the decision moves (decide.ts)
// becomes an amoCRM move message, written to the outbox for the worker to send.
//
// A scan reads the visits received from where the last one ended, less a
// minute (hits reach ClickHouse in batches, a second or so after they arrive),
// to now; the position is kept in ClickHouse (watermark.ts), so a restart goes
// on from there. Visits older than a move may be made for (an hour) are not
// read: a collector that was down longer does not move deals for visits long
// past. A visit looked at twice (the overlap, a restart) plans the same
// message id (step = the second it arrived), which changes nothing; in one
// process it is not even decided twice, so its "not moved" is counted once.
// With no rule in force nothing is read or written at all.
import type { Logger } from 'pino';
import type { ClickHouseClient } from '../../clickhouse/client.js';
import type { Crm } from '../../crm/service.js';
import type { Metrics } from '../../metrics/registry.js';
import { messageId, newMessage, type Message, type Outbox } from '../outbox.js';
import { Serial } from '../part.js';
import { tiedDeals } from './deals.js';
import { decide, moveRecipient, moveReference, NOT_MOVED, type MatchedRule, type MoveEntry, type NotMoved } from './decide.js';
import { pagePath } from './pattern.js';
import { matching, rulesInForce, type RulesInForce } from './rules.js';
import { AMOCRM_MOVE, MOVE_MAX_AGE_SECONDS, moveBody } from './sender.js';
import { readVisits, type Visit } from './visits.js';
import { readWatermark, writeWatermark } from './watermark.js';

/** How far a scan reaches back before where the last one ended: visits stored a little after they arrived. */
export const OVERLAP_SECONDS = 60;

/** Visits read per query. */
const PAGE = 2000;


export class TriggerPlanner {
  private readonly serial = new Serial();
  /** Where the last scan ended (unix seconds of received_at); null until the stored one is read. */
  private watermark: number | null = null;
  /** Visits decided in this process, with when they arrived: a scan that overlaps the last leaves them be. */
  private decided = new Map<string, number>();

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly outbox: Outbox,
    private readonly crm: Pick<Crm, 'config'>,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** Called when a scan wrote a message to send (the worker looks at once). */
    private readonly onWritten: () => void,
    private readonly clock: () => number = Date.now,
  ) {
    for (const reason of NOT_MOVED) this.metrics.outboundUnsent.inc({ sender: AMOCRM_MOVE, reason }, 0);
  }

  /** Looks at the visits that arrived since the last scan, after any scan in progress. Returns how many deals it looked at. */
  scan(): Promise<number> {
    return this.serial.run(() => this.scanNow());
  }

  close(): Promise<void> {
    return this.serial.idle();
  }

  private async scanNow(): Promise<number> {
    const now = Math.floor(this.clock() / 1000);
    const rules = rulesInForce(this.crm.config);
    if (!rules.any) {
      // Nothing read, nothing written; a rule added later looks at visits from then on.
      this.watermark = now;
      return 0;
    }
    this.watermark ??= (await readWatermark(this.ch)) ?? now;
    const from = Math.max(this.watermark - OVERLAP_SECONDS, now - MOVE_MAX_AGE_SECONDS);
    let after: { at: number; eventId: string } | null = null;
    let looked = 0;
    for (;;) {
      const page = await readVisits(this.ch, { from, to: now, after, urlRegex: rules.urlRegex, limit: PAGE });
      looked += await this.planVisits(page, rules, now);
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      after = { at: last.at, eventId: last.eventId };
    }
    this.watermark = now;
    for (const [id, at] of this.decided) if (at < from) this.decided.delete(id);
    // Lost, it costs a little: the next start looks again at what this scan looked at.
    await writeWatermark(this.ch, now).catch((err: unknown) => this.log.warn({ err: String(err) }, 'visit trigger position not stored; a restart looks at these visits again'));
    return looked;
  }

  /** Decides the visits of one page (in the order they arrived) and writes the moves in one insert. */
  private async planVisits(visits: Visit[], rules: RulesInForce, now: number): Promise<number> {
    const matched: { visit: Visit; bySource: Map<string, MatchedRule[]> }[] = [];
    for (const visit of visits) {
      if (this.decided.has(visit.eventId)) continue;
      const path = pagePath(visit.url);
      const bySource = new Map<string, MatchedRule[]>();
      for (const s of rules.sources) {
        const m = matching(s, path);
        if (m.length) bySource.set(s.source, m);
      }
      if (bySource.size) matched.push({ visit, bySource });
    }
    if (!matched.length) return 0;
    const ties = await tiedDeals(
      this.ch,
      rules.sources.map((s) => s.source),
      matched.map((m) => m.visit),
    );
    const ledger = ties.deals.size ? await this.outbox.ofSubjects(AMOCRM_MOVE, [...ties.deals.keys()]) : new Map<string, Message[]>();
    const stageOf = new Map(rules.sources.map((s) => [s.source, s.stageOf]));
    const messages: Message[] = [];
    const notMoved: { subject: string; reason: NotMoved; eventId: string }[] = [];
    for (const { visit, bySource } of matched) {
      for (const subject of ties.of(visit)) {
        const deal = ties.deals.get(subject)!;
        const rulesOf = bySource.get(deal.source);
        if (!rulesOf) continue;
        const moves: MoveEntry[] = ledger.get(subject) ?? [];
        const id = messageId(AMOCRM_MOVE, subject, visit.at);
        const d = decide({ deal, rules: rulesOf, moves, visit: { id, at: visit.at, eventId: visit.eventId }, now, stageOf: stageOf.get(deal.source)! });
        if (d.kind === 'planned') continue;
        if (d.kind === 'not_moved') {
          notMoved.push({ subject, reason: d.reason, eventId: visit.eventId });
          continue;
        }
        let body: string;
        try {
          body = moveBody(deal.dealId, d.rule.pipeline, d.rule.status);
        } catch {
          this.log.warn({ deal: subject }, 'visit trigger: the deal id is not an amoCRM lead id; not moved');
          continue;
        }
        const m: Message = newMessage({
          sender: AMOCRM_MOVE,
          subject,
          step: visit.at,
          basis: deal.version,
          event: 'move',
          reference: moveReference(d.rule.index, d.rule.page, visit.eventId),
          recipient: moveRecipient(d.rule.pipeline, d.from, d.rule.status),
          valueMinor: 0,
          currency: '',
          body,
          eventAt: visit.at,
        }, now);
        messages.push(m);
        // A later visit of this page decides with this move made: within 10 minutes, not again.
        ledger.set(subject, [...(ledger.get(subject) ?? []), m]);
      }
    }
    await this.outbox.write(messages);
    for (const { visit } of matched) this.decided.set(visit.eventId, visit.at);
    for (const n of notMoved) {
      this.metrics.outboundUnsent.inc({ sender: AMOCRM_MOVE, reason: n.reason });
      this.log.debug({ deal: n.subject, hit: n.eventId, reason: n.reason }, 'visit trigger: deal not moved');
    }
    for (const m of messages) this.log.info({ deal: m.subject, move: m.recipient, rule: m.reference }, 'visit trigger: deal to be moved');
    if (messages.length) this.onWritten();
    return ties.deals.size;
  }
}
