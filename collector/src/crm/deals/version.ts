// Version numbers of deal rows. A repeated delivery of one change must give the
// same (source, deal_id, version), so the table folds it; a later change must get
// a higher version, whatever order deliveries arrive in. amoCRM's last_modified
// is in seconds and several actions of one POST share it, so the version is
//   changed_at (s) · 2^21  +  action rank · 2^18  +  18 bits of a hash of the change
// which stays an exact JavaScript integer (< 2^53) until the year 2106.
import { createHash } from 'node:crypto';
import type { DealAction, DealChange } from '../change.js';

const RANK: Record<DealAction, number> = { add: 1, update: 2, status: 3, restore: 5, delete: 6 };

export function dealVersion(change: DealChange, changedAt: number): number {
  const digest = createHash('sha256')
    .update(JSON.stringify([change.dealId, change.action, change.statusId, change.pipelineId, change.amountMinor, change.name, change.deleted, change.fields]))
    .digest();
  const hash18 = digest.readUInt32BE(0) & 0x3ffff;
  return changedAt * 2 ** 21 + RANK[change.action] * 2 ** 18 + hash18;
}

/** The second a version was made in. */
export function versionSeconds(version: number): number {
  return Math.floor(version / 2 ** 21);
}
