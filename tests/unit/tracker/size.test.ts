// The built tracker stays within its budgets, gzip -9 (npm test builds it
// first; the rollup build itself also refuses to emit larger files): the core
// every page loads, the core with the platform hooks it loads where a
// platform is seen, and the core with the contact features it loads where
// contact links are seen.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../../collector/src/paths.js';

// as `gzip -9 < dist/tracker/t.js | wc -c` measures it (from stdin: no file name in the header)
const gzipped = (name: string) => {
  const file = join(ROOT, 'dist', 'tracker', name);
  expect(existsSync(file), 'run npm run build first').toBe(true);
  return execFileSync('gzip', ['-9'], { input: readFileSync(file) }).length;
};

// The budgets, as the build enforces them (rollup.config.mjs, plain JavaScript).
const CONFIG: string = join(ROOT, 'rollup.config.mjs');
const { TRACKER_BUDGET, TRACKER_WITH_HOOKS_BUDGET, TRACKER_WITH_CONTACTS_BUDGET } = (await import(CONFIG)) as Record<'TRACKER_BUDGET' | 'TRACKER_WITH_HOOKS_BUDGET' | 'TRACKER_WITH_CONTACTS_BUDGET', number>;

describe('tracker size', () => {
  it('the core, in both builds, is at most 2,048 bytes gzip -9', () => {
    expect(TRACKER_BUDGET).toBe(2048);
    expect(gzipped('t.js')).toBeLessThanOrEqual(TRACKER_BUDGET);
    expect(gzipped('f.js')).toBeLessThanOrEqual(TRACKER_BUDGET);
  });
  it('the core and the platform hooks are at most 3,072 bytes gzip -9 in all', () => {
    expect(TRACKER_WITH_HOOKS_BUDGET).toBe(3072);
    expect(gzipped('t.js') + gzipped('h.js')).toBeLessThanOrEqual(TRACKER_WITH_HOOKS_BUDGET);
  });
  it('the core and the contact features stay within their budget', () => {
    expect(gzipped('t.js') + gzipped('c.js')).toBeLessThanOrEqual(TRACKER_WITH_CONTACTS_BUDGET);
  });
});
