/**
 * Loads the napi-rs addon. There may be two builds of it at the package
 * root: the CPU build, through the loader that `napi build` generates
 * (`index.js`), and the CUDA build `npm run build:cuda` makes
 * (`googlenet-native.linux-x64-gnu.cuda.node`), which needs the NVIDIA
 * driver and the CUDA 13 libraries to load. The CUDA build is tried first
 * and the CPU build is the fallback; `GOOGLENET_NATIVE_BINARY=cpu` or
 * `=cuda` forces one. Loading is lazy, so `--help` and option errors work
 * even where no addon has been built.
 * @internal
 * @module
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type * as Binding from '../index.js'

export type {
  CancelToken,
  NativeDataset,
  NativeDigitImage,
  NativeEpochSummary,
  NativeEvalResult,
  NativeFolderOptions,
  NativeModel,
  NativeModelInfo,
  NativeProgressEvent,
  ParameterInfo as NativeParameterInfo,
} from '../index.js'

/** util.inspect's hook (`util.inspect.custom`), without importing node:util. */
const inspectCustom = Symbol.for('nodejs.util.inspect.custom')

/** The shape of the generated loader's exports. */
export type NativeBinding = typeof Binding

/** Which build of the addon is loaded, and why the CUDA one is not. */
export interface LoadedBinary {
  /** `wasm`: the WebAssembly build (`npm run build:wasm`), where no native one loads or `NAPI_RS_FORCE_WASI` asks for it. */
  kind: 'cpu' | 'cuda' | 'wasm'
  /** Set when the CUDA build was absent or failed to load. */
  cudaUnavailable?: string
}

/** File name of the CUDA build, beside `index.js`. */
export const CUDA_BINARY = 'googlenet-native.linux-x64-gnu.cuda.node'

let cached: { binding: NativeBinding; binary: LoadedBinary } | undefined

function firstLine(cause: unknown): string {
  return cause instanceof Error ? (cause.message.split('\n')[0] ?? cause.message) : String(cause)
}

function load(): { binding: NativeBinding; binary: LoadedBinary } {
  const require = createRequire(import.meta.url)
  const forced = process.env.GOOGLENET_NATIVE_BINARY
  if (forced !== undefined && forced !== 'cpu' && forced !== 'cuda') {
    throw new Error(`GOOGLENET_NATIVE_BINARY must be cpu or cuda (got ${JSON.stringify(forced)})`)
  }
  let cudaUnavailable = 'this installation has no CUDA build of the addon (npm run build:cuda makes one)'
  const cudaPath = fileURLToPath(new URL(`../${CUDA_BINARY}`, import.meta.url))
  if (forced === 'cpu') {
    cudaUnavailable = 'GOOGLENET_NATIVE_BINARY=cpu chose the CPU build'
  } else if (existsSync(cudaPath)) {
    try {
      return { binding: require(cudaPath) as NativeBinding, binary: { kind: 'cuda' } }
    } catch (cause) {
      cudaUnavailable = `the CUDA build of the addon could not be loaded (${firstLine(cause)}); it needs the NVIDIA driver and the CUDA 13 libraries (cuBLAS, cuRAND, the runtime) on the library path`
      if (forced === 'cuda') throw new Error(cudaUnavailable, { cause })
    }
  }
  if (forced === 'cuda') throw new Error(cudaUnavailable)
  // The WebAssembly build cannot see the host's cores or process id (WASI
  // has neither): it reads Node's from here.
  process.env.GOOGLENET_NATIVE_HOST_THREADS ??= String(availableParallelism())
  process.env.GOOGLENET_NATIVE_HOST_PID = String(process.pid)
  // napi-rs 3.10's loader forces the WebAssembly build for `error` (strict)
  // and `true` only, and quietly ignores the `1` most people write: read 1 as `error`.
  if (process.env.NAPI_RS_FORCE_WASI === '1') process.env.NAPI_RS_FORCE_WASI = 'error'
  try {
    const binding = require('../index.js') as NativeBinding & { __napiBindingTarget?: string }
    const kind = binding.__napiBindingTarget === 'wasm32-wasi' ? 'wasm' : 'cpu'
    return { binding, binary: { kind, cudaUnavailable } }
  } catch (cause) {
    throw new Error(`the googlenet-native addon could not be loaded (${firstLine(cause)}); build it with "npm run build:native"`, {
      cause,
    })
  }
}

/** The native addon, loaded on first use. Throws a readable Error if it cannot be loaded. */
export function nativeBinding(): NativeBinding {
  cached ??= load()
  return cached.binding
}

/** Which build of the addon {@link nativeBinding} loaded (loading it if needed). */
export function loadedBinary(): LoadedBinary {
  cached ??= load()
  return cached.binary
}

/**
 * A frozen object or array whose contents are read from the addon on first
 * use (a property read, `in`, a listing of its keys), so that importing the
 * package, building the CLI and `--help` load no addon. `fill` puts the
 * contents into `empty`, which is then frozen: writes are refused (a
 * `TypeError` in strict code). A first use where the addon cannot load
 * throws its error (and the next use tries again).
 * @internal
 */
export function readOnFirstUse<T extends object>(empty: T, fill: (target: T) => void): T {
  let filled = false
  // util.inspect (console.log) looks at a proxy's target, not through its
  // traps: show it what a first use would see.
  Object.defineProperty(empty, inspectCustom, {
    value: (_depth: number, options: object, inspect: (value: unknown, options: object) => string) =>
      inspect(Array.isArray(ready()) ? [...(empty as unknown[])] : { ...empty }, options),
  })
  const ready = (): T => {
    if (!filled) {
      fill(empty)
      Object.freeze(empty)
      filled = true
    }
    return empty
  }
  // Every trap fills the target first, then acts on it: a frozen target
  // refuses writes by itself, and keeps the proxy's invariants.
  return new Proxy(empty, {
    get: (_, key) => Reflect.get(ready(), key),
    has: (_, key) => Reflect.has(ready(), key),
    ownKeys: () => Reflect.ownKeys(ready()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(ready(), key),
    isExtensible: () => Reflect.isExtensible(ready()),
    preventExtensions: () => Reflect.preventExtensions(ready()),
    set: (_, key, value) => Reflect.set(ready(), key, value),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(ready(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(ready(), key),
    setPrototypeOf: (_, prototype) => Reflect.setPrototypeOf(ready(), prototype),
  })
}
