// CRM change → deal version + identity links. Every connector (amoCRM, Zoho,
// import) hands its normalised changes here:
//   filter → fields kept and calculated → status → stage (funnel rules) →
//   version → row in `deals` → links in `identity_links`.
// Changes of one deal are applied one at a time, so each reads the version
// written before it.
import type { Logger } from 'pino';
import type { CountryCode } from 'libphonenumber-js';
import type { ClickHouseClient } from '../../clickhouse/client.js';
import { toDateTimeString } from '../../clickhouse/sql.js';
import { hashEmail, hashPhone } from '../../identity/hash.js';
import type { ContactChange, DealChange } from '../change.js';
import type { LoadedConfig, SourceConfig } from '../config/schema.js';
import { calculate, failedFilter, identityIds, keptFields } from '../fields/select.js';
import { mapStatus } from '../funnel/mapping.js';
import { advance, type FunnelState, type Outcome } from '../funnel/progress.js';
import { insertDeals, insertLinks, latestDeal, type DealRow, type LinkRow } from './store.js';
import { dealVersion } from './version.js';

export type IngestResult = {
  deals: number;
  contacts: number;
  links: number;
  filtered: number;
  repeated: number;
  unknown: number;
  errors: string[];
};

export type IngestContext = {
  sourceId: string;
  source: SourceConfig;
  config: LoadedConfig;
  /** `crm`, `import`…: written into identity_links.evidence. */
  evidence: string;
  /** Fetches the deal's full state from the CRM, for changes that carry only an id. */
  fetchDeal?: (dealId: string) => Promise<DealChange | null>;
};

const secondsToDateTime = (s: number | null) => (s ? toDateTimeString(s * 1000) : '1970-01-01 00:00:00');
const clean = (s: string) => s.toWellFormed();
const uniq = (xs: string[]) => [...new Set(xs.filter(Boolean))];

