// Which visitor an e-mail names. Candidates come in order: the plus-address of
// every recipient, then every bracketed tag of the subject (the reading rule of
// each is visitor-tag.ts's). Any six letters in brackets can pass for an id
// (`[URGENT]`, `[REPORT]`), so the first candidate the collector has issued
// (a `vid:` key in Redis, as GET /vid claimed it) wins; when none is known
// (ids from before an outage of Redis, or Redis unreachable) the first
// well-formed one is taken, as before.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { idKey } from '../visitor-id/issue.js';
import { visitorIdFromAddress, visitorIdFromSubject } from './visitor-tag.js';

/** How long the issued-id look-up may take before the first well-formed candidate is taken. */
const LOOKUP_MS = 500;

/** Every visitor id the recipients and the subject carry, in order, without repeats. */
export function visitorCandidates(recipients: string[], subject: string): string[] {
  const fromAddresses = recipients.map(visitorIdFromAddress);
  const fromSubject = [...subject.matchAll(/\[[^\[\]]*\]/g)].map((m) => visitorIdFromSubject(m[0]));
  return [...new Set([...fromAddresses, ...fromSubject].filter((id): id is string => id !== null))];
}

/** The first candidate the collector issued, else the first candidate; null when there is none. */
export async function chooseVisitor(redis: Redis, candidates: string[]): Promise<string | null> {
  if (candidates.length <= 1) return candidates[0] ?? null;
  const issued = await Promise.race([
    redis.mget(candidates.map(idKey)).catch(() => null),
    sleep(LOOKUP_MS, null, { ref: false }),
  ]);
  const known = issued ? candidates.find((_, i) => issued[i] !== null) : undefined;
  return known ?? candidates[0]!;
}
