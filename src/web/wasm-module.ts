/**
 * Which WebAssembly module the engine worker loads: `npm run build:wasm`
 * builds the addon twice, with simd128 alone and with relaxed SIMD too,
 * whose `f32x4.relaxed_madd` is one fused multiply-add where the CPU has
 * FMA (the engine's kernels are mostly multiply-adds). Browsers that
 * validate relaxed SIMD (Chromium) get that module, the others (Firefox
 * ESR, where it is behind a preference) the simd128 one. The bundle
 * (tsup.web.config.ts) puts {@link wasmModuleUrl} where napi-rs's browser
 * loader named its one file.
 * @module
 */
import { RELAXED_SIMD_PROBE, RELAXED_SIMD_WASM, SIMD128_WASM } from './wasm-files.js'

/** The URL of the module to load, beside `base` (the loader's own URL). */
export function wasmModuleUrl(base: string): string {
  return new URL(`./${WebAssembly.validate(RELAXED_SIMD_PROBE) ? RELAXED_SIMD_WASM : SIMD128_WASM}`, base).href
}
