// Makes napi-rs's Node loader of the WebAssembly build (the
// googlenet-native.wasi.cjs that `napi build` just wrote; the package
// ships it) choose between the two modules scripts/build-wasm.sh builds:
// the relaxed-SIMD one where this V8 validates relaxed SIMD (Node 22+,
// or Node 20 with --experimental-wasm-relaxed-simd), the simd128 one
// elsewhere. GOOGLENET_NATIVE_WASM=simd128 or relaxed-simd asks for one,
// and a relaxed-simd the engine cannot run is an error, not a quiet
// fallback (test/wasm.test.ts runs each this way).
//
//   node scripts/wasi-loader-choice.mjs googlenet-native.wasi.cjs
import { readFileSync, writeFileSync } from 'node:fs'

const [loader] = process.argv.slice(2)
if (!loader) {
  console.error('usage: node scripts/wasi-loader-choice.mjs LOADER')
  process.exit(2)
}
const SIMD128 = 'googlenet-native.wasm32-wasi.wasm'
const RELAXED = 'googlenet-native.wasm32-wasi.relaxed-simd.wasm'

// The smallest module that uses relaxed SIMD: one function returning
// f32x4.relaxed_madd of its three v128 parameters (the same probe as the
// page's, src/web/wasm-files.ts).
const choice = `// Which module (scripts/wasi-loader-choice.mjs wrote this).
const __googlenetWasmFile = (() => {
  const probe = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x03,
    0x02, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
  ])
  const relaxed = WebAssembly.validate(probe)
  const asked = process.env.GOOGLENET_NATIVE_WASM ?? ''
  if (asked === '') return relaxed ? '${RELAXED}' : '${SIMD128}'
  if (asked === 'simd128') return '${SIMD128}'
  if (asked === 'relaxed-simd') {
    if (!relaxed) {
      throw new Error('GOOGLENET_NATIVE_WASM=relaxed-simd, but this engine has no relaxed SIMD (Node 20: run node with --experimental-wasm-relaxed-simd)')
    }
    return '${RELAXED}'
  }
  throw new Error('GOOGLENET_NATIVE_WASM must be simd128 or relaxed-simd, not ' + JSON.stringify(asked))
})()
`

let source = readFileSync(loader, 'utf8')
if (source.includes('__googlenetWasmFile')) {
  console.error(`${loader} already chooses its module: run napi build again first`)
  process.exit(1)
}
// The module's three places: the file beside the loader, its twin with
// names for profilers (napi build leaves googlenet-native.wasm32-wasi.debug.wasm
// in a checkout, and the loader prefers it), and the installed package's
// (a checkout's index.js loading the package).
const DEBUG = SIMD128.replace(/\.wasm$/, '.debug.wasm')
const places = [`__nodePath.join(__dirname, '${SIMD128}')`, `__nodePath.join(__dirname, '${DEBUG}')`, `    '${SIMD128}',\n`]
for (const place of places) {
  if (source.split(place).length !== 2) {
    console.error(`${loader}: expected ${JSON.stringify(place)} once; napi-rs's loader has changed`)
    process.exit(1)
  }
}
source = source
  .replace(places[0], '__nodePath.join(__dirname, __googlenetWasmFile)')
  .replace(places[1], "__nodePath.join(__dirname, __googlenetWasmFile.replace(/\\.wasm$/, '.debug.wasm'))")
  .replace(places[2], '    __googlenetWasmFile,\n')
const anchor = 'let __wasmFilePath ='
if (source.split(anchor).length !== 2) {
  console.error(`${loader}: expected ${JSON.stringify(anchor)} once; napi-rs's loader has changed`)
  process.exit(1)
}
writeFileSync(loader, source.replace(anchor, `${choice}\n${anchor}`))
