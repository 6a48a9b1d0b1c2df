/**
 * A thread of the engine: napi-rs's thread worker (`wasi-worker-browser.mjs`,
 * which `npm run build:wasm` generates), behind a port to the engine where
 * the page created it (`thread-port.ts`, which must load first).
 * @module
 */
import './thread-port.js'
import '../../wasi-worker-browser.mjs'
