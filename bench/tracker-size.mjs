// The tracker's size as every visitor pays it, in each variant a page can load,
// beside the default scripts of two open trackers that do much less (page views
// and custom events only: no form enrichment, no touches, no mailto tagging, no
// visit throttle, no form builders).
//   npm run bench:tracker
// Variants: the core alone (a page with plain forms; its first-party build), the core with the
// platform hooks (a page that needs every hook), the core with the contact
// features (mailto: and tel: links, the visitor code), all three; and what
// each hook adds to h.js on its own (h.js built with that hook only, against
// h.js with none).
// The reference figures are gzip -9 sizes of their published scripts; they are
// constants here because the machine that runs this has no network access.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rollup } from 'rollup';
import { brotliCompressSync, constants } from 'node:zlib';
import { bundle, TRACKER_BUDGET, TRACKER_WITH_CONTACTS_BUDGET, TRACKER_WITH_HOOKS_BUDGET } from '../rollup.config.mjs';

const REFERENCES = [
  ['Plausible, default script.js', 772],
  ['Umami v2.18 script.js', 1401],
  ['Umami v3.1 script.js', 2229],
];
// as `gzip -9 < dist/tracker/t.js | wc -c` measures it (stdin: no file name in the header)
const gzip = (code) => execFileSync('gzip', ['-9'], { input: code }).length;
const dist = (name) => readFileSync(new URL(`../dist/tracker/${name}`, import.meta.url));

const core = gzip(dist('t.js'));
const firstParty = gzip(dist('f.js'));
const hooks = gzip(dist('h.js'));
const contacts = gzip(dist('c.js'));
const rows = [
  ['Throughline t.js (plain forms)', core, TRACKER_BUDGET],
  ['Throughline f.js (the core, first-party build)', firstParty, TRACKER_BUDGET],
  ['Throughline t.js + h.js (every platform hook)', core + hooks, TRACKER_WITH_HOOKS_BUDGET],
  ['Throughline t.js + c.js (contact links)', core + contacts, TRACKER_WITH_CONTACTS_BUDGET],
  ['Throughline t.js + h.js + c.js (all)', core + hooks + contacts],
  ...REFERENCES,
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`${'script'.padEnd(width)}  gzip -9 B  budget B  t.js / it`);
for (const [name, size, budget] of rows) {
  console.log(`${name.padEnd(width)}  ${String(size).padStart(9)}  ${String(budget ?? '').padStart(8)}  ${(core / size).toFixed(2).padStart(9)}`);
}
const brotli = brotliCompressSync(dist('t.js'), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
console.log(`\nt.js: ${dist('t.js').length} B minified, ${core} B gzip -9, ${brotli} B brotli 11`);
console.log(`h.js: ${dist('h.js').length} B minified, ${hooks} B gzip -9`);
console.log(`c.js: ${dist('c.js').length} B minified, ${contacts} B gzip -9`);

// Each hook alone: h.js built from an entry that runs `values` (which the
// others use) and that hook only, against one that runs `values` alone.
const INDEX = new URL('../tracker/src/hooks/index.ts', import.meta.url);
const VARIANT = new URL(`../tracker/src/hooks/variant-${process.pid}.ts`, import.meta.url);
const index = readFileSync(INDEX, 'utf8');
const list = /run\(\[([^\]]*)\]\)/.exec(index);
const [first, ...names] = list[1].split(',').map((n) => n.trim());
async function hooksWith(only) {
  writeFileSync(VARIANT, index.replace(list[0], `run([${[first, ...only].join(', ')}])`));
  try {
    const config = bundle('variant', `tracker/src/hooks/variant-${process.pid}.ts`);
    const build = await rollup({ input: config.input, plugins: config.plugins.filter((p) => p.name !== 'size-budget'), onwarn: () => {} });
    const { output } = await build.generate(config.output);
    return gzip(output[0].code);
  } finally {
    rmSync(VARIANT, { force: true });
  }
}
const base = await hooksWith([]);
console.log(`\nh.js with no hook but ${first} (the shared part): ${base} B`);
for (const name of names) console.log(`  + ${name.padEnd(10)} ${String((await hooksWith([name])) - base).padStart(5)} B`);
if (core > TRACKER_BUDGET || firstParty > TRACKER_BUDGET || core + hooks > TRACKER_WITH_HOOKS_BUDGET || core + contacts > TRACKER_WITH_CONTACTS_BUDGET) process.exitCode = 1;
