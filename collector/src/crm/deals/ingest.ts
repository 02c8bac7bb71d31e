// CRM change → deal version + identity links. Every connector (amoCRM, Zoho,
// import) hands its normalised changes here:
//   filter → fields kept and calculated → status → stage (funnel rules) →
//   version → row in `deals` → links in `identity_links`.
// Deliveries of one source are applied one at a time, and the changes of a
// delivery in order, so each change reads the versions written before it.
import type { Logger } from 'pino';
import type { CountryCode } from 'libphonenumber-js';
import type { ClickHouseClient } from '../../clickhouse/client.js';
import { toDateTimeString } from '../../clickhouse/sql.js';
import { hashEmail, hashPhone } from '../../identity/hash.js';
import type { ContactChange, DealChange, Refusal } from '../change.js';
import type { LoadedConfig, SourceConfig } from '../config/schema.js';
import { calculate, failedFilter, identityIds, keptFields } from '../fields/select.js';
import { mapStatus } from '../funnel/mapping.js';
import { advance, type FunnelState, type Outcome } from '../funnel/progress.js';
import { checkContact, checkDeal, recordName, type Checked } from './check.js';
import { dealHistories, insertDeals, insertLinks, type DealRow, type LinkRow } from './store.js';
import { below, dealVersion, place, versionSeconds } from './version.js';
import { unusableOf, type Unusable } from '../status/unusable.js';

export type IngestResult = {
  /** Records of the delivery that were stored: deal changes and contacts. */
  stored: number;
  deals: number;
  contacts: number;
  links: number;
  filtered: number;
  repeated: number;
  unknown: number;
  errors: string[];
  /** Records not used, each with its reason: the rest of the delivery is stored all the same. */
  refused: Refusal[];
  /** Records stored without a broken part of them, each with what was dropped. */
  warnings: Refusal[];
  /** Records stored but not usable in full: a status mapped to no stage, an invalid visitor id or malformed id, no id at all (status/unusable.ts). */
  unusable: Unusable[];
};

/** The answer to a delivery before anything of it is applied; `refused` are the records its connector could not read. */
export function emptyResult(refused: Refusal[] = []): IngestResult {
  return { stored: 0, deals: 0, contacts: 0, links: 0, filtered: 0, repeated: 0, unknown: 0, errors: [], refused: [...refused], warnings: [], unusable: [] };
}

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

/** A deal a delivery wrote a version of. */
export type StoredDeal = { source: string; dealId: string };

