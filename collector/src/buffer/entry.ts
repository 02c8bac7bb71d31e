// What the journal buffer takes in: one hit's rows, and its answer.
import type { JournalBlock } from '../spill/tables.js';
import { excludeRows, type Segment } from './segment.js';

/** Rows of one stream that an entry brings besides its main row. */
export type MoreRows = { stream: string; text: string; rows: number; line: number };

/**
 * One hit on its way in: one row of its main stream, and maybe rows of others.
 * The caller extends it with what its answer needs and implements `durable`,
 * called once the rows are in the journal (err null) or could not be put there:
 * one object per hit, no closures.
 */
export abstract class JournalEntry {
  /** Whether the rows join the batch: undefined while the visit throttle and rate limit have not answered. */
  keep: boolean | undefined;
  seg: Segment | null = null;
  /** The blocks of the group commit that wrote the entry. */
  blocks: JournalBlock[] | null = null;
  /** The number of the entry's main row within its block. */
  line = 0;

  /**
   * `stream`: the stream of the main row (given to JournalBuffer.accept, not kept:
   * a hit waiting for its verdict holds no more than it needs); `more`: rows of
   * other streams, or null. `gated`: the batch must wait for the verdict (JournalBuffer.settle).
   */
  constructor(
    readonly stream: string,
    gated: boolean,
    readonly more: MoreRows[] | null = null,
  ) {
    this.keep = gated ? undefined : true;
  }

  get rows(): number {
    let n = 1;
    if (this.more) for (const m of this.more) n += m.rows;
    return n;
  }

  abstract durable(err: Error | null): void;
}

/** Leaves an entry's rows out of its segment's batch. */
export function exclude(e: JournalEntry): void {
  excludeRows(e.blocks!, e.stream, e.line, 1);
  if (e.more) for (const m of e.more) excludeRows(e.blocks!, m.stream, m.line, m.rows);
}
