// When a deal entered a funnel stage, read from its stored versions (oldest
// first). A version enters stage S when it has stage S and the version before
// it (if any) had another stage; the versions that follow in S are the same
// stay (the entry's run), whatever else they change. So a deal moved back and
// forward enters a stage each time, a stage skipped is never entered, and a
// repeated delivery (the same version, folded by ClickHouse) or an edit inside
// the stage enters nothing. A version without a stage (a status mapped to none)
// enters nothing, but is another stage for the version after it: the deal left.
//
// A run is named by its first and last versions, not by the entering version
// alone: a change delivered late (placed before one already known) can move
// the start of a run, and the run still holds the message planned from it.
// Pure: the planner reads the versions, this decides.

/** What the detection needs of a version (crm/deals/store.ts DealRow has it). */
export type Versioned = { version: number; stage: string };

export type Entry<T extends Versioned = Versioned> = {
  /** 1, 2, …: the entry's place among all the deal's entries, into any stage. */
  ordinal: number;
  /** The version that entered. */
  row: T;
  /** The stage of the version before it; null for the deal's first version. */
  previousStage: string | null;
  /** The versions of the stay: the entering one, and the last before the deal left the stage (or the newest). */
  first: number;
  last: number;
};

export function entriesOf<T extends Versioned>(versions: readonly T[]): Entry<T>[] {
  const out: Entry<T>[] = [];
  versions.forEach((row, i) => {
    const before = i > 0 ? versions[i - 1]! : null;
    if (before && before.stage === row.stage) {
      const open = out[out.length - 1];
      if (open && open.row.stage === row.stage) open.last = row.version;
      return;
    }
    if (row.stage === '') return;
    out.push({ ordinal: out.length + 1, row, previousStage: before ? before.stage : null, first: row.version, last: row.version });
  });
  return out;
}
