// Builds the tracker into one minified IIFE: dist/tracker/t.js
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

export default {
  input: 'tracker/src/index.ts',
  output: { file: 'dist/tracker/t.js', format: 'iife', strict: false, sourcemap: false },
  plugins: [
    resolve({ browser: true }),
    typescript({ tsconfig: 'tracker/tsconfig.json', outDir: 'dist/tracker', include: ['tracker/src/**/*.ts'] }),
    terser({ ecma: 2020, compress: { passes: 3, unsafe: true, unsafe_arrows: true, unsafe_methods: true, unsafe_comps: true, pure_getters: true, booleans_as_integers: true }, mangle: { properties: false }, format: { comments: false } }),
  ],
};
