import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { defineConfig, type Options } from 'tsup'

// The page of `googlenet-native serve` (src/web/), bundled for browsers
// into dist-web/: the page's script, the engine worker with napi-rs's
// browser loader and its runtime inside, and the loader's own thread
// worker behind the port the page gives it (src/web/thread-worker.ts).
// The loader (googlenet-native.wasi-browser.js) and its thread worker
// (wasi-worker-browser.mjs) are what `npm run build:wasm` generates, so
// this build runs after that one; the .wasm itself is served from the
// WebAssembly package at run time.
const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }

// napi-rs's browser loader fetches the one .wasm it was generated for;
// `npm run build:wasm` makes two (simd128, and relaxed SIMD), and the
// loader bundled here asks src/web/wasm-module.ts which one this browser
// runs. A loader whose line has changed fails the build, never quietly
// loads the simd128 module alone.
const WASM_NAMED = "new URL('./googlenet-native.wasm32-wasi.wasm', import.meta.url).href"
const wasmModuleChoice: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'wasm-module-choice',
  setup(build) {
    build.onLoad({ filter: /googlenet-native\.wasi-browser\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8')
      if (source.split(WASM_NAMED).length !== 2) throw new Error(`${args.path}: expected ${WASM_NAMED} once; napi-rs's loader has changed`)
      const choice = JSON.stringify(resolve('src/web/wasm-module.ts'))
      return {
        contents: `import { wasmModuleUrl as __wasmModuleUrl } from ${choice}\n${source.replace(WASM_NAMED, '__wasmModuleUrl(import.meta.url)')}`,
        loader: 'js',
        resolveDir: dirname(args.path),
      }
    })
  },
}

export default defineConfig({
  entry: {
    page: 'src/web/page.ts',
    'engine-worker': 'src/web/engine-worker.ts',
    // The loader starts its threads with new URL('./wasi-worker-browser.mjs', import.meta.url),
    // and the page creates them by that name (src/web/engine-threads.ts says why).
    'wasi-worker-browser': 'src/web/thread-worker.ts',
  },
  outDir: 'dist-web',
  clean: true,
  format: ['esm'],
  // .mjs throughout: the loader asks for wasi-worker-browser.mjs by that name.
  outExtension: () => ({ js: '.mjs' }),
  platform: 'browser',
  target: 'es2022',
  tsconfig: 'src/web/tsconfig.json',
  publicDir: 'src/web/public',
  // Everything in: the browser fetches nothing but these files.
  noExternal: [/.*/],
  splitting: false,
  sourcemap: false,
  minify: true,
  define: { PACKAGE_VERSION: JSON.stringify(version) },
  esbuildPlugins: [wasmModuleChoice],
  esbuildOptions(options) {
    options.alias = { 'googlenet-native-wasm32-wasi': './googlenet-native.wasi-browser.js' }
  },
})
