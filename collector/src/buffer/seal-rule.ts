// When a journal segment is sealed and handed to the inserter: a pure rule.
// The row and age bounds wait for the insert in flight to finish (the batch
// meanwhile grows, so a slow ClickHouse gets fewer, larger inserts); the byte
// bound does not wait. Nothing is sealed while a write to the segment is under
// way, except from the commit loop itself, between its writes.

export type SealLimits = { maxRows: number; maxBytes: number };

export type SealState = {
  rows: number;
  bytes: number;
  /** The oldest row of the segment has waited BATCH_MAX_MS. */
  due: boolean;
  /** A group commit is writing to the segment. */
  writing: boolean;
  /** Asked by the commit loop between its writes (the file is idle then). */
  betweenWrites: boolean;
  /** An insert is in flight. */
  inserting: boolean;
};

export function sealNow(s: SealState, limits: SealLimits): boolean {
  if (s.rows === 0) return false;
  const hard = s.bytes >= limits.maxBytes;
  if (!hard && !s.due && s.rows < limits.maxRows) return false;
  if (s.writing && !s.betweenWrites) return false;
  return hard || !s.inserting;
}
