// The long-lived things a running collector holds, created once at start-up and
// handed to the routes. Tests build the same object against their own database.
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { BatchWriter } from './buffer/batch-writer.js';
import { connect, portableSettings, type ClickHouseClient } from './clickhouse/client.js';
import { migrate } from './clickhouse/migrate.js';
import { installViews } from './attribution/views.js';
import type { Config } from './config.js';
import { Crm } from './crm/service.js';
import type { HitRow } from './hits/row.js';

export type Services = {
  config: Config;
  log: Logger;
  clickhouse: ClickHouseClient;
  redis: Redis;
  hits: BatchWriter<HitRow>;
  crm: Crm;
  close(): Promise<void>;
};

export async function startServices(config: Config, log: Logger = pino({ level: config.logLevel })): Promise<Services> {
  const admin = connect(config.clickhouse, null);
  try {
    const applied = await migrate(admin, config.clickhouse.database);
    if (applied.length) log.info({ applied }, 'migrations applied');
    await installViews(admin, config.clickhouse.database, config.reports.windowDays);
  } finally {
    await admin.close();
  }
  const probe = connect(config.clickhouse);
  const settings = await portableSettings(probe);
  await probe.close();
  const clickhouse = connect(config.clickhouse, config.clickhouse.database, settings);
  const redis = new Redis(config.redis.url, {
    keyPrefix: config.redis.prefix,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
  redis.on('error', (err: Error) => log.warn({ err: err.message }, 'redis error'));
  const hits = new BatchWriter<HitRow>(clickhouse, {
    table: 'hits',
    maxRows: config.batch.maxRows,
    maxMs: config.batch.maxMs,
    onError: (err, rows) => log.error({ err: String(err), rows }, 'insert into hits failed; will retry'),
  });
  const crm = new Crm(clickhouse, log, { ...config.crm, identity: config.identity });
  await crm.start();
  return {
    config,
    log,
    clickhouse,
    redis,
    hits,
    crm,
    async close() {
      crm.close();
      await hits.close();
      await clickhouse.close();
      redis.disconnect();
    },
  };
}
