/**
 * Loads the napi-rs addon through the loader that `napi build` generates at
 * the package root (`index.js` beside `package.json`). The path is relative
 * to this module, which works both from `src/` and from the bundles in
 * `dist/`. Loading is lazy, so `--help` and option errors work even where the
 * addon has not been built.
 * @internal
 * @module
 */
import { createRequire } from 'node:module'
import type * as Binding from '../index.js'

export type {
  CancelToken,
  NativeDataset,
  NativeEpochSummary,
  NativeEvalResult,
  NativeFitOptions,
  NativeModel,
  NativeProgressEvent,
  ParameterInfo as NativeParameterInfo,
} from '../index.js'

/** The shape of the generated loader's exports. */
export type NativeBinding = typeof Binding

let cached: NativeBinding | undefined

/** The native addon, loaded on first use. Throws a readable Error if it cannot be loaded. */
export function nativeBinding(): NativeBinding {
  if (cached === undefined) {
    const require = createRequire(import.meta.url)
    try {
      cached = require('../index.js') as NativeBinding
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
      throw new Error(
        `the googlenet-native addon could not be loaded (${reason}); build it with "npm run build:native"`,
        { cause },
      )
    }
  }
  return cached
}
