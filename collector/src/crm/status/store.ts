// What the CRM deliveries could not use, kept where every collector sees it:
// in Redis (under the installation's key prefix), capped, and answered by the
// admin GET /crm/status. Redis keeps it as long as it keeps its keys; the
// deals themselves are in ClickHouse, and this is a window onto the latest.
//   crm:deliveries          the last DELIVERIES_KEPT deliveries (JSON, newest first)
//   crm:unusable            source \t reason → records counted
//   crm:unmapped            source \t pipeline \t status → records seen (at most UNMAPPED_KEPT)
//   crm:unmapped:last       same field → when last seen (ISO)
//   crm:statuses            source \t pipeline \t status → records seen, mapped or not (at most STATUSES_KEPT):
//                           the setup page lists them for a source whose CRM cannot be asked (crm/setup)
//   crm:statuses:last       same field → when last seen (ISO)
// A failure of Redis costs the status page its news, never a delivery its answer.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Metrics } from '../../metrics/registry.js';
import type { DealChange, Refusal } from '../change.js';
import type { LoadedConfig } from '../config/schema.js';
import type { IngestResult } from '../deals/ingest.js';
import { mapStatus } from '../funnel/mapping.js';
import { idProblem } from '../text.js';
import { REFUSED, type Unusable } from './unusable.js';

export const DELIVERIES_KEPT = 100;
/** Records of each kind listed per delivery; the counts are complete. */
export const RECORDS_LISTED = 20;
export const UNMAPPED_KEPT = 1000;
export const STATUSES_KEPT = 1000;
/** The longest status or pipeline a mapping can name (the configuration schema's names): a longer one is not kept. */
const STATUS_MAX = 200;

const KEY = {
  deliveries: 'crm:deliveries',
  unusable: 'crm:unusable',
  unmapped: 'crm:unmapped',
  unmappedLast: 'crm:unmapped:last',
  statuses: 'crm:statuses',
  statusesLast: 'crm:statuses:last',
};

export type Delivery = {
  at: string;
  source: string;
  /** The door it came through: amocrm, zoho, import. */
  door: string;
  stored: number;
  repeated: number;
  filtered: number;
  ignored: number;
  refused_count: number;
  unusable_count: number;
  refused: Refusal[];
  unusable: Unusable[];
};

export type UnmappedStatus = { source: string; pipeline: string; status: string; seen: number; last_seen: string };
/** A status seen in deliveries, mapped or not: records counted and when last. */
export type SeenStatus = UnmappedStatus;

export type CrmStatusReport = {
  unusable: Record<string, Record<string, number>>;
  unmapped_statuses: UnmappedStatus[];
  config_warnings: string[];
  deliveries: Delivery[];
};

