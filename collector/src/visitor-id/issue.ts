// Issuing visitor ids, unique across the installation: a random id is claimed in
// Redis with SET NX (only the first claim of an id succeeds), retried with a new
// random id on a collision. With n ids issued, a draw collides with probability
// n / 887,503,681 (a million issued: about 1 in 890), so a handful of attempts
// virtually always succeeds; when they all collide the caller answers 503.
//
// A claim lives as long as the tracker's cookie could still hold the id: the
// cookie lives 400 days and is renewed on every page, and every hit that carries
// the id renews its key (limits/visit-limits.ts). An id unused for longer is
// freed, and may be issued again.
import type { Redis } from 'ioredis';
import { VISITOR_ID_DAYS } from '../../../contract/ids.js';
import { randomVisitorId } from './id.js';

export const MAX_ATTEMPTS = 8;

/**
 * The tracker's tl_vid cookie lifetime (tracker/src/index.ts), and a day more:
 * the cookie is renewed on pages whose visit is throttled and sends no hit.
 */
export const VISITOR_ID_TTL_SECONDS = (VISITOR_ID_DAYS + 1) * 86_400;

/** Redis key of an issued id (under the installation's key prefix). */
export const idKey = (id: string) => `vid:${id}`;

export class IdSpaceExhausted extends Error {}

export async function issueVisitorId(redis: Redis, now = Date.now(), draw: () => string = randomVisitorId): Promise<string> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const id = draw();
    // The value records when the id was issued.
    if ((await redis.set(idKey(id), String(now), 'EX', VISITOR_ID_TTL_SECONDS, 'NX')) === 'OK') return id;
  }
  throw new IdSpaceExhausted(`no free visitor id after ${MAX_ATTEMPTS} attempts`);
}

/**
 * Gives the ids claimed by earlier versions, which never expired, the lifetime
 * of a cookie set now: the longest any of them may still be in use unseen. One
 * seen on a hit meanwhile is renewed as usual. Runs at start until one pass
 * has gone through, a page of keys at a time (SCAN), and leaves keys that
 * already expire alone.
 */
export async function expireLegacyIds(redis: Redis): Promise<number> {
  // Every id claimed since expires by itself, so one whole pass is enough: a
  // marker spares later starts a scan of every id.
  if ((await redis.exists(LEGACY_IDS_EXPIRED)) === 1) return 0;
  const prefix = redis.options.keyPrefix ?? '';
  let cursor = '0';
  let given = 0;
  do {
    // SCAN's pattern and answers carry the key prefix, which ioredis adds to commands only.
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}${idKey('*')}`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const names = keys.map((key) => key.slice(prefix.length));
    const ttls = (await names.reduce((p, name) => p.ttl(name), redis.pipeline()).exec()) ?? [];
    // TTL -1: a key without expiry (EXPIRE … NX would say it in one step, but needs Redis 7).
    const legacy = names.filter((_, i) => ttls[i]?.[1] === -1);
    if (legacy.length) await legacy.reduce((p, name) => p.expire(name, VISITOR_ID_TTL_SECONDS), redis.pipeline()).exec();
    given += legacy.length;
  } while (cursor !== '0');
  await redis.set(LEGACY_IDS_EXPIRED, String(Date.now()));
  return given;
}

/** Set once the ids of earlier versions all expire (outside the `vid:` keys the scan reads). */
const LEGACY_IDS_EXPIRED = 'vid-legacy-expired';