export class DealIngest {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly log: Logger,
    private readonly identity: { key: string; defaultCountry: string },
  ) {}

  async apply(ctx: IngestContext, deals: DealChange[], contacts: ContactChange[]): Promise<IngestResult> {
    const result: IngestResult = { deals: 0, contacts: 0, links: 0, filtered: 0, repeated: 0, unknown: 0, errors: [] };
    for (const change of deals) {
      await this.serial(`${ctx.sourceId}:${change.dealId}`, () => this.applyDeal(ctx, change, result));
    }
    const links: LinkRow[] = [];
    for (const c of contacts) {
      const contact = `${ctx.sourceId}:${c.contactId}`;
      const now = toDateTimeString(Date.now());
      for (const h of this.emailHashes(c.emails)) links.push({ kind_a: 'contact', id_a: contact, kind_b: 'email', id_b: h, evidence: ctx.evidence, linked_at: now });
      for (const h of this.phoneHashes(c.phones)) links.push({ kind_a: 'contact', id_a: contact, kind_b: 'phone', id_b: h, evidence: ctx.evidence, linked_at: now });
      for (const d of c.dealIds) links.push({ kind_a: 'deal', id_a: `${ctx.sourceId}:${d}`, kind_b: 'contact', id_b: contact, evidence: ctx.evidence, linked_at: now });
      result.contacts += 1;
    }
    await insertLinks(this.ch, links);
    result.links += links.length;
    return result;
  }

  /** Runs `fn` after every earlier change of the same deal has been applied. */
  private async serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(key) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(fn);
    this.queues.set(key, run);
    try {
      return await run;
    } finally {
      if (this.queues.get(key) === run) this.queues.delete(key);
    }
  }

  private emailHashes(raw: string[]): string[] {
    return uniq(raw.map((e) => hashEmail(e, this.identity.key) ?? ''));
  }

  private phoneHashes(raw: string[]): string[] {
    return uniq(raw.map((p) => hashPhone(p, this.identity.key, this.identity.defaultCountry as CountryCode) ?? ''));
  }

  private async applyDeal(ctx: IngestContext, incoming: DealChange, result: IngestResult): Promise<void> {
    let change = incoming;
    if (!change.complete && ctx.fetchDeal) {
      const fetched = await ctx.fetchDeal(change.dealId);
      if (fetched) change = { ...fetched, action: change.action, deleted: change.action === 'delete' || fetched.deleted, changedAt: fetched.changedAt ?? change.changedAt };
    }
    if (!change.complete) return this.applyBare(ctx, change, result);

    const filtered = failedFilter(change, ctx.source.filters);
    if (filtered) {
      result.filtered += 1;
      this.log.debug({ source: ctx.sourceId, deal: change.dealId, filtered }, 'deal filtered out');
      return;
    }
    const receivedAt = Math.floor(Date.now() / 1000);
    const changedAt = change.changedAt ?? receivedAt;
    const version = dealVersion(change, changedAt);
    const prev = await latestDeal(this.ch, ctx.sourceId, change.dealId, version);
    const target = mapStatus(ctx.config.funnel, ctx.source, change.pipelineId, change.statusId, change.vendorOutcome);
    const state = advance(ctx.config.funnel, prev ? stateOf(prev) : null, target);
    const ids = identityIds(change, ctx.source.identityFields);
    const calc = calculate(change, ctx.config.formulas.get(ctx.sourceId) ?? [], ctx.source.calculated);
    result.errors.push(...calc.errors);
    const fields = [...keptFields(change, ctx.source.keepFields), ...calc.values];
    const row: DealRow = {
      source: ctx.sourceId,
      deal_id: change.dealId,
      version,
      changed_at: secondsToDateTime(changedAt),
      received_at: secondsToDateTime(receivedAt),
      created_at: change.createdAt ? secondsToDateTime(change.createdAt) : (prev?.created_at ?? secondsToDateTime(changedAt)),
      closed_at: secondsToDateTime(change.closedAt ?? (state.outcome === 'won' || state.outcome === 'lost' ? changedAt : null)),
      name: clean(change.name),
      pipeline_id: change.pipelineId,
      status_id: change.statusId,
      stage: state.stage,
      stage_index: state.stageIndex,
      outcome: state.outcome,
      stages_passed: state.stagesPassed,
      lost_from_stage: state.lostFromStage,
      amount_minor: change.amountMinor,
      currency: change.currency || ctx.source.currency,
      deleted: change.deleted ? 1 : 0,
      contact_ids: uniq(change.contactIds),
      visitor_id: ids.visitor_id,
      ga_cid: clean(ids.ga_cid),
      ym_uid: ids.ym_uid,
      utm_source: clean(ids.utm_source),
      utm_medium: clean(ids.utm_medium),
      utm_campaign: clean(ids.utm_campaign),
      utm_term: clean(ids.utm_term),
      utm_content: clean(ids.utm_content),
      email_hashes: this.emailHashes(ids.emails),
      phone_hashes: this.phoneHashes(ids.phones),
      field_names: fields.map((f) => clean(f.name)),
      field_values: fields.map((f) => clean(f.value)),
    };
    await insertDeals(this.ch, [row]);
    result.deals += 1;
    result.links += await this.linkDeal(ctx, row);
    await this.catchUp(ctx, row);
  }

  /**
   * A change delivered after a newer one is history, not the current state; but
   * the stages it passed are passed. When they are missing from the newest
   * version, a version just above it adds them (once: a repeated delivery finds
   * nothing missing).
   */
  private async catchUp(ctx: IngestContext, late: DealRow): Promise<void> {
    const newest = await latestDeal(this.ch, ctx.sourceId, late.deal_id);
    if (!newest || newest.version <= late.version) return;
    const missing = late.stages_passed.filter((s) => !newest.stages_passed.includes(s));
    if (!missing.length) return;
    const order = (name: string) => ctx.config.funnel.byName.get(name)?.index ?? Number.MAX_SAFE_INTEGER;
    const stages = [...newest.stages_passed, ...missing].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
    await insertDeals(this.ch, [{ ...newest, version: newest.version + 1, received_at: late.received_at, stages_passed: stages }]);
  }

  /**
   * A delete or restore that carries only the id, with no API to ask: the new
   * version repeats the last known fields with the deleted flag changed. A
   * delete of an already deleted deal (or a restore of a live one) is a repeated
   * delivery and changes nothing.
   */
  private async applyBare(ctx: IngestContext, change: DealChange, result: IngestResult): Promise<void> {
    const last = await latestDeal(this.ch, ctx.sourceId, change.dealId);
    const deleted = change.action === 'delete' ? 1 : 0;
    if (last && last.deleted === deleted) {
      result.repeated += 1;
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    if (!last) {
      if (change.action !== 'delete') {
        result.unknown += 1;
        return;
      }
    }
    const changedAt = Math.max(change.changedAt ?? now, last ? Math.floor(last.version / 2 ** 21) : 0);
    const version = dealVersion(change, changedAt);
    const base: DealRow = last ?? {
      ...EMPTY_ROW,
      source: ctx.sourceId,
      deal_id: change.dealId,
      currency: ctx.source.currency,
    };
    const row: DealRow = {
      ...base,
      version: last && version <= last.version ? last.version + 1 : version,
      changed_at: secondsToDateTime(changedAt),
      received_at: secondsToDateTime(now),
      deleted,
    };
    await insertDeals(this.ch, [row]);
    result.deals += 1;
  }

  private async linkDeal(ctx: IngestContext, row: DealRow): Promise<number> {
    const deal = `${ctx.sourceId}:${row.deal_id}`;
    const at = row.received_at;
    const links: LinkRow[] = [];
    const add = (kind: LinkRow['kind_b'], id: string) => {
      if (id) links.push({ kind_a: 'deal', id_a: deal, kind_b: kind, id_b: id, evidence: ctx.evidence, linked_at: at });
    };
    add('visitor', row.visitor_id);
    add('ga', row.ga_cid);
    add('ym', row.ym_uid);
    row.email_hashes.forEach((h) => add('email', h));
    row.phone_hashes.forEach((h) => add('phone', h));
    row.contact_ids.forEach((c) => add('contact', `${ctx.sourceId}:${c}`));
    await insertLinks(this.ch, links);
    return links.length;
  }
}

function stateOf(row: DealRow): FunnelState {
  return {
    stage: row.stage,
    stageIndex: row.stage_index,
    outcome: row.outcome as Outcome,
    stagesPassed: row.stages_passed,
    lostFromStage: row.lost_from_stage,
  };
}

const EMPTY_ROW: DealRow = {
  source: '',
  deal_id: '',
  version: 0,
  changed_at: '1970-01-01 00:00:00',
  received_at: '1970-01-01 00:00:00',
  created_at: '1970-01-01 00:00:00',
  closed_at: '1970-01-01 00:00:00',
  name: '',
  pipeline_id: '',
  status_id: '',
  stage: '',
  stage_index: -1,
  outcome: 'open',
  stages_passed: [],
  lost_from_stage: '',
  amount_minor: 0,
  currency: '',
  deleted: 0,
  contact_ids: [],
  visitor_id: '',
  ga_cid: '',
  ym_uid: '',
  utm_source: '',
  utm_medium: '',
  utm_campaign: '',
  utm_term: '',
  utm_content: '',
  email_hashes: [],
  phone_hashes: [],
  field_names: [],
  field_values: [],
};
