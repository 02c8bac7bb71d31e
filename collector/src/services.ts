// The long-lived things a running collector holds, created once at start-up and
// handed to the routes. Tests build the same object against their own database.
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import type { JournalBuffer } from './buffer/journal-buffer.js';
import { connect, portableSettings, type ClickHouseClient } from './clickhouse/client.js';
import { migrate } from './clickhouse/migrate.js';
import { Resolver } from './attribution/resolver.js';
import { installViews } from './attribution/views.js';
import type { Config } from './config.js';
import type { StoredDeal } from './crm/deals/ingest.js';
import { Crm } from './crm/service.js';
import { identityKey } from './identity/key.js';
import { startOutbound, type Outbound } from './outbound/module.js';
import { createIngest, type Ingest } from './pipeline/ingest.js';
import { expireLegacyIds } from './visitor-id/issue.js';

export type Services = {
  config: Config;
  log: Logger;
  clickhouse: ClickHouseClient;
  redis: Redis;
  /** The durable buffer of hits (and the identity links leads bring). */
  hits: JournalBuffer;
  ingest: Ingest;
  crm: Crm;
  /** The identity resolutions behind the reports, refreshed in the background. */
  resolver: Resolver;
  /** The outbox and its senders (GA4): deal outcomes sent back to ad systems. */
  outbound: Outbound;
  close(): Promise<void>;
};

export async function startServices(config: Config, log: Logger = pino({ level: config.logLevel })): Promise<Services> {
  const admin = connect(config.clickhouse, null);
  try {
    const applied = await migrate(admin, config.clickhouse.database, undefined, { cluster: config.clickhouse.cluster ?? '' });
    if (applied.length) log.info({ applied }, 'migrations applied');
    await installViews(admin, config.clickhouse.database, config.reports.windowDays, config.money);
    config.identity.key = await identityKey(admin, config, log);
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
  // Visitor ids claimed before ids expired get an expiry; in the background, as the collector serves.
  expireLegacyIds(redis).then(
    (given) => given && log.info({ given }, 'visitor ids of earlier versions now expire when unused'),
    (err: unknown) => log.warn({ err: String(err) }, 'visitor ids of earlier versions not given an expiry; tried again at the next start'),
  );
  const ingest = await createIngest(config, settings, log);
  const hits = ingest.buffer;
  const resolver = new Resolver(clickhouse, config.clickhouse.database, {
    maxAgeSeconds: config.reports.maxAgeSeconds,
    fullEveryHours: config.reports.fullEveryHours,
    cluster: config.clickhouse.cluster ?? '',
    onRun: (run, why) => {
      ingest.metrics.resolutions.inc({ kind: run.kind, why: why ?? '' });
      const steps = run.steps ? run.steps.read + run.steps.merge + run.steps.write + run.steps.join : 0;
      ingest.metrics.resolutionSeconds.set({ kind: run.kind }, steps / 1000);
    },
    onError: (err) => log.error({ err: String(err) }, 'identity resolution failed; reports use the previous one'),
  });
  // Deals and links a CRM delivery stored change who is who: resolve again now, so the next report is current;
  // and the deals' outcomes may be news for the ad systems (planned in the background, never delaying the CRM's answer).
  let outbound: Outbound | undefined;
  const afterStore = (deals: StoredDeal[]) => {
    resolver.request();
    outbound?.dealsChanged(deals);
  };
  const crm = new Crm(clickhouse, log, { ...config.crm, identity: config.identity, afterStore });
  await crm.start();
  outbound = startOutbound({ config, clickhouse, settings, log, metrics: ingest.metrics, crm });
  return {
    config,
    log,
    clickhouse,
    redis,
    hits,
    ingest,
    crm,
    resolver,
    outbound,
    async close() {
      crm.close();
      await outbound.close();
      await resolver.close();
      await ingest.close();
      await clickhouse.close();
      redis.disconnect();
    },
  };
}
