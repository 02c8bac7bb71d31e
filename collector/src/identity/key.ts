// The installation's IDENTITY_KEY when none is configured. No installation runs
// on a published key: a random one is made once and kept in ClickHouse
// ({db}.identity_key), which survives restarts of every process and of Redis
// and is where every collector of the installation already looks. ClickHouse
// cannot refuse a second writer, so the first key is agreed in Redis (SET NX:
// the first collector to get there wins) and then written to ClickHouse; once
// a row is there, it is the key and Redis is not asked again. Should Redis be
// down while two collectors of a new installation start at the same moment,
// each writes its own candidate and both read back the earliest row.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClickHouseClient } from '../clickhouse/client.js';
import { toDateTimeString } from '../clickhouse/sql.js';
import type { Config } from '../config.js';

/** The installation's generated key in `db` (the earliest row: every collector settles on it), or null. */
export async function storedIdentityKey(clickhouse: ClickHouseClient, db: string): Promise<string | null> {
  const rs = await clickhouse.query({ query: `SELECT key FROM ${db}.identity_key ORDER BY created_at, key LIMIT 1`, format: 'JSONEachRow' });
  const rows = await rs.json<{ key: string }>();
  return rows[0]?.key || null;
}

/** The first candidate any collector offered in Redis, or `candidate` when Redis cannot say. */
async function agreed(config: Config, candidate: string, log: Logger): Promise<string> {
  const redis = new Redis(config.redis.url, { keyPrefix: config.redis.prefix, lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const key = `identity-key:${config.clickhouse.database}`;
    await redis.set(key, candidate, 'NX');
    return (await redis.get(key)) ?? candidate;
  } catch (err) {
    log.warn({ err: String(err) }, 'redis unavailable while choosing the identity key; the earliest key written to ClickHouse wins');
    return candidate;
  } finally {
    redis.disconnect();
  }
}

/**
 * The HMAC key of contact hashes: IDENTITY_KEY when set, else the
 * installation's generated key, made on the first start. `clickhouse` may be
 * connected to any database (the table is named in full).
 */
export async function identityKey(clickhouse: ClickHouseClient, config: Config, log: Logger): Promise<string> {
  if (config.identity.key !== '') return config.identity.key;
  const db = config.clickhouse.database;
  const table = `${db}.identity_key`;
  const known = await storedIdentityKey(clickhouse, db);
  if (known) return known;
  const key = await agreed(config, randomBytes(32).toString('hex'), log);
  await clickhouse.insert({ table, values: [{ key, created_at: toDateTimeString(Date.now()) }], format: 'JSONEachRow' });
  const chosen = (await storedIdentityKey(clickhouse, db))!;
  log.info('identity key generated and kept in ClickHouse (identity_key); set IDENTITY_KEY to choose one');
  return chosen;
}
