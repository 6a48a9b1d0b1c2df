import { defineConfig } from 'tsup'

// Two builds that run side by side, so neither cleans dist/ (build:ts does
// first). The napi-generated loader (../index.js) and the .node binary beside it
// stay outside the bundle: src/native.ts loads them at run time.
const external = [/^\.\.\/index\.js$/, /\.node$/]

export default defineConfig([
  // ESM: the API (dist/index.js, index.d.ts), the CLI, and the worker process
  // of `compare --workers` (dist/compare-worker.js, forked by src/compare/pool.ts).
  {
    entry: { index: 'src/index.ts', cli: 'src/cli.ts', 'compare-worker': 'src/compare/worker.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: { entry: { index: 'src/index.ts' } },
    splitting: true,
    sourcemap: false,
    external,
  },
  // CommonJS, for require('googlenet-native'): dist/index.cjs and its own
  // types (index.d.cts). `shims` gives it import.meta.url, with which
  // src/native.ts finds the addon.
  {
    entry: { index: 'src/index.ts' },
    format: ['cjs'],
    target: 'node20',
    platform: 'node',
    dts: { entry: { index: 'src/index.ts' } },
    shims: true,
    sourcemap: false,
    external,
  },
])