export class DealIngest {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ch: ClickHouseClient,
    private readonly log: Logger,
    private readonly identity: { key: string; defaultCountry: string },
    /** Called once a delivery's rows are stored, with the deals it wrote versions of (the collector resolves again and plans outbound messages). */
    private readonly afterStore?: (deals: StoredDeal[]) => void,
  ) {}

  /**
   * Applies one delivery: the deals' histories are read in one query, every new
   * version is computed in memory (in delivery order, each reading the versions
   * before it), then the rows go to ClickHouse in one insert per table.
   */
  apply(ctx: IngestContext, deals: DealChange[], contacts: ContactChange[], refused: Refusal[] = []): Promise<IngestResult> {
    return this.serial(ctx.sourceId, async () => {
      const result = emptyResult(refused);
      const now = Math.floor(Date.now() / 1000);
      const changes: DealChange[] = [];
      for (const given of deals) {
        // Checked as given (its id goes into an API URL and into SQL), and again as read back from the CRM.
        const change = accepted(checkDeal(given, now), recordName(given.dealId, given.at), result);
        if (!change) continue;
        const read = await this.completed(ctx, change);
        const full = read === change ? change : accepted(checkDeal(read, now), recordName(read.dealId, change.at), result);
        if (full) changes.push(full);
      }
      const history = await dealHistories(this.ch, ctx.sourceId, uniq(changes.map((c) => c.dealId)));
      const rows: DealRow[] = [];
      const links: LinkRow[] = [];
      for (const change of changes) {
        const list = history.get(change.dealId) ?? [];
        history.set(change.dealId, list);
        const written = this.versionsOf(ctx, change, list, now, result);
        const row = written[0];
        if (!row) continue;
        if (change.complete) result.unusable.push(...unusableOf(recordName(change.dealId, change.at), change, ctx.source, row));
        for (const r of written) {
          remember(list, r);
          rows.push(r);
        }
        links.push(...this.dealLinks(ctx, row));
        const caughtUp = catchUp(ctx, list, row);
        if (caughtUp) {
          remember(list, caughtUp);
          rows.push(caughtUp);
        }
        result.deals += 1;
      }
      const linkedAt = toDateTimeString(now * 1000);
      for (const given of contacts) {
        const c = accepted(checkContact(given), recordName(given.contactId, given.at), result);
        if (!c) continue;
        const contact = `${ctx.sourceId}:${c.contactId}`;
        const link = (kind_a: LinkRow['kind_a'], id_a: string, kind_b: LinkRow['kind_b'], id_b: string) =>
          links.push({ kind_a, id_a, kind_b, id_b, evidence: ctx.evidence, linked_at: linkedAt });
        for (const h of this.emailHashes(c.emails)) link('contact', contact, 'email', h);
        for (const h of this.phoneHashes(c.phones)) link('contact', contact, 'phone', h);
        for (const d of c.dealIds) link('deal', `${ctx.sourceId}:${d}`, 'contact', contact);
        result.contacts += 1;
      }
      await insertDeals(this.ch, rows);
      await insertLinks(this.ch, links);
      result.links = links.length;
      result.stored = result.deals + result.contacts;
      if (rows.length || links.length) this.afterStore?.(uniq(rows.map((r) => r.deal_id)).map((dealId) => ({ source: ctx.sourceId, dealId })));
      return result;
    });
  }

  /** Runs `fn` after every earlier delivery of the same source has been applied. */
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

  /** A change that carries only an id, completed through the CRM's API when the source has one. */
  private async completed(ctx: IngestContext, change: DealChange): Promise<DealChange> {
    if (change.complete || !ctx.fetchDeal) return change;
    const fetched = await ctx.fetchDeal(change.dealId);
    if (!fetched) return change;
    return { ...fetched, at: change.at, action: change.action, deleted: change.action === 'delete' || fetched.deleted, changedAt: fetched.changedAt ?? change.changedAt };
  }

  /**
   * The rows a change writes: its own version where the CRM's order puts it
   * (version.ts), and, when a late restore undoes a delete, the newest state
   * live again on top. None for a repeat, a filtered change or a restore of a
   * deal never seen.
   */
  private versionsOf(ctx: IngestContext, change: DealChange, list: DealRow[], now: number, result: IngestResult): DealRow[] {
    if (change.complete) {
      const filtered = failedFilter(change, ctx.source.filters);
      if (filtered) {
        result.filtered += 1;
        this.log.debug({ source: ctx.sourceId, deal: change.dealId, filtered }, 'deal filtered out');
        return [];
      }
    }
    // A delete or restore the CRM does not date is placed by what is known; a full record without a time, by its arrival.
    const undated = change.changedAt === null && (!change.complete || change.action === 'delete' || change.action === 'restore');
    const placement = place(list, change, undated ? null : dealVersion(change, change.changedAt ?? now));
    if (placement.kind === 'repeated') {
      result.repeated += 1;
      return [];
    }
    if (placement.kind === 'unknown') {
      result.unknown += 1;
      return [];
    }
    const stored = (version: number) => list.find((r) => r.version === version)!;
    // A change that carries only the id repeats the fields known just before its place.
    const copied = placement.fields === 'own' ? below(list, placement.version) : placement.fields === null ? null : stored(placement.fields);
    const row: DealRow = change.complete
      ? this.rowOf(ctx, change, placement.version, below(list, placement.version), now, result)
      : {
          ...(copied ?? { ...EMPTY_ROW, source: ctx.sourceId, deal_id: change.dealId, currency: ctx.source.currency }),
          version: placement.version,
          changed_at: secondsToDateTime(versionSeconds(placement.version)),
          received_at: secondsToDateTime(now),
        };
    row.deleted = placement.deleted;
    if (!placement.then) return [row];
    const top = stored(placement.then.fields);
    return [row, { ...top, version: placement.then.version, deleted: placement.then.deleted, received_at: row.received_at }];
  }

  /** A change's own version: its funnel state follows from the version just before it in the CRM's order. */
  private rowOf(ctx: IngestContext, change: DealChange, version: number, prev: DealRow | null, now: number, result: IngestResult): DealRow {
    const changedAt = versionSeconds(version);
    const target = mapStatus(ctx.config.funnel, ctx.source, change.pipelineId, change.statusId, change.vendorOutcome);
    // The stage the CRM says the deal left: where it was lost from when Throughline never saw it in a stage.
    const cameFrom = change.previousStatusId
      ? mapStatus(ctx.config.funnel, ctx.source, change.previousPipelineId || change.pipelineId, change.previousStatusId, 'open').stage
      : null;
    const state = advance(ctx.config.funnel, prev ? stateOf(prev) : null, target, cameFrom);
    const ids = identityIds(change, ctx.source.identityFields);
    const calc = calculate(change, ctx.config.formulas.get(ctx.sourceId) ?? [], ctx.source.calculated);
    result.errors.push(...calc.errors);
    const fields = [...keptFields(change, ctx.source.keepFields), ...calc.values];
    return {
      source: ctx.sourceId,
      deal_id: change.dealId,
      version,
      changed_at: secondsToDateTime(changedAt),
      received_at: secondsToDateTime(now),
      created_at: change.createdAt ? secondsToDateTime(change.createdAt) : (prev?.created_at ?? secondsToDateTime(changedAt)),
      closed_at: closedAt(state.outcome, change.closedAt, prev, changedAt),
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
  }

  private dealLinks(ctx: IngestContext, row: DealRow): LinkRow[] {
    const deal = `${ctx.sourceId}:${row.deal_id}`;
    const links: LinkRow[] = [];
    const add = (kind: LinkRow['kind_b'], id: string) => {
      if (id) links.push({ kind_a: 'deal', id_a: deal, kind_b: kind, id_b: id, evidence: ctx.evidence, linked_at: row.received_at });
    };
    add('visitor', row.visitor_id);
    add('ga', row.ga_cid);
    add('ym', row.ym_uid);
    row.email_hashes.forEach((h) => add('email', h));
    row.phone_hashes.forEach((h) => add('phone', h));
    row.contact_ids.forEach((c) => add('contact', `${ctx.sourceId}:${c}`));
    return links;
  }
}

