/**
 * What `serve` serves, and where it is: the page (bundled into dist-web/ by
 * `npm run build:web`), the WebAssembly build of the addon (the
 * `googlenet-native-wasm32-wasi` package, or the file `npm run build:wasm`
 * leaves in a checkout), the bundled default model and MNIST.
 * @internal
 * @module
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { packageRoot } from '../package-info.js'

/** The file name of the WebAssembly build, in its package and in a checkout. */
export const WASM_FILE = 'googlenet-native.wasm32-wasi.wasm'

/** The same build with relaxed SIMD, beside it: the page loads it where the browser validates relaxed SIMD (src/web/wasm-module.ts). */
export const RELAXED_WASM_FILE = 'googlenet-native.wasm32-wasi.relaxed-simd.wasm'

/** The model the page predicts with unless `--load` names another: googlenet trained by the reference recipe. */
export const DEFAULT_MODEL = join(packageRoot, 'models', 'googlenet-mnist.safetensors')

/** The bundled page: index.html, its script, style and workers. */
export function pageDir(): string {
  const dir = join(packageRoot, 'dist-web')
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`the web page is not built (no ${join(dir, 'index.html')}): run npm run build:wasm, which builds it`)
  }
  return dir
}

/** The WebAssembly build of the addon (`name`: either module): the installed package's, else a checkout's. */
export function wasmFile(name: typeof WASM_FILE | typeof RELAXED_WASM_FILE = WASM_FILE): string {
  const require = createRequire(import.meta.url)
  try {
    return join(dirname(require.resolve('googlenet-native-wasm32-wasi/package.json')), name)
  } catch {
    const local = join(packageRoot, name)
    if (existsSync(local)) return local
    throw new Error(
      'the page needs the WebAssembly build of the addon: install googlenet-native-wasm32-wasi (an optional dependency npm installs by default), or run npm run build:wasm in a checkout',
    )
  }
}
