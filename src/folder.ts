/**
 * Folders of labelled images, laid out as torchvision's `ImageFolder` reads
 * them: {@link Dataset.fromFolder} loads one, {@link scanFolder} reads only
 * its headers (what `info --data DIR` prints).
 * @module
 */
import { addonPath } from './addon-path.js'
import { type Dataset, wrapNativeDataset } from './dataset.js'
import { type NativeFolderOptions, nativeBinding } from './native.js'
import { checkOptions, checkOptionsObject } from './options.js'
import type { FolderSettings } from './types.js'

/** Options of {@link Dataset.fromFolder} and {@link scanFolder}: the core's {@link FolderSettings}, and progress. */
export interface FolderOptions extends FolderSettings {
  /** Hears how many images are decoded so far, of how many (at most every 100 ms, and at the end). */
  onProgress?: (done: number, total: number) => void
}

/** A file left out of a folder, and why ("damaged image: …", "not an image file"). */
export interface SkippedFile {
  path: string
  reason: string
}

/** What {@link Dataset.fromFolder} resolves to. */
export interface FolderData {
  train: Dataset
  test: Dataset
  /** The class folders' names, sorted; a label indexes them. */
  classNames: readonly string[]
  /** `'splits'`: the folder's own `train/` and `test/`; `'held-out'`: `testSplit` of each class held out by `splitSeed`. */
  layout: 'splits' | 'held-out'
  /** Files left out; with `strict` the load is refused instead. */
  skipped: SkippedFile[]
}

/** What {@link scanFolder} finds, without decoding a pixel. */
export interface FolderScan {
  root: string
  classNames: readonly string[]
  layout: 'splits' | 'held-out'
  /** The share of each class held out, for `'held-out'`. */
  testSplit?: number
  /** Per class, its training and test images. */
  trainCounts: number[]
  testCounts: number[]
  /** Image sizes in the folder, most common first. */
  sizes: { height: number; width: number; count: number }[]
  /** Images whose colour type has colour (RGB, RGBA, palette). */
  colourImages: number
  /** What the images will be: channels, height, width (as set, or from the images). */
  channels: number
  height: number
  width: number
  /** Bytes one decoded image takes (channels × height × width), and the whole set. */
  bytesPerImage: number
  bytes: number
  /** The most a folder may decode to (4 GiB): a larger set is refused before decoding. */
  maxBytes: number
  skipped: SkippedFile[]
}

/** The folder options for the addon, checked by the core's rules. */
function nativeOptions(options: FolderOptions | undefined): NativeFolderOptions {
  const o = checkOptionsObject('options', options)
  checkOptions('folder', o)
  if ((o.height === undefined) !== (o.width === undefined)) throw new TypeError('height and width go together: give both or neither')
  const { testSplit, splitSeed, channels, height, width, strict } = o
  return { testSplit, splitSeed, channels, height, width, strict }
}

/**
 * Loads a folder of labelled images, `root/<class>/<images>` (PNG, JPEG,
 * BMP, GIF, WebP), with `root/train/` and `root/test/` as the splits when
 * both are there, else `testSplit` of each class held out. Decoding runs
 * on every core, off the event loop. See the data manual (docs/data.md) for
 * every rule.
 * @throws TypeError/RangeError for bad options; (rejects) Error naming the folder or file that is
 *   missing, empty, has one class or an image-less class, or a damaged image with `strict`
 * @internal Reached as {@link Dataset.fromFolder}.
 */
export async function loadFolder(root: string, options?: FolderOptions): Promise<FolderData> {
  if (typeof root !== 'string' || root === '') throw new TypeError('root must name a folder')
  const onProgress = checkOptionsObject('options', options).onProgress
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('onProgress must be a function')
  // Events come from worker threads, and may be queued behind the promise's
  // settling: those after it are dropped, and the last one (every image
  // decoded) is made sure of here.
  let settled = false
  let last: { done: number; total: number } | undefined
  const listen =
    onProgress === undefined
      ? undefined
      : (p: { done: number; total: number }) => {
          if (settled || (last !== undefined && p.done <= last.done)) return
          last = p
          onProgress(p.done, p.total)
        }
  const folder = await nativeBinding()
    .loadImageFolder(addonPath(root), nativeOptions(options), listen)
    .finally(() => {
      settled = true
    })
  if (onProgress !== undefined && last !== undefined && last.done < last.total) onProgress(last.total, last.total)
  const train = wrapNativeDataset(folder.train)
  return {
    train,
    test: wrapNativeDataset(folder.test),
    classNames: train.classNames,
    layout: folder.layout as FolderData['layout'],
    skipped: folder.skipped,
  }
}

/**
 * Reads the headers of a folder of images, as {@link Dataset.fromFolder}
 * would: its classes, counts per class and split, image sizes, channels,
 * the memory the set would take, and what would be skipped, without
 * decoding a pixel.
 * @throws TypeError/RangeError for bad options; (rejects) Error naming what {@link Dataset.fromFolder} would refuse
 */
export async function scanFolder(root: string, options?: FolderSettings): Promise<FolderScan> {
  if (typeof root !== 'string' || root === '') throw new TypeError('root must name a folder')
  const scan = await nativeBinding().scanImageFolder(addonPath(root), nativeOptions(options))
  return { ...scan, layout: scan.layout as FolderScan['layout'], testSplit: scan.testSplit ?? undefined }
}