// Counts a status seen (ARGV[4] records), unless the hash is full and the status new to it.
const SEEN = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HLEN', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[4]))
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
end
return 0`;

const field = (...parts: string[]) => parts.join('\t');

/**
 * The statuses a delivery's deals carry, each with its records counted: only
 * those a mapping could name (a change that carries only an id has none; one
 * with a control character, or too long, was refused and can never be mapped).
 */
export function statusesOf(deals: Pick<DealChange, 'pipelineId' | 'statusId'>[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const d of deals) {
    if (idProblem(d.statusId, STATUS_MAX) !== null) continue;
    if (d.pipelineId !== '' && idProblem(d.pipelineId, STATUS_MAX) !== null) continue;
    const f = field(d.pipelineId, d.statusId);
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  return counts;
}

export class CrmStatus {
  constructor(
    private readonly redis: Redis,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /**
   * Counts a delivery's unusable and refused records in the metric, and keeps
   * the delivery for the status page, with the statuses its deals carried for
   * the setup page. Sent to Redis before the delivery is answered (one
   * connection keeps its order), waited for by nobody.
   */
  record(source: string, door: string, r: IngestResult, ignored: number, deals: Pick<DealChange, 'pipelineId' | 'statusId'>[] = []): void {
    const counts = new Map<string, number>();
    const count = (reason: string) => counts.set(reason, (counts.get(reason) ?? 0) + 1);
    r.unusable.forEach((u) => count(u.reason));
    r.refused.forEach(() => count(REFUSED));
    for (const [reason, n] of counts) this.metrics.crmUnusable.inc({ source, reason }, n);
    const now = new Date().toISOString();
    const delivery: Delivery = {
      at: now,
      source,
      door,
      stored: r.stored,
      repeated: r.repeated,
      filtered: r.filtered,
      ignored,
      refused_count: r.refused.length,
      unusable_count: r.unusable.length,
      refused: r.refused.slice(0, RECORDS_LISTED),
      unusable: r.unusable.slice(0, RECORDS_LISTED),
    };
    const tx = this.redis.multi().lpush(KEY.deliveries, JSON.stringify(delivery)).ltrim(KEY.deliveries, 0, DELIVERIES_KEPT - 1);
    for (const [reason, n] of counts) tx.hincrby(KEY.unusable, field(source, reason), n);
    for (const u of r.unusable) {
      if (u.reason !== 'unmapped_status' || u.status === undefined) continue;
      tx.eval(SEEN, 2, KEY.unmapped, KEY.unmappedLast, field(source, u.pipeline ?? '', u.status), now, UNMAPPED_KEPT, 1);
    }
    for (const [f, n] of statusesOf(deals)) tx.eval(SEEN, 2, KEY.statuses, KEY.statusesLast, field(source, f), now, STATUSES_KEPT, n);
    tx.exec().catch((err: unknown) => this.log.warn({ err: String(err) }, 'CRM delivery status not kept'));
  }

  async report(config: LoadedConfig): Promise<CrmStatusReport> {
    const [deliveries, unusable, unmapped] = await Promise.all([
      this.redis.lrange(KEY.deliveries, 0, DELIVERIES_KEPT - 1),
      this.redis.hgetall(KEY.unusable),
      this.unmapped(),
    ]);
    const bySource: Record<string, Record<string, number>> = {};
    for (const [f, n] of Object.entries(unusable)) {
      const [source = '', reason = ''] = f.split('\t');
      (bySource[source] ??= {})[reason] = Number(n);
    }
    return {
      unusable: bySource,
      unmapped_statuses: unmapped,
      config_warnings: unmappedWarnings(config, unmapped),
      deliveries: deliveries.map((d) => JSON.parse(d) as Delivery),
    };
  }

  /** Warnings of the configuration check: statuses seen in deliveries that `config` maps to no stage. */
  async configWarnings(config: LoadedConfig): Promise<string[]> {
    return unmappedWarnings(config, await this.unmapped());
  }

  /**
   * Every status seen in deliveries, mapped or not: those kept since statuses
   * were recorded, and the unmapped ones kept before (a status in both counts
   * its larger number).
   */
  async seenStatuses(): Promise<SeenStatus[]> {
    const [all, unmapped] = await Promise.all([this.counted(KEY.statuses, KEY.statusesLast), this.unmapped()]);
    const byField = new Map(all.map((s) => [field(s.source, s.pipeline, s.status), s]));
    for (const u of unmapped) {
      const f = field(u.source, u.pipeline, u.status);
      const known = byField.get(f);
      if (!known) byField.set(f, u);
      else byField.set(f, { ...known, seen: Math.max(known.seen, u.seen), last_seen: known.last_seen > u.last_seen ? known.last_seen : u.last_seen });
    }
    return [...byField.values()].sort(bySourcePipelineStatus);
  }

  private unmapped(): Promise<UnmappedStatus[]> {
    return this.counted(KEY.unmapped, KEY.unmappedLast);
  }

  /** The statuses of a hash kept by SEEN, with when each was last seen. */
  private async counted(key: string, lastKey: string): Promise<UnmappedStatus[]> {
    const [seen, last] = await Promise.all([this.redis.hgetall(key), this.redis.hgetall(lastKey)]);
    return Object.entries(seen)
      .map(([f, n]) => {
        const [source = '', pipeline = '', status = ''] = f.split('\t');
        return { source, pipeline, status, seen: Number(n), last_seen: last[f] ?? '' };
      })
      .sort(bySourcePipelineStatus);
  }
}

const bySourcePipelineStatus = (a: UnmappedStatus, b: UnmappedStatus) =>
  a.source.localeCompare(b.source) || a.pipeline.localeCompare(b.pipeline) || a.status.localeCompare(b.status);

/** The statuses seen unmapped that `config` still maps to no stage, as the configuration check words them. */
export function unmappedWarnings(config: LoadedConfig, seen: UnmappedStatus[]): string[] {
  return seen
    .filter((s) => {
      const source = config.raw.sources[s.source];
      return source !== undefined && mapStatus(config.funnel, source, s.pipeline, s.status, 'open').stage === null;
    })
    .map((s) => `sources.${s.source}.pipelines.${s.pipeline}: status ${JSON.stringify(s.status)} was seen in ${s.seen} delivered record${s.seen === 1 ? '' : 's'} and maps to no funnel stage`);
}
