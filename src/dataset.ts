/**
 * The {@link Dataset} class: labelled images (grey or colour) held in native memory.
 * @module
 */
import { nativeBinding, type NativeDataset } from './native.js'
import { type FolderData, type FolderOptions, loadFolder } from './folder.js'
import { checkInteger, checkOptionsObject } from './options.js'

/** Image size options of {@link Dataset.fromArrays} (grey images). */
export interface ImageSizeOptions {
  /** Image height in pixels; default 28. */
  height?: number
  /** Image width in pixels; default 28. */
  width?: number
}

/** What {@link Dataset.fromArrays} takes in its object form. */
export interface DatasetArrays {
  /** `labels.length × channels × height × width` bytes (0..255): image after image, each image's channels one plane after another (C×H×W), rows top to bottom. */
  images: Uint8Array
  /** One class index per image. */
  labels: Uint8Array
  /** `[channels, height, width]`: channels 1 (grey) or 3 (colour); default `[1, 28, 28]`. */
  shape?: readonly [number, number, number]
  /** One name per class, a label indexing it (at most 256); default `"0"`, `"1"`, … up to the largest label. */
  classNames?: readonly string[]
}

/** Only this module can create datasets. */
const CREATE = Symbol('Dataset.create')

let wrap: (native: NativeDataset) => Dataset
let unwrap: (dataset: Dataset) => NativeDataset

/**
 * Labelled images, grey or colour (bytes 0..255), with the names of their
 * classes, stored in Rust memory. Get one from {@link loadData},
 * {@link loadMnist}, {@link Dataset.fromFolder} or {@link Dataset.fromArrays}.
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
   * Copies images and labels into a new dataset: `fromArrays({ images,
   * labels, shape, classNames })`, or for grey images `fromArrays(images,
   * labels, { height, width })`.
   * @throws TypeError if the arrays are not Uint8Arrays or the names not strings; RangeError on
   *   mismatched sizes, a shape that is not `[1 or 3, height, width]`, a label with no class, or
   *   class names that are empty, repeated or more than 256
   */
  static fromArrays(arrays: DatasetArrays): Dataset
  static fromArrays(images: Uint8Array, labels: Uint8Array, options?: ImageSizeOptions): Dataset
  static fromArrays(first: Uint8Array | DatasetArrays, second?: Uint8Array, options?: ImageSizeOptions): Dataset {
    const arrays: Partial<DatasetArrays> =
      first instanceof Uint8Array || second !== undefined ? arraysOf(first, second, options) : checkOptionsObject('arrays', first)
    const { images, labels, shape = [1, 28, 28], classNames } = arrays
    if (!(images instanceof Uint8Array)) throw new TypeError('images must be a Uint8Array')
    if (!(labels instanceof Uint8Array)) throw new TypeError('labels must be a Uint8Array')
    if (!Array.isArray(shape) || shape.length !== 3) throw new TypeError('shape must be [channels, height, width]')
    const [channels, height, width] = shape
    checkInteger('channels', channels, 1)
    checkInteger('height', height, 1)
    checkInteger('width', width, 1)
    if (classNames !== undefined && (!Array.isArray(classNames) || classNames.some((n) => typeof n !== 'string'))) {
      throw new TypeError('classNames must be an array of strings')
    }
    // The core checks the sizes, the labels and the names (RangeError, its message).
    return wrap(nativeBinding().NativeDataset.fromArrays(images, labels, channels, height, width, classNames ? [...classNames] : undefined))
  }

  /**
   * Loads a folder of labelled images, `root/<class name>/<images>` (PNG,
   * JPEG, BMP, GIF, WebP; classes sorted by name, as torchvision's
   * `ImageFolder`), into a training and a test split: the folder's own
   * `train/` and `test/` when both are there, else `testSplit` (0.1) of each
   * class held out by `splitSeed`. Grey or colour and the image size come
   * from the images unless set; images of another size are resized
   * (bilinear, aspect not kept). Damaged files are skipped and listed
   * (`strict` refuses them). Decoding runs on every core, off the event loop.
   * @throws TypeError/RangeError for bad options; (rejects) Error naming the folder or file when it
   *   is missing or empty, has one class or a class without images, or holds more than 4 GiB decoded
   */
  static fromFolder(root: string, options?: FolderOptions): Promise<FolderData> {
    return loadFolder(root, options)
  }

  /** Number of images. */
  get length(): number {
    return this.#native.length
  }

  /** Channels per image: 1 (grey) or 3 (colour). */
  get channels(): number {
    return this.#native.channels
  }

  /** One name per class; a label indexes it (`"0"`…`"9"` for MNIST, the folder names for an image folder). */
  get classNames(): readonly string[] {
    return Object.freeze(this.#native.classNames)
  }

  /** How many images each class has, in class order. */
  classCounts(): number[] {
    return this.#native.classCounts()
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
   * A copy of image `index`'s pixels (`channels × height × width` bytes, each channel a plane, row-major).
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

/** The object form of the grey-image call `fromArrays(images, labels, { height, width })`. */
function arraysOf(images: unknown, labels: unknown, options: ImageSizeOptions | undefined): DatasetArrays {
  const { height = 28, width = 28 } = checkOptionsObject('options', options)
  return { images: images as Uint8Array, labels: labels as Uint8Array, shape: [1, height, width] }
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
