// Builds the tracker into one minified IIFE: dist/tracker/t.js
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';

export default {
  input: 'tracker/src/index.ts',
  output: { file: 'dist/tracker/t.js', format: 'iife', sourcemap: false },
  plugins: [
    resolve({ browser: true }),
    typescript({ tsconfig: 'tracker/tsconfig.json', outDir: 'dist/tracker', include: ['tracker/src/**/*.ts'] }),
    terser({ ecma: 2017, compress: { passes: 3, unsafe: true, pure_getters: true }, mangle: { properties: false }, format: { comments: false } }),
  ],
};
