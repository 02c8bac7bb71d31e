// File names in the spool directory. Each collector instance writes files named
// with its pid and start time, holding journal text (spill/tables.ts):
//   j-<pid>-<start>-<seq>.journal   journal segment (acknowledged, maybe not yet inserted)
//   s-<pid>-<start>-<seq>.journal   spooled batch (an insert failed, and Redis could not take it)
//   bad-rows-<pid>-<start>.jsonl    rows ClickHouse refused, set aside for a person (spill/bad-rows.ts; never replayed)
// Files of an instance that is no longer running are adopted and replayed by
// the next collector that starts on the same directory. Earlier versions named
// the same files `.ndjson`; those are replayed too.
import { readdirSync } from 'node:fs';

const NAME = /^([js])-(\d+)-(\d+)-(\d+)\.(?:journal|ndjson)$/;

export type SpoolFile = { name: string; kind: 'j' | 's'; pid: number; start: number; seq: number };

export function parseName(name: string): SpoolFile | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return { name, kind: m[1] as 'j' | 's', pid: Number(m[2]), start: Number(m[3]), seq: Number(m[4]) };
}

/** A journal or spool file's name. */
export function fileName(kind: 'j' | 's', pid: number, start: number, seq: number): string {
  return `${kind}-${pid}-${start}-${String(seq).padStart(8, '0')}.journal`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Files this instance should replay: its own spooled batches, and every file of an
 * instance that has died (same pid but another start time counts as dead: a
 * restarted container often gets the same pid).
 */
export function replayable(dir: string, pid: number, start: number): SpoolFile[] {
  const out: SpoolFile[] = [];
  for (const name of readdirSync(dir)) {
    const f = parseName(name);
    if (!f) continue;
    const own = f.pid === pid && f.start === start;
    if (own ? f.kind === 's' : f.pid === pid || !alive(f.pid)) out.push(f);
  }
  return out.sort((a, b) => a.start - b.start || a.seq - b.seq);
}
