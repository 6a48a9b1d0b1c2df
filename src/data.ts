/**
 * {@link loadData}: a training and a test split from wherever the user keeps
 * them: an MNIST-format folder of IDX files, four IDX files under any names,
 * or a folder of images in one sub-folder per class.
 * @module
 */
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { addonPath } from './addon-path.js'
import { type Dataset, nativeDataset, wrapNativeDataset } from './dataset.js'
import { type FolderOptions, type SkippedFile, loadFolder } from './folder.js'
import { type MnistData, loadMnist } from './mnist.js'
import { nativeBinding } from './native.js'
import { checkOptionsObject } from './options.js'

/** Four IDX files under any names, each raw or `.gz` (images: grey IDX3 or colour IDX4, N×H×W×C). */
export interface IdxFiles {
  trainImages: string
  trainLabels: string
  testImages: string
  testLabels: string
}

/**
 * Options of {@link loadData}: one of `dir` and `files` (neither: the
 * bundled MNIST), and for a folder of images how to read it.
 */
export interface LoadDataOptions extends FolderOptions {
  /**
   * An MNIST-format folder (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
   * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw or `.gz`),
   * or a folder of images, one sub-folder per class (see {@link Dataset.fromFolder}).
   */
  dir?: string
  /** IDX files under other names. */
  files?: IdxFiles
}

/** What {@link loadData} resolves to. */
export interface LoadedData extends MnistData {
  /** The classes' names, shared by both splits. */
  classNames: readonly string[]
  /** `'idx'` for IDX files, `'folder'` for a folder of images. */
  kind: 'idx' | 'folder'
  /** Files a folder of images left out, with why (none for IDX). */
  skipped: SkippedFile[]
}

const IDX_FILE_KEYS = ['trainImages', 'trainLabels', 'testImages', 'testLabels'] as const

/** Whether `dir` holds the images file of MNIST's `split` under its standard name (raw or `.gz`). */
export function isMnistFolder(dir: string, split: 'train' | 'test' = 'train'): boolean {
  const name = split === 'train' ? 'train-images-idx3-ubyte' : 't10k-images-idx3-ubyte'
  return [name, `${name}.gz`].some((file) => existsSync(join(dir, file)))
}

/**
 * Loads a training and a test split, with the same class names (a test
 * split lacking the last classes takes its training split's). Decoding runs
 * off the event loop.
 * @throws TypeError for options of the wrong type; (rejects) Error naming the folder or file
 *   when one is missing, truncated or corrupt, or holds no images
 */
export async function loadData(options?: LoadDataOptions): Promise<LoadedData> {
  const { dir, files, ...folder } = checkOptionsObject('options', options)
  if (dir !== undefined && files !== undefined) throw new TypeError('give dir or files, not both')
  if (dir !== undefined && typeof dir !== 'string') throw new TypeError('dir must be a string')
  if (dir !== undefined && !isMnistFolder(dir) && isFolder(dir)) {
    const { train, test, classNames, skipped } = await loadFolder(dir, folder)
    return { train, test, classNames, kind: 'folder', skipped }
  }
  const data = files === undefined ? await loadMnist(dir === undefined ? {} : { dir }) : await loadIdxFiles(files)
  return { ...sameClasses(data), kind: 'idx', skipped: [] }
}

/** Whether `path` is a folder (following links). */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

async function loadIdxFiles(files: IdxFiles): Promise<MnistData> {
  const f = checkOptionsObject('files', files)
  for (const key of IDX_FILE_KEYS) {
    if (typeof f[key] !== 'string' || f[key] === '') throw new TypeError(`files.${key} must name a file`)
  }
  const load = (images: string, labels: string): Promise<Dataset> =>
    nativeBinding().loadIdxFiles(addonPath(images), addonPath(labels)).then(wrapNativeDataset)
  const [train, test] = await Promise.all([load(files.trainImages, files.trainLabels), load(files.testImages, files.testLabels)])
  return { train, test }
}

/** Both splits under the longer of their class lists (the core checks that it extends the other). */
function sameClasses({ train, test }: MnistData): MnistData & { classNames: readonly string[] } {
  const names = train.classNames.length >= test.classNames.length ? train.classNames : test.classNames
  const renamed = (d: Dataset): Dataset =>
    d.classNames.length === names.length ? d : wrapNativeDataset(nativeDataset(d, 'dataset').withClassNames([...names]))
  return { train: renamed(train), test: renamed(test), classNames: names }
}

