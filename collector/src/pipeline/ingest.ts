// Everything the hit endpoints need, built once at start: the pipeline's
// dependencies, the durable buffer with its spill, the metrics, and a Redis
// connection tuned for the hot path (short timeouts, no offline queue, so a
// Redis outage answers at once and the steps fail open instead of waiting).
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { CountryCode } from 'libphonenumber-js';
import type { Logger } from 'pino';
import { Inserter } from '../buffer/inserter.js';
import { JournalBuffer } from '../buffer/journal-buffer.js';
import { connect, type ClickHouseClient } from '../clickhouse/client.js';
import type { Config, SpillRedis } from '../config.js';
import { VisitLimits } from '../limits/visit-limits.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import { ROOT } from '../paths.js';
import { clientIpResolver, type ClientIpResolver } from '../privacy/client-ip.js';
import { forwarded, type Forwarded } from '../http/forwarded.js';
import { DailySalt } from '../privacy/salt.js';
import { UrlRedactor } from '../privacy/url.js';
import { loadSites } from '../sites/registry.js';
import { Spill } from '../spill/spill.js';
import { BadRows, badRowsPath } from '../spill/bad-rows.js';
import { insertStream, type Tables } from '../spill/tables.js';
import type { PipelineDeps } from './context.js';

export type Ingest = {
  deps: PipelineDeps;
  buffer: JournalBuffer;
  metrics: Metrics;
  clientIp: ClientIpResolver;
  /** The host and scheme a request was sent to, as a trusted proxy says (first-party mode's cookies). */
  forwarded: Forwarded;
  redis: Redis;
  close(): Promise<void>;
};

export async function createIngest(config: Config, settings: Record<string, string | number>, log: Logger): Promise<Ingest> {
  const p = config.pipeline;
  const sites = loadSites(p.sites);
  const redis = new Redis(config.redis.url, {
    keyPrefix: config.redis.prefix,
    enableAutoPipelining: true,
    // The limits script is sent once per turn already; a pipeline around it only costs.
    autoPipeliningIgnoredCommands: ['tlVisitLimits'],
    enableOfflineQueue: false,
    commandTimeout: p.redisTimeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
  let warned = 0;
  const onRedisError = (err: Error) => {
    // One line per 10 s while Redis is down, not one per hit.
    if (Date.now() - warned > 10_000) {
      warned = Date.now();
      log.warn({ err: err.message }, 'redis (hit pipeline) unavailable; failing open');
    }
  };
  redis.on('error', onRedisError);
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    redis.once('ready', () => {
      clearTimeout(t);
      resolve();
    });
  });
  const metrics = createMetrics();
  const clickhouse = connect(config.clickhouse, config.clickhouse.database, settings);
  const { buffer } = durableBuffer({
    clickhouse,
    redis,
    dir: p.spoolDir ?? join(ROOT, '.spool', config.clickhouse.database),
    maxRows: config.batch.maxRows,
    maxBytes: p.batchMaxBytes,
    maxMs: config.batch.maxMs,
    fsync: p.journalFsync,
    insertTimeoutMs: p.insertTimeoutMs,
    spillRedis: p.spillRedis,
    log,
    metrics,
  });
  const salt = new DailySalt(redis);
  await salt.fetch(Math.floor(Date.now() / 86_400_000));
  const deps: PipelineDeps = {
    sites,
    salt,
    limits: new VisitLimits(redis, p.visitThrottleSeconds, p.rateLimitPerMinute, onRedisError),
    ipMode: p.ipMode,
    botFilter: p.botFilter,
    maxPastMs: p.hitMaxAgeDays * 86_400_000,
    identityKey: config.identity.key,
    phoneCountry: config.identity.defaultCountry as CountryCode,
    urlPrivacy: new UrlRedactor(p.urlRedactParams, config.identity.defaultCountry as CountryCode),
  };
  return {
    deps,
    buffer,
    metrics,
    clientIp: clientIpResolver(p.trustedProxies),
    forwarded: forwarded(p.trustedProxies),
    redis,
    async close() {
      await buffer.close();
      await clickhouse.close();
      redis.disconnect();
    },
  };
}

export type DurableBufferOptions = {
  clickhouse: ClickHouseClient;
  redis: Redis;
  /** The spool directory: journal segments, spooled batches, set-aside rows. */
  dir: string;
  maxRows: number;
  maxBytes: number;
  maxMs: number;
  fsync: boolean;
  insertTimeoutMs: number;
  spillRedis: SpillRedis;
  log: Logger;
  metrics: Metrics;
};

/**
 * The journal buffer, the inserter and the spill, wired together; the spill's
 * replay loop is started (it replays what an earlier run left in `dir`).
 */
export function durableBuffer(o: DurableBufferOptions): { buffer: JournalBuffer; spill: Spill } {
  const { clickhouse, metrics, log, dir } = o;
  const pid = process.pid;
  const start = Date.now();
  const inserter = new Inserter({
    insertStream: (stream, body) => insertStream(clickhouse, stream, body, o.insertTimeoutMs),
    badRows: new BadRows(badRowsPath(dir, pid, start)),
    metrics,
    log,
  });
  const insert = (tables: Tables) => inserter.insert(tables);
  const spill = new Spill({ dir, pid, start, redis: o.redis, redisMode: o.spillRedis, insert, log, metrics });
  const buffer = new JournalBuffer({
    dir,
    pid,
    start,
    maxRows: o.maxRows,
    maxBytes: o.maxBytes,
    maxMs: o.maxMs,
    fsync: o.fsync,
    insert,
    spill,
    log,
    metrics,
  });
  spill.start();
  return { buffer, spill };
}
