// Which rows of the attribution tables are one resolution's result. A full
// resolution starts a generation; each later run of that generation rewrites
// only the conversions a change touched (incremental.ts). A snapshot names a
// generation and a run of it: a conversion's rows in the snapshot are those of
// the newest finished run of the generation, up to the snapshot's run, that
// wrote the conversion; a run that removed it wrote one row with removed = 1
// and nothing else, so its members and touches are simply absent. Rows of a run
// still being written are never read: only runs recorded in attribution_runs count.
// GLOBAL IN runs the subquery once, on the server asked: on a single server it is
// IN; on a cluster the tables are Distributed and a plain IN would make each
// shard read the whole cluster again, which ClickHouse refuses.
import { ident, num } from '../clickhouse/sql.js';

export type Snapshot = { generation: number; run: number };

/** `db.` before a table, or nothing for '' (a client bound to its database). */
const prefix = (db: string) => (db ? `${ident(db)}.` : '');

/** The snapshot's generation and run as SQL: the given one, or the newest finished. */
function bounds(p: string, snap?: Snapshot): { g: string; r: string } {
  if (snap) return { g: num(snap.generation), r: num(snap.run) };
  return { g: `(SELECT argMax(generation, run) FROM ${p}attribution_runs)`, r: `(SELECT max(run) FROM ${p}attribution_runs)` };
}

/**
 * Every conversion of the snapshot (removed ones included), with the run whose rows are current: `(conv_key, run)`.
 * `db` '': the tables unqualified.
 */
export function currentKeysSql(db: string, snap?: Snapshot, keys?: string): string {
  const p = prefix(db);
  const { g, r } = bounds(p, snap);
  return `SELECT conv_key, max(run) FROM ${p}attribution_conversions
    WHERE generation = ${g} AND run GLOBAL IN (SELECT run FROM ${p}attribution_runs WHERE generation = ${g} AND run <= ${r})${keys ? ` AND conv_key IN (${keys})` : ''}
    GROUP BY conv_key`;
}

/**
 * Condition on a row of attribution_members, _conversions or _touches: it belongs to the snapshot
 * (the newest when left out). `keys`: an IN list of conversion keys, the only ones looked at.
 */
export function inSnapshot(db: string, snap?: Snapshot, keys?: string): string {
  const { g } = bounds(prefix(db), snap);
  return `generation = ${g} AND ${keys ? `conv_key IN (${keys}) AND ` : ''}(conv_key, run) GLOBAL IN (${currentKeysSql(db, snap, keys)})`;
}

/** The runs of a generation finished by `run` (the ids an incremental run starts from). */
export function finishedRunsSql(db: string, snap: Snapshot): string {
  const d = ident(db);
  return `SELECT run FROM ${d}.attribution_runs WHERE generation = ${num(snap.generation)} AND run <= ${num(snap.run)}`;
}
