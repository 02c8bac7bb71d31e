// The stage actions' side of the outbox: turns the stored versions of deals
// into the GA4 events and webhooks their stage entries fire (entries.ts,
// plan.ts), written to the outbox for the worker to send. Plans run one at a
// time, so a deal delivered twice at once is planned once.
//
// Planned from what is stored, never only from the hook: a sweep (at start and
// every minute) plans again every deal received within the longest window of
// the actions configured (a webhook's day, a GA4 event's 72 hours, an hour
// more for deliveries in flight), from when the oldest action came into force;
// a deal whose entries' messages are all in the outbox plans nothing. With no
// action configured, nothing is read.
import { queryRows } from '../../clickhouse/client.js';
import { dateTime, toDateTimeString } from '../../clickhouse/sql.js';
import type { LoadedConfig } from '../../crm/config/schema.js';
import type { StoredDeal as DealKey } from '../../crm/deals/ingest.js';
import { dealHistories, type DealRow } from '../../crm/deals/store.js';
import { graphClientIds } from '../client-id.js';
import { subjectOf } from '../ga4/planner.js';
import { GA4_MAX_AGE_SECONDS, GA4_VENDOR } from '../ga4/sender.js';
import { changeTime } from '../ga4/times.js';
import { messageId, newMessage, type Message } from '../outbox.js';
import { NOT_SAMPLE_DEAL, Serial, type PartContext } from '../part.js';
import { entriesOf, type Entry } from './entries.js';
import { stageEventBody } from './ga4-event.js';
import { actionsOf, firings, GA4_EVENT, WEBHOOK, type Action, type ActionSender, type Firing, type Known, type Received } from './plan.js';
import { ActionClock } from './since.js';
import { WEBHOOK_MAX_AGE_SECONDS, WEBHOOK_VENDOR, webhookBody } from './webhook.js';

/** Each sender's time limit, and the vendor named in a too_old message's reason. */
const LIMIT: Record<ActionSender, { maxAge: number; vendor: string }> = {
  [GA4_EVENT]: { maxAge: GA4_MAX_AGE_SECONDS, vendor: GA4_VENDOR },
  [WEBHOOK]: { maxAge: WEBHOOK_MAX_AGE_SECONDS, vendor: WEBHOOK_VENDOR },
};
/** How far back entries are looked at: the sender's limit, and an hour for deliveries in flight. */
const WINDOW: Record<ActionSender, number> = { [GA4_EVENT]: GA4_MAX_AGE_SECONDS + 3600, [WEBHOOK]: WEBHOOK_MAX_AGE_SECONDS + 3600 };

/** Why an action fired is not sent: GA4 off (GA4_* unset), or no GA client id reaches the deal. */
export const UNSENT_REASONS = ['ga4_off', 'no_client_id'] as const;
type UnsentReason = (typeof UNSENT_REASONS)[number];
/** Entries counted as unsent, remembered so a sweep does not count them again. */
const UNSENT_REMEMBERED = 100_000;

/** Deal ids per read of their histories. */
const DEALS_PER_READ = 1000;

/** Unix seconds of a `YYYY-MM-DD hh:mm:ss` UTC DateTime as read back; 0 for one that is not (18.16's zero date). */
function seconds(t: string): number {
  const s = Date.parse(`${t.replace(' ', 'T')}Z`) / 1000;
  return Number.isFinite(s) ? s : 0;
}

type Version = Received & { deal: DealRow };
const versionOf = (deal: DealRow): Version => ({ version: deal.version, stage: deal.stage, receivedAt: seconds(deal.received_at), deleted: deal.deleted === 1, deal });

export class ActionsPlanner {
  private readonly serial = new Serial();
  private readonly clock: ActionClock;
  private readonly unsent = new Set<string>();
  /** The configuration last checked for GA4 events while GA4 is off (warned once per configuration). */
  private checked: LoadedConfig | null = null;

