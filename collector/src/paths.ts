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
/**
 * The tracker's files, by the path the collector serves them at: the core every
 * page loads, the platform hooks it loads where a platform is seen, and the
 * contact features it loads where contact links are seen; under /fp/ the same,
 * with the first-party build of the core (f.js), for the path a site's own
 * server forwards (README, "First-party mode").
 */
const built = (name: string) => join(ROOT, 'dist', 'tracker', `${name}.js`);
export const TRACKER_FILES: Record<string, string> = Object.fromEntries(
  ['t', 'h', 'c'].flatMap((name) => [
    [`/${name}.js`, built(name)],
    [`/fp/${name}.js`, built(name === 't' ? 'f' : name)],
  ]),
);
