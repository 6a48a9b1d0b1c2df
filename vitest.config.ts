import { existsSync } from 'node:fs'
import { defineConfig } from 'vitest/config'

/** Settings both projects share. */
const shared = {
  // Native addons must not share a worker-thread pool.
  pool: 'forks' as const,
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 300_000,
  hookTimeout: 300_000,
}

/**
 * The API's suites that run again on the WebAssembly build (forced with
 * NAPI_RS_FORCE_WASI=error in the test processes only: vitest itself loads
 * napi-rs packages that the variable would break). Left out, as the README
 * says why: robustness (a panic traps instead of unwinding, and scripts
 * spawned with the API print Node's WASI warning) and hostile-files (WASI's
 * view of read-only and full disks; test/wasm-hostile.test.ts checks pipes,
 * devices, signals and memory on this build).
 */
const WASM_SUITES = [
  'api',
  'catalog',
  'checkpoint',
  'custom-models',
  'data-errors',
  'evaluate',
  'insight',
  'models',
  'predict',
  'saved',
  'training',
].map((name) => `test/${name}.test.ts`)

/** CI builds the WebAssembly addon (test/wasm.test.ts fails there without it); a checkout may not have. */
const wasmBuilt = existsSync('googlenet-native.wasm32-wasi.wasm')

export default defineConfig({
  test: {
    // Training saturates both cores of the project's machines: run the files
    // one after another so timings (and the event-loop test) stay meaningful.
    fileParallelism: false,
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { test: { ...shared, name: 'native', include: ['test/**/*.test.ts'] } },
      ...(wasmBuilt || process.env.CI
        ? [{ test: { ...shared, name: 'wasm', include: WASM_SUITES, env: { NAPI_RS_FORCE_WASI: 'error' } } }]
        : []),
    ],
  },
})
