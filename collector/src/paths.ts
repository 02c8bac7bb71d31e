// Where the collector finds files it serves or reads, whether it runs from
// source (tests) or from dist/ (production): both resolve from the package root.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
export const MIGRATIONS_DIR = join(ROOT, 'collector', 'migrations');
export const TRACKER_FILE = join(ROOT, 'dist', 'tracker', 't.js');
/** The platform hooks the tracker loads where a platform is seen. */
export const HOOKS_FILE = join(ROOT, 'dist', 'tracker', 'h.js');