  constructor(private readonly ctx: PartContext) {
    this.clock = new ActionClock(ctx.ch, ctx.config.crm.configPath);
    for (const reason of UNSENT_REASONS) ctx.metrics.outboundUnsent.inc({ sender: GA4_EVENT, reason }, 0);
    this.check(ctx.crm.config);
  }

  /** Plans these deals, after every plan before. */
  plan(keys: DealKey[]): Promise<void> {
    return this.serial.run(async () => {
      const config = this.ctx.crm.config;
      const actions = actionsOf(config.raw.stageActions);
      this.check(config);
      if (actions.length) await this.planKeys(keys, actions, await this.clock.since(config, actions));
    });
  }

  /** Plans every deal received within the actions' windows; returns how many it looked at. */
  sweep(): Promise<number> {
    return this.serial.run(async () => {
      const config = this.ctx.crm.config;
      const actions = actionsOf(config.raw.stageActions);
      this.check(config);
      if (!actions.length) return 0;
      const since = await this.clock.since(config, actions);
      const now = Math.floor(Date.now() / 1000);
      const from = Math.max(now - Math.max(...actions.map((a) => WINDOW[a.sender])), Math.min(...since.values()));
      // Every action has a time (since.ts); were none known, nothing could fire.
      if (!Number.isFinite(from)) return 0;
      const keys = await queryRows<{ source: string; deal_id: string }>(
        this.ctx.ch,
        `SELECT DISTINCT source, deal_id FROM deals WHERE received_at >= ${dateTime(toDateTimeString(from * 1000))} AND ${NOT_SAMPLE_DEAL}`,
      );
      await this.planKeys(keys.map((k) => ({ source: k.source, dealId: k.deal_id })), actions, since);
      return keys.length;
    });
  }

  /** Waits for the plan in progress. */
  close(): Promise<void> {
    return this.serial.idle();
  }

  /** The configuration check's warning: GA4 events configured while GA4 is off are never sent. */
  private check(config: LoadedConfig): void {
    if (this.checked === config) return;
    this.checked = config;
    if (this.ctx.config.ga4) return;
    const paths = config.raw.stageActions.flatMap((a, i) => (a.ga4Event ? [`stageActions.${i}.ga4Event`] : []));
    if (paths.length) {
      this.ctx.log.warn(
        { warning: 'ga4_off', paths },
        'CRM configuration: stage actions send GA4 events, but GA4 is off (GA4_MEASUREMENT_ID and GA4_API_SECRET unset): those events are not sent, and counted as unsent (ga4_off)',
      );
    }
  }

  private async planKeys(keys: DealKey[], actions: Action[], since: Map<string, number>): Promise<void> {
    const bySource = new Map<string, Set<string>>();
    for (const k of keys) bySource.set(k.source, (bySource.get(k.source) ?? new Set<string>()).add(k.dealId));
    for (const [source, set] of bySource) {
      const ids = [...set];
      for (let i = 0; i < ids.length; i += DEALS_PER_READ) {
        const histories = await dealHistories(this.ctx.ch, source, ids.slice(i, i + DEALS_PER_READ));
        await this.planDeals([...histories.values()], actions, since);
      }
    }
  }

