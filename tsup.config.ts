import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: 'src/index.ts' } },
  clean: true,
  splitting: true,
  sourcemap: false,
  // The napi-generated loader (../index.js) and the .node binary beside it
  // stay outside the bundle: src/native.ts loads them at run time.
  external: [/^\.\.\/index\.js$/, /\.node$/],
})
