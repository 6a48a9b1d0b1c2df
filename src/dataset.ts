/**
 * The {@link Dataset} class: labelled grayscale images held in native memory.
 * @module
 */
import { nativeBinding, type NativeDataset } from './native.js'
import { checkInteger, checkOptionsObject } from './options.js'

/** Image size options of {@link Dataset.fromArrays}. */
export interface ImageSizeOptions {
  /** Image height in pixels; default 28. */
  height?: number
  /** Image width in pixels; default 28. */
  width?: number
}

/** Number of classes (digits 0..9). */
export const NUM_CLASSES = 10

/** Only this module can create datasets. */
const CREATE = Symbol('Dataset.create')

let wrap: (native: NativeDataset) => Dataset
let unwrap: (dataset: Dataset) => NativeDataset

/**
 * Labelled grayscale images (bytes 0..255, labels 0..9), stored in Rust
 * memory. Get one from {@link loadMnist} or {@link Dataset.fromArrays}.
 */
export class Dataset {
  readonly #native: NativeDataset

  private constructor(token: symbol, native: NativeDataset) {
    if (token !== CREATE) throw new TypeError('Dataset has no public constructor: use Dataset.fromArrays() or loadMnist()')
    this.#native = native
  }

  static {
    wrap = (native) => new Dataset(CREATE, native)
    unwrap = (dataset) => dataset.#native
  }

  /**
   * Copies images and labels into a new dataset.
   * @param images - `labels.length × height × width` bytes, image after image, row-major
   * @param labels - one class (0..9) per image
   * @throws TypeError if the arrays are not Uint8Arrays; RangeError on mismatched sizes or a label above 9
   */
  static fromArrays(images: Uint8Array, labels: Uint8Array, options?: ImageSizeOptions): Dataset {
    const { height = 28, width = 28 } = checkOptionsObject('options', options)
    if (!(images instanceof Uint8Array)) throw new TypeError('images must be a Uint8Array')
    if (!(labels instanceof Uint8Array)) throw new TypeError('labels must be a Uint8Array')
    checkInteger('height', height, 1)
    checkInteger('width', width, 1)
    // The core checks the sizes and the labels (RangeError, its message).
    return wrap(nativeBinding().NativeDataset.fromArrays(images, labels, height, width))
  }

  /** Number of images. */
  get length(): number {
    return this.#native.length
  }

  /** Image height in pixels. */
  get height(): number {
    return this.#native.height
  }

  /** Image width in pixels. */
  get width(): number {
    return this.#native.width
  }

  /**
   * Where the images came from, for messages about them: the IDX file for
   * a split of {@link loadMnist} (`/data/t10k-images-idx3-ubyte`), or `the
   * first 100 images of /data/t10k-images-idx3-ubyte` after `take(100)`;
   * undefined for {@link Dataset.fromArrays}.
   */
  get source(): string | undefined {
    return this.#native.source ?? undefined
  }

  /**
   * A copy of image `index`'s pixels (`height × width` bytes, row-major).
   * @throws RangeError unless `index` is an integer in `[0, length)`
   */
  image(index: number): Uint8Array {
    checkInteger('index', index, 0, this.length - 1)
    return new Uint8Array(this.#native.image(index))
  }

  /** A copy of every label, in order. */
  labels(): Uint8Array {
    return new Uint8Array(this.#native.labels())
  }

  /**
   * The first `count` images (all of them if `count >= length`) as a new
   * dataset, whose {@link Dataset.source} names the same file.
   * @throws RangeError unless `count` is an integer in `[0, MAX_COUNT]`
   */
  take(count: number): Dataset {
    checkInteger('count', count, 0)
    return wrap(this.#native.take(count))
  }
}

/** Wraps a native dataset. @internal */
export function wrapNativeDataset(native: NativeDataset): Dataset {
  return wrap(native)
}

/**
 * The native dataset behind `dataset`.
 * @param name - the argument's name, for the TypeError thrown when it is not a Dataset
 * @internal
 */
export function nativeDataset(dataset: unknown, name: string): NativeDataset {
  if (!(dataset instanceof Dataset)) throw new TypeError(`${name} must be a Dataset`)
  return unwrap(dataset)
}
