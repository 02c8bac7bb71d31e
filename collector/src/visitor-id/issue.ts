// Issuing visitor ids, unique across the installation: a random id is claimed in
// Redis with SET NX (only the first claim of an id succeeds), retried with a new
// random id on a collision. With n ids issued, a draw collides with probability
// n / 887,503,681 (a million issued: about 1 in 890), so a handful of attempts
// virtually always succeeds; when they all collide the caller answers 503.
import type { Redis } from 'ioredis';
import { randomVisitorId } from './id.js';

export const MAX_ATTEMPTS = 8;

/** Redis key of an issued id (under the installation's key prefix). */
export const idKey = (id: string) => `vid:${id}`;

export class IdSpaceExhausted extends Error {}

export async function issueVisitorId(redis: Redis, now = Date.now(), draw: () => string = randomVisitorId): Promise<string> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const id = draw();
    // The value records when the id was issued.
    if ((await redis.set(idKey(id), String(now), 'NX')) === 'OK') return id;
  }
  throw new IdSpaceExhausted(`no free visitor id after ${MAX_ATTEMPTS} attempts`);
}
