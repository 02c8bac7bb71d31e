// The README's first-party snippets are the files tests/integration/first-party-snippets.test.ts
// runs in real servers: each file's text stands in the README as it is.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../collector/src/paths.js';

const DIR = join(ROOT, 'deploy', 'first-party');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README first-party snippets', () => {
  it.each(readdirSync(DIR))('%s stands in the README as tested', (file) => {
    expect(readme).toContain(`\n${readFileSync(join(DIR, file), 'utf8').trimEnd()}\n\`\`\``);
  });
});

describe('README commands', () => {
  it('open pages with xdg-open (the machine is Debian), never macOS\'s open', () => {
    const lines = readme.split('\n').filter((l) => /^\s*open\s+["'h]/.test(l));
    expect(lines).toEqual([]);
    expect(readme).toContain('xdg-open "http://127.0.0.1:8080/reports"');
  });
});
