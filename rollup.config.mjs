// Builds the tracker into four minified IIFEs:
//   dist/tracker/t.js  the core every page loads: at most 2,048 bytes gzip -9
//   dist/tracker/f.js  the core's first-party build (tracker/src/mode.ts), which
//                      the collector serves at /fp/t.js: at most 2,048 too
//   dist/tracker/h.js  the platform hooks, which the core loads only where a
//                      platform is seen: t.js and h.js together at most 3,072
//   dist/tracker/c.js  the contact features (mailto: and tel: links, the
//                      visitor code), which the core loads only where contact
//                      links are seen: t.js and c.js together at most 2,720
// The build fails above any budget: every byte is paid by every visitor of
// every site.
import { execFileSync } from 'node:child_process';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

export const TRACKER_BUDGET = 2048;
export const TRACKER_WITH_HOOKS_BUDGET = 3072;
export const TRACKER_WITH_CONTACTS_BUDGET = 2720;

/** Bytes as `gzip -9 < file | wc -c` measures them (GNU gzip; zlib's level 9 differs by a few bytes). */
const gzipSize = (code) => execFileSync('gzip', ['-9'], { input: code }).length;

/** What each bundle weighs once built, for the check of the pair. */
const built = {};

/** Fails the build when a bundle, or the core and the hooks together, exceed their budget. */
const sizeBudget = (name) => ({
  name: 'size-budget',
  generateBundle(_options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      built[name] = gzipSize(chunk.code);
    }
    for (const core of ['t', 'f']) if (built[core] > TRACKER_BUDGET) this.error(`${core}.js is ${built[core]} bytes gzip -9, over the budget of ${TRACKER_BUDGET}`);
    for (const [other, budget] of [['h', TRACKER_WITH_HOOKS_BUDGET], ['c', TRACKER_WITH_CONTACTS_BUDGET]]) {
      if (built.t && built[other] && built.t + built[other] > budget) {
        this.error(`t.js and ${other}.js are ${built.t} + ${built[other]} = ${built.t + built[other]} bytes gzip -9, over the budget of ${budget}`);
      }
    }
  },
});

/** tracker/src/mode.ts with FIRST_PARTY true: the first-party build's only difference. */
const firstPartyMode = {
  name: 'first-party-mode',
  resolveId: (source) => (source === './mode.js' ? '\0first-party-mode' : null),
  load: (id) => (id === '\0first-party-mode' ? 'export const FIRST_PARTY = true;' : null),
};

/** One bundle of the tracker: `name`.js from `input`, minified, with its budget checked; `firstParty`: the first-party build. */
export const bundle = (name, input, firstParty = false) => ({
  input,
  output: { file: `dist/tracker/${name}.js`, format: 'iife', strict: false, sourcemap: false },
  plugins: [
    ...(firstParty ? [firstPartyMode] : []),
    resolve({ browser: true }),
    typescript({ tsconfig: 'tracker/tsconfig.json', outDir: 'dist/tracker', include: ['tracker/src/**/*.ts', 'contract/**/*.ts'] }),
    terser({
      ecma: 2021,
      compress: {
        passes: 3,
        unsafe: true,
        unsafe_arrows: true,
        unsafe_methods: true,
        unsafe_comps: true,
        pure_getters: true,
        booleans_as_integers: true,
        // Measured on the core: hoisting functions and inlining only simple
        // ones gzip 20 bytes smaller than terser's defaults.
        hoist_funs: true,
        inline: 1,
      },
      mangle: { properties: false },
      format: { comments: false },
    }),
    sizeBudget(name),
  ],
});

export default [
  bundle('t', 'tracker/src/index.ts'),
  bundle('f', 'tracker/src/index.ts', true),
  bundle('h', 'tracker/src/hooks/index.ts'),
  bundle('c', 'tracker/src/contacts/index.ts'),
];
