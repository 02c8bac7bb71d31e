// Group commit: the rows of every hit that arrives during one event-loop turn
// are gathered per stream and written to the journal with one write, then all
// of those hits are acknowledged.
import { fdatasync, writev, writevSync } from 'node:fs';
import { promisify } from 'node:util';

const writevAsync = promisify(writev);
export const fdatasyncAsync = promisify(fdatasync);

/** The rows of one stream gathered for the next commit. */
export type Gathered = { text: string; rows: number };

export class Gathering {
  private streams = new Map<string, Gathered>();

  /** Adds rows to the next commit's block of their stream; returns the number of the first within it. */
  add(stream: string, text: string, rows: number): number {
    const g = this.streams.get(stream);
    if (g === undefined) {
      this.streams.set(stream, { text, rows });
      return 0;
    }
    g.text += text;
    g.rows += rows;
    return g.rows - rows;
  }

  /** What was gathered, per stream; the next rows start a new commit. */
  take(): Map<string, Gathered> {
    const taken = this.streams;
    // A new map, not clear(): V8 leaves a cleared map's old table pointing to its
    // new one, so once one table had been promoted, every table after it (and
    // the commit's rows it held) stayed alive until a full collection.
    this.streams = new Map();
    return taken;
  }
}

/**
 * Writes `parts` (`bytes` in all) to the journal with one gathered write, and
 * more only when the system wrote less than all.
 */
export function writeAllSync(fd: number, parts: Buffer[], bytes: number): void {
  let done = writevSync(fd, parts);
  if (done === bytes) return;
  const rest = Buffer.concat(parts, bytes);
  while (done < bytes) done += writevSync(fd, [rest.subarray(done)]);
}

/** writeAllSync through the thread pool, for JOURNAL_FSYNC=1 (the commit waits for the disk anyway). */
export async function writeAll(fd: number, parts: Buffer[], bytes: number): Promise<void> {
  let done = (await writevAsync(fd, parts)).bytesWritten;
  if (done === bytes) return;
  const rest = Buffer.concat(parts, bytes);
  while (done < bytes) done += (await writevAsync(fd, [rest.subarray(done)])).bytesWritten;
}