  /** Plans the entries of these deals (each its versions, oldest first) and writes the messages in one insert. */
  private async planDeals(histories: DealRow[][], actions: Action[], since: Map<string, number>): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const subjects = histories.map((v) => subjectOf({ source: v[0]!.source, dealId: v[0]!.deal_id }));
    const known = new Map<string, Known[]>();
    for (const sender of new Set(actions.map((a) => a.sender))) {
      for (const [subject, list] of await this.ctx.outbox.ofSubjects(sender, subjects)) known.set(subject, [...(known.get(subject) ?? []), ...list]);
    }
    const fired: { subject: string; current: DealRow; firing: Firing<Version> }[] = [];
    histories.forEach((versions, i) => {
      const subject = subjects[i]!;
      const entries: Entry<Version>[] = entriesOf(versions.map(versionOf));
      for (const firing of firings(entries, actions, known.get(subject) ?? [], { now, since, window: WINDOW })) {
        fired.push({ subject, current: versions[versions.length - 1]!, firing });
      }
    });
    if (!fired.length) return;
    const ga4 = fired.filter((f) => f.firing.action.sender === GA4_EVENT);
    if (ga4.length && !this.ctx.config.ga4) for (const f of ga4) this.noteUnsent('ga4_off', f.subject, f.firing);
    // A GA4 event goes to the deal's own GA id, else to the one the identity graph ties it to (as the GA4 part's purchases).
    const asking = this.ctx.config.ga4 ? ga4.filter((f) => !f.current.ga_cid).map((f) => ({ subject: f.subject, visitorId: f.current.visitor_id })) : [];
    const graph = asking.length ? await graphClientIds(this.ctx.ch, asking, 'ga_cid') : new Map<string, string>();
    const messages: Message[] = [];
    for (const { subject, current, firing } of fired) {
      const { action, entry, step } = firing;
      const row = entry.row.deal;
      const eventAt = Math.min(now, changeTime(row));
      const id = messageId(action.sender, subject, step);
      let recipient: string;
      let body: string;
      let valueMinor = row.amount_minor;
      if (action.sender === GA4_EVENT) {
        if (!this.ctx.config.ga4) continue;
        recipient = current.ga_cid || graph.get(subject) || '';
        if (!recipient) {
          this.noteUnsent('no_client_id', subject, firing);
          continue;
        }
        valueMinor = Math.max(0, row.amount_minor);
        const e = action.event;
        body = stageEventBody({ clientId: recipient, eventAt, name: e.name, params: e.params, stage: action.stage, amountMinor: row.amount_minor, currency: row.currency });
      } else {
        recipient = action.webhook.url;
        body = webhookBody(id, eventAt, {
          source: row.source,
          id: row.deal_id,
          name: row.name,
          pipeline: row.pipeline_id,
          status: row.status_id,
          stage: row.stage,
          previousStage: entry.previousStage,
          outcome: row.outcome,
          amount: row.amount_minor / 100,
          currency: row.currency,
        });
      }
      const limit = LIMIT[action.sender];
      messages.push(newMessage({
        sender: action.sender,
        subject,
        step,
        basis: entry.first,
        event: action.sender === GA4_EVENT ? action.event.name : 'deal.stage_entered',
        reference: action.stage,
        recipient,
        valueMinor,
        currency: row.currency,
        body,
        eventAt,
      }, now, { maxAgeSeconds: limit.maxAge, vendor: limit.vendor }));
    }
    await this.ctx.outbox.write(messages);
    for (const m of messages) if (m.state === 'too_old') this.ctx.log.warn({ id: m.id, eventAt: toDateTimeString(m.eventAt * 1000) }, 'stage entry too old to send; not sent');
    if (messages.some((m) => m.state === 'pending')) this.ctx.wake();
  }

  /** Counts an action fired but not sent, once per entry and action (a sweep plans it again, and may find a GA id then). */
  private noteUnsent(reason: UnsentReason, subject: string, f: Firing<Version>): void {
    const key = JSON.stringify([reason, subject, f.action.key, f.entry.first]);
    if (this.unsent.has(key)) return;
    // Bounded: past it, an entry still unsent may be counted once more.
    if (this.unsent.size >= UNSENT_REMEMBERED) this.unsent.clear();
    this.unsent.add(key);
    this.ctx.metrics.outboundUnsent.inc({ sender: GA4_EVENT, reason });
    this.ctx.log.info({ deal: subject, stage: f.action.stage, event: f.action.sender === GA4_EVENT ? f.action.event.name : '', reason }, 'stage event not sent to GA4');
  }
}