/** The checked record, its warnings noted; or null, its refusal noted. */
function accepted<T>(checked: Checked<T>, record: string, result: IngestResult): T | null {
  if ('reason' in checked) {
    result.refused.push({ record, reason: checked.reason });
    return null;
  }
  for (const reason of checked.warnings) result.warnings.push({ record, reason });
  return checked.ok;
}

const EPOCH = '1970-01-01 00:00:00';
/** A zero DateTime as read back: 18.16 gives 0000-00-00 00:00:00, current ClickHouse 1970-01-01 00:00:00. */
const isZeroTime = (t: string) => t === EPOCH || t.startsWith('0000-00-00');

/**
 * The moment a deal was won or lost: the CRM's own closing time when it gives
 * one, else the time of the change that moved it to that outcome, kept through
 * the edits that follow while the outcome stays.
 */
function closedAt(outcome: Outcome, given: number | null, prev: DealRow | null, changedAt: number): string {
  if (outcome !== 'won' && outcome !== 'lost') return EPOCH;
  if (given) return secondsToDateTime(given);
  if (prev && prev.outcome === outcome && !isZeroTime(prev.closed_at)) return prev.closed_at;
  return secondsToDateTime(changedAt);
}

/** Puts a row into a deal's history, kept sorted by version (a row of the same version replaces it). */
function remember(list: DealRow[], row: DealRow): void {
  const at = list.findIndex((r) => r.version >= row.version);
  if (at === -1) list.push(row);
  else list.splice(at, list[at]!.version === row.version ? 1 : 0, row);
}

/**
 * A change delivered after a newer one is history, not the current state; but
 * the stages it passed are passed. When they are missing from the newest
 * version, a version just above it adds them (once: a repeated delivery finds
 * nothing missing).
 */
function catchUp(ctx: IngestContext, list: DealRow[], late: DealRow): DealRow | null {
  const newest = list[list.length - 1];
  if (!newest || newest.version <= late.version) return null;
  const missing = late.stages_passed.filter((s) => !newest.stages_passed.includes(s));
  if (!missing.length) return null;
  const order = (name: string) => ctx.config.funnel.byName.get(name)?.index ?? Number.MAX_SAFE_INTEGER;
  const stages = [...newest.stages_passed, ...missing].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  return { ...newest, version: newest.version + 1, received_at: late.received_at, stages_passed: stages };
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
