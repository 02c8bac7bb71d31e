// The tracker's size as every visitor pays it, beside the default scripts of two
// open trackers that do much less (page views and custom events only: no form
// enrichment, no touches, no mailto tagging, no visit throttle).
//   npm run build && node bench/tracker-size.mjs
// The reference figures are gzip -9 sizes of their published scripts; they are
// constants here because the machine that runs this has no network access.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

const FILE = new URL('../dist/tracker/t.js', import.meta.url);
const LIMIT = 2048;
const REFERENCES = [
  ['Plausible, default script.js', 772],
  ['Umami v2.18 script.js', 1401],
  ['Umami v3.1 script.js', 2229],
];

const raw = readFileSync(FILE);
// as `gzip -9 < dist/tracker/t.js | wc -c` measures it (stdin: no file name in the header)
const gzip = execFileSync('gzip', ['-9'], { input: raw }).length;
const brotli = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

const rows = [['Throughline t.js (this build)', gzip], ...REFERENCES];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`${'script'.padEnd(width)}  gzip -9 B  Throughline / it`);
for (const [name, size] of rows) console.log(`${name.padEnd(width)}  ${String(size).padStart(9)}  ${(gzip / size).toFixed(2).padStart(16)}`);
console.log(`\nThroughline t.js: ${raw.length} B minified, ${gzip} B gzip -9, ${brotli} B brotli 11; budget ${LIMIT} B gzip -9 (${LIMIT - gzip} B left)`);
if (gzip > LIMIT) process.exitCode = 1;
