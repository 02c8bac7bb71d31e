// The order of a deal's versions: the CRM's own order, whatever order its
// deliveries arrive in. Every door (amoCRM, Zoho, import) goes through place().
//
// A version number is
//   CRM time (s) · 2^21  +  rank · 2^18  +  18 low bits (a hash of the change, odd)
// an exact JavaScript integer (< 2^53) until the year 2106. A repeated delivery
// of one change gets the same number, so it is recognised and writes nothing.
//
// The rule, in the CRM's terms:
//   - A change the CRM dates (last_modified, Modified_Time, updated_at, a Zoho
//     delete's server_time) takes its place by that time; at one second a restore
//     ranks after a delete (it always follows one). An arrival time is never
//     compared with a CRM time: the clocks differ and deliveries are delayed.
//   - A delete the CRM does not date (amoCRM's delete webhook carries only the id)
//     follows every change known when it arrives; a restore that is known but
//     that no delete precedes was waiting for this very delete, which then goes
//     just below it. A deal in the bin is not edited, so the delete also stays in
//     force over edits delivered after it, whatever their CRM time (they were
//     made before it), until a restore. The first restore delivered after it
//     undoes it, whatever its CRM time.
//   - A restore the CRM does not date follows every change known.
//   - A delete of a deleted deal, or an undated restore of a live one, is a repeat.
// Known limit: an undated delete delivered again after the restore that undid it
// cannot be told from a new delete (amoCRM sends nothing else); with API
// credentials the collector asks amoCRM for the lead instead.
import { createHash } from 'node:crypto';
import type { DealAction, DealChange } from '../change.js';

const SECOND = 2 ** 21;
const RANK_UNIT = 2 ** 18;
const RANK: Record<DealAction, number> = { add: 1, update: 2, status: 3, delete: 4, restore: 5 };
/** Rows placed after the newest known: an undated delete (6) or restore (7). */
const UNDATED_DELETE = 6;
const UNDATED_RESTORE = 7;

export function dealVersion(change: DealChange, changedAt: number): number {
  const digest = createHash('sha256')
    .update(JSON.stringify([change.dealId, change.action, change.statusId, change.pipelineId, change.amountMinor, change.name, change.deleted, change.fields]))
    .digest();
  // Odd, so the number just below a version stays in its second and rank.
  const low = (digest.readUInt32BE(0) & (RANK_UNIT - 1)) | 1;
  return changedAt * SECOND + RANK[change.action] * RANK_UNIT + low;
}

/** The CRM second a version was placed at. */
export function versionSeconds(version: number): number {
  return Math.floor(version / SECOND);
}

const rankOf = (version: number) => Math.floor(version / RANK_UNIT) % 8;

/**
 * A version the collector placed after every one known, for a change the CRM
 * does not date (an undated delete or restore): its second is that of the
 * newest change known then, not the change's own, which is its arrival.
 */
export function placedUndated(version: number): boolean {
  return rankOf(version) >= UNDATED_DELETE;
}

/** What place() needs of a stored version. */
export type Placed = { version: number; deleted: number };

/**
 * A deletion that no CRM time placed: it stays in force over edits until a
 * restore. A dated delete (rank 4) is exact, and a later dated change is the
 * deal living again (a Zoho record, an import row say so).
 */
export function undatedDeletion(row: Placed): boolean {
  return row.deleted === 1 && rankOf(row.version) !== RANK.delete;
}

/** The first version after `row`, placed by the collector at `rank` of row's second. */
function after(row: Placed | null, rank: number): number {
  const own = (row ? versionSeconds(row.version) : 0) * SECOND + rank * RANK_UNIT + 1;
  return row ? Math.max(own, row.version + 1) : own;
}

export type Placement =
  | { kind: 'repeated' }
  /** An undated restore of a deal never seen: nothing to restore. */
  | { kind: 'unknown' }
  | {
      kind: 'write';
      version: number;
      deleted: 0 | 1;
      /** The change's own fields, or a copy of the stored version named (null: no fields known). */
      fields: 'own' | number | null;
      /** A version written on top afterwards: the newest state with the deleted flag the late change decided. */
      then?: { version: number; deleted: 0 | 1; fields: number };
    };

/**
 * Where `change` goes in a deal's history (`history` sorted by version; `dated`
 * is the change's version when the CRM dates it, else null) and with which
 * deleted flag. Pure: the ingest writes what it says, tests hold it to a model.
 */
export function place(history: Placed[], change: Pick<DealChange, 'action' | 'deleted'>, dated: number | null): Placement {
  const top = history[history.length - 1] ?? null;
  if (dated !== null) {
    if (history.some((r) => r.version === dated)) return { kind: 'repeated' };
    const prev = below(history, dated);
    const restores = change.action === 'restore';
    const deleted: 0 | 1 =
      change.action === 'delete' ? 1 : restores ? (change.deleted ? 1 : 0) : prev && undatedDeletion(prev) ? 1 : change.deleted ? 1 : 0;
    const write: Placement = { kind: 'write', version: dated, deleted, fields: 'own' };
    // A restore delivered after an undated delete undoes it, though the CRM dates it before the delete's place.
    if (restores && !deleted && top && dated < top.version && undatedDeletion(top)) {
      return { ...write, then: { version: after(top, rankOf(top.version)), deleted: 0, fields: top.version } };
    }
    return write;
  }
  if (change.action === 'delete') {
    // A restore with no deletion below it nor above it (one above would be the delete it already undid).
    const lastDeleted = history.findLastIndex((r) => r.deleted === 1);
    const waiting = history.findIndex((r, i) => i > lastDeleted && rankOf(r.version) === RANK.restore && r.deleted === 0 && history[i - 1]?.deleted !== 1);
    if (waiting !== -1) {
      const prev = history[waiting - 1] ?? null;
      return { kind: 'write', version: history[waiting]!.version - 1, deleted: 1, fields: prev ? prev.version : null };
    }
    if (top?.deleted === 1) return { kind: 'repeated' };
    return { kind: 'write', version: after(top, UNDATED_DELETE), deleted: 1, fields: top ? top.version : null };
  }
  if (!top) return { kind: 'unknown' };
  if (top.deleted === 0) return { kind: 'repeated' };
  return { kind: 'write', version: after(top, UNDATED_RESTORE), deleted: 0, fields: top.version };
}

/** The newest version strictly below `version`. */
export function below<T extends Placed>(list: T[], version: number): T | null {
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.version < version) return list[i]!;
  return null;
}
