// Writes docs/environment.md from the configuration code (env-reference.ts):
//   npm run env-reference
// after adding or changing a variable or its comment in collector/src/config.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { environmentReference, REFERENCE_FILE } from '../env-reference.js';
import { ROOT } from '../paths.js';

const text = environmentReference();
let before = '';
try {
  before = readFileSync(REFERENCE_FILE, 'utf8');
} catch {
  // not written yet
}
const name = relative(ROOT, REFERENCE_FILE);
if (before === text) {
  process.stdout.write(`${name} is up to date\n`);
} else {
  writeFileSync(REFERENCE_FILE, text);
  process.stdout.write(`${name} written\n`);
}
