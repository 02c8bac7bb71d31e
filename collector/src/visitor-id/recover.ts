// Giving a visitor its id back. The tracker asks for an id when it finds none in
// its cookie; where that cookie was lost (Safari caps a script's cookies at 7
// days, a day after an ad click) but the collector still knows the visitor, the
// answer is the visitor's old id, not a new one: so a visitor who comes back
// after a week keeps the first touch, the leads and the deals already tied to
// the id. What the collector knows a visitor by:
//   - the id in a cookie its own answers set (first-party mode, where the
//     request comes with the site's cookies);
//   - the GA client id and the Metrika id, which the tracker sends along and,
//     in first-party mode, the request carries in their own cookies. Every hit
//     that carries an issued visitor id with them records which id they go with
//     (limits/visit-limits.ts, in the call the hit makes anyway), for as long as
//     the visitor id's key lives; the first id recorded for a client id stays.
import type { Redis } from 'ioredis';
import { gaClientId, metrikaId, visitorId } from '../../../contract/ids.js';
import { idKey, VISITOR_ID_TTL_SECONDS } from './issue.js';

/** Redis key: the visitor id a GA client id or Metrika id goes with (under the installation's key prefix). */
export const clientIdKey = (kind: 'ga' | 'ym', id: string) => `vid-${kind}:${id}`;

/** What a request for an id brings that may name a known visitor. */
export type KnownBy = { visitorId?: string; gaCid?: string; ymUid?: string };

/** The forms a request may bring them in, each read by the contract's rule: '' when it is not one. */
export const knownBy = (raw: { visitorId?: string; ga?: string; ym?: string }): KnownBy => ({
  visitorId: visitorId(raw.visitorId),
  gaCid: gaClientId(raw.ga),
  ymUid: metrikaId(raw.ym),
});

/**
 * The issued id the request names, directly or through a client id, renewed;
 * null when it names none that is still issued.
 */
export async function recoverVisitorId(redis: Redis, by: KnownBy): Promise<string | null> {
  const [byGa, byYm] = await Promise.all([
    by.gaCid ? redis.get(clientIdKey('ga', by.gaCid)) : null,
    by.ymUid ? redis.get(clientIdKey('ym', by.ymUid)) : null,
  ]);
  for (const id of [by.visitorId, byGa, byYm]) {
    // EXPIRE answers 1 only for a key that exists: an id still issued, now renewed.
    if (id && (await redis.expire(idKey(id), VISITOR_ID_TTL_SECONDS)) === 1) return id;
  }
  return null;
}
