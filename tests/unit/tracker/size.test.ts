// The built tracker stays within 2,048 bytes gzip -9 (npm test builds it first;
// the rollup build itself also refuses to emit a larger file).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../../collector/src/paths.js';

const FILE = join(ROOT, 'dist', 'tracker', 't.js');

describe('tracker size', () => {
  it('is at most 2,048 bytes gzip -9', () => {
    expect(existsSync(FILE), 'run npm run build first').toBe(true);
    // as `gzip -9 < dist/tracker/t.js | wc -c` measures it (from stdin: no file name in the header)
    const size = execFileSync('gzip', ['-9'], { input: readFileSync(FILE) }).length;
    expect(size).toBeLessThanOrEqual(2048);
  });
});
