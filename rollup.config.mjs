// Builds the tracker into one minified IIFE: dist/tracker/t.js
// The build fails when the result exceeds the tracker's budget of 2,048 bytes
// gzip -9: every byte is paid by every visitor of every site.
import { execFileSync } from 'node:child_process';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

export const TRACKER_BUDGET = 2048;

/**
 * Fails the build when the minified tracker exceeds the budget, measured as
 * `gzip -9 < dist/tracker/t.js | wc -c` does (GNU gzip; zlib's level 9 differs
 * by a few bytes).
 */
const sizeBudget = () => ({
  name: 'size-budget',
  generateBundle(_options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      const size = execFileSync('gzip', ['-9'], { input: chunk.code }).length;
      if (size > TRACKER_BUDGET) this.error(`${chunk.fileName} is ${size} bytes gzip -9, over the budget of ${TRACKER_BUDGET}`);
    }
  },
});

export default {
  input: 'tracker/src/index.ts',
  output: { file: 'dist/tracker/t.js', format: 'iife', strict: false, sourcemap: false },
  plugins: [
    resolve({ browser: true }),
    typescript({ tsconfig: 'tracker/tsconfig.json', outDir: 'dist/tracker', include: ['tracker/src/**/*.ts', 'contract/**/*.ts'] }),
    terser({ ecma: 2020, compress: { passes: 3, unsafe: true, unsafe_arrows: true, unsafe_methods: true, unsafe_comps: true, pure_getters: true, booleans_as_integers: true }, mangle: { properties: false }, format: { comments: false } }),
    sizeBudget(),
  ],
};
