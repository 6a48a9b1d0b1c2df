/**
 * Every path the addon takes crosses into it absolute, resolved here
 * against Node's working folder. The native addon would resolve a relative
 * path against the process's working folder itself; the WebAssembly build
 * cannot: WASI has no working folder, and wasi-libc resolves a relative
 * path against the root that napi-rs's loader preopens ("/"), so that
 * `predict --load m.safetensors digit.png` looked for /digit.png there.
 * @internal
 * @module
 */
import { resolve } from 'node:path'

/** `path`, absolute (relative to the process's working folder), for the addon. */
export function addonPath(path: string): string {
  return resolve(path)
}
