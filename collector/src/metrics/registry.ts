// Prometheus metrics of the collector (prom-client), served at GET /metrics.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { DROP_REASONS, FIELD_DROP_PAIRS } from '../pipeline/reasons.js';

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * How a request to the SQL endpoint ended: answered; refused (by the guard, a
 * setting, the request's form); without the token; past the bound on queries at
 * once; refused or failed by the engine; or the engine not reached.
 */
export const SQL_OUTCOMES = ['ok', 'refused', 'unauthorized', 'busy', 'engine_error', 'failed'] as const;
export type SqlOutcome = (typeof SQL_OUTCOMES)[number];

/**
 * What became of an outbound message (outbound/): written to the outbox; sent
 * (the vendor answered 2xx); retried (a 5xx, a network error or a timeout: tried
 * again later); failed (the vendor refused it, 4xx: not tried again); too_old
 * (past the vendor's time limit, GA4's 72 hours: not sent).
 */
export const OUTBOUND_OUTCOMES = ['queued', 'sent', 'retried', 'failed', 'too_old'] as const;
export type OutboundOutcome = (typeof OUTBOUND_OUTCOMES)[number];

/** Where spilled batches wait: the spool directory, or Redis's list. */
export const SPILL_PLACES = ['disk', 'redis'] as const;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'throughline_' });
  // Accepted hits are counted in plain numbers and handed to prom-client when
  // /metrics is read: its inc() hashes the labels into a new string on every
  // call, a cost every accepted hit would pay.
  const acceptedSince: Record<string, number> = {};
  const accepted = new Counter({
    name: 'throughline_hits_accepted_total',
    help: 'Hits acknowledged (durable in the journal), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      for (const [kind, n] of Object.entries(acceptedSince)) {
        if (n === 0) continue;
        this.inc({ kind }, n);
        acceptedSince[kind] = 0;
      }
    },
  });
  const dropped = new Counter({
    name: 'throughline_hits_dropped_total',
    help: 'Hits refused or dropped, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Every reason is present from the start (at 0), so dashboards see the full set.
  for (const reason of DROP_REASONS) dropped.inc({ reason }, 0);
  const fieldsDropped = new Counter({
    name: 'throughline_fields_dropped_total',
    help: 'Fields removed from stored hits (a malformed id, a prop not kept), by field and reason',
    labelNames: ['field', 'reason'] as const,
    registers: [registry],
  });
  for (const { field, reason } of FIELD_DROP_PAIRS) fieldsDropped.inc({ field, reason }, 0);
  const inserted = new Counter({ name: 'throughline_rows_inserted_total', help: 'Rows inserted into ClickHouse, by table', labelNames: ['table'] as const, registers: [registry] });
  const insertFailures = new Counter({ name: 'throughline_insert_failures_total', help: 'Failed ClickHouse inserts', registers: [registry] });
  const spilled = new Counter({ name: 'throughline_batches_spilled_total', help: 'Batches moved to the spill, by where', labelNames: ['to'] as const, registers: [registry] });
  const replayed = new Counter({ name: 'throughline_batches_replayed_total', help: 'Spilled batches replayed into ClickHouse, by from', labelNames: ['from'] as const, registers: [registry] });
  const rejected = new Counter({
    name: 'throughline_rows_rejected_total',
    help: 'Rows ClickHouse refused for their data, set aside in bad-rows-*.jsonl, by table',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const crmUnusable = new Counter({
    name: 'throughline_crm_records_unusable_total',
    help: 'CRM records not used (refused) or stored without what attribution needs (a status mapped to no stage, a visitor id that is none even as typed, a malformed id, no id at all), by source and reason',
    labelNames: ['source', 'reason'] as const,
    registers: [registry],
  });
  const sqlQueries = new Counter({
    name: 'throughline_sql_queries_total',
    help: 'Requests to the SQL endpoint (/sql), by outcome: ok, refused, unauthorized, busy, engine_error, failed',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of SQL_OUTCOMES) sqlQueries.inc({ outcome }, 0);
  const outbound = new Counter({
    name: 'throughline_outbound_messages_total',
    help: 'Messages of the outbox, by sender and outcome: queued, sent, retried, failed (4xx, not tried again), too_old (past the vendor time limit, not sent)',
    labelNames: ['sender', 'outcome'] as const,
    registers: [registry],
  });
  const outboundUnsent = new Counter({
    name: 'throughline_outbound_changes_unsent_total',
    help: 'Deal changes a sender had to report but could make no message of, by sender and reason (no_client_id: no GA client id on the deal nor its visitors); once per deal version',
    labelNames: ['sender', 'reason'] as const,
    registers: [registry],
  });
  const outboundPending = new Gauge({
    name: 'throughline_outbound_pending',
    help: 'Messages of the outbox waiting to be sent, by sender (as of the last look of the outbox worker)',
    labelNames: ['sender'] as const,
    registers: [registry],
  });
  const buffered = new Gauge({ name: 'throughline_rows_buffered', help: 'Rows acknowledged and not yet in ClickHouse or the spill', registers: [registry] });
  // Set by the health probe (health/probe.ts) every few seconds and by each /readyz and /healthz.
  const clickhouseUp = new Gauge({ name: 'throughline_clickhouse_up', help: 'ClickHouse answered the last health check (1) or not (0)', registers: [registry] });
  const redisUp = new Gauge({ name: 'throughline_redis_up', help: 'Redis answered the last health check (1) or not (0)', registers: [registry] });
  const spillBacklogBatches = new Gauge({
    name: 'throughline_spill_backlog_batches',
    help: 'Spilled batches waiting for a replay, by where: disk (spool files this collector replays), redis (the shared list, alike on every collector sharing the Redis; its last known length while Redis is down)',
    labelNames: ['where'] as const,
    registers: [registry],
  });
  const spillBacklogBytes = new Gauge({
    name: 'throughline_spill_backlog_bytes',
    help: 'Bytes of the spool files waiting for a replay on this collector (where="disk")',
    labelNames: ['where'] as const,
    registers: [registry],
  });
  // Present from the start at 0: an empty backlog is a value, not a missing series.
  for (const where of SPILL_PLACES) spillBacklogBatches.set({ where }, 0);
  spillBacklogBytes.set({ where: 'disk' }, 0);
  const byKind = new Map<string, { inc(): void }>();
  const acceptedOf = (kind: string) => {
    let c = byKind.get(kind);
    if (!c) {
      acceptedSince[kind] = 0;
      byKind.set(kind, (c = { inc: () => void (acceptedSince[kind]! += 1) }));
    }
    return c;
  };
  const resolutions = new Counter({
    name: 'throughline_identity_resolutions_total',
    help: 'Identity resolutions made, by kind (full, incremental) and, for a full one, why: no_generation, generation_age (ATTRIBUTION_FULL_HOURS), late_rows, deleted_rows, too_wide',
    labelNames: ['kind', 'why'] as const,
    registers: [registry],
  });
  const resolutionSeconds = new Gauge({
    name: 'throughline_identity_resolution_seconds',
    help: 'How long the last identity resolution of each kind took',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  return { registry, resolutions, resolutionSeconds, accepted, acceptedOf, dropped, fieldsDropped, inserted, insertFailures, spilled, replayed, rejected, buffered, clickhouseUp, redisUp, spillBacklogBatches, spillBacklogBytes, crmUnusable, sqlQueries, outbound, outboundUnsent, outboundPending };
}
