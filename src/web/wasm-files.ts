/**
 * The two WebAssembly modules `npm run build:wasm` makes, and the probe
 * that tells which one an engine runs (src/web/wasm-module.ts for the
 * page; test/wasm.test.ts asks Node the same). No DOM here: the tests
 * import it under Node's types.
 * @module
 */

/** The simd128 module, as `serve` serves it beside the page. */
export const SIMD128_WASM = 'googlenet-native.wasm32-wasi.wasm'

/** The relaxed-SIMD module. */
export const RELAXED_SIMD_WASM = 'googlenet-native.wasm32-wasi.relaxed-simd.wasm'

/**
 * The smallest module that uses relaxed SIMD: one function returning
 * `f32x4.relaxed_madd` of its three v128 parameters. An engine without
 * relaxed SIMD refuses its opcode (0xfd 0x105) and so the module. (Node's
 * loader carries the same bytes: scripts/wasi-loader-choice.mjs.)
 */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x03, 0x02, 0x01,
  0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
])
