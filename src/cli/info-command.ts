/**
 * The `info` command: what a data folder holds, as training would read it,
 * before anything is trained.
 * @module
 */
import { type Command, Option } from 'commander'
import { isMnistFolder, loadData } from '../data.js'
import { errorMessage } from '../errors.js'
import { type FolderScan, scanFolder } from '../folder.js'
import type { Dataset } from '../dataset.js'
import { addFolderOptions, folderFlags } from './folder-flags.js'
import type { RawFlags } from './flags.js'
import { formatCount, table } from './format.js'
import type { Io } from './io.js'
import { EXIT_FAILURE, UsageError } from './usage-error.js'

const EXAMPLES = `
Examples:
  $ googlenet-native info --data ./my-leaves
  $ googlenet-native info --data ./my-leaves --size 64x64 --channels 3
  $ googlenet-native info --data ./fashion-mnist-idx --json

For a folder of images only the headers are read, so this is quick even for
a large set; what it reports as skipped, training skips too (--strict makes
both refuse it instead).`

/** A byte count in words, in binary units: `52.3 MiB`, `4.0 GiB`. */
function bytesText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  const [unit, scale] = bytes < 2 ** 20 ? ['KiB', 2 ** 10] : bytes < 2 ** 30 ? ['MiB', 2 ** 20] : ['GiB', 2 ** 30]
  return `${(bytes / scale).toFixed(1)} ${unit}`
}

/** A shape in words: `28x28 grey`, `32x32 colour`. */
function shapeText(channels: number, height: number, width: number): string {
  return `${height}x${width} ${channels === 1 ? 'grey' : 'colour'}`
}

/** The per-class table: index and name, training and test images. */
function classTable(names: readonly string[], train: readonly number[], test: readonly number[]): string {
  const rows = names.map((name, i) => [String(i), name, formatCount(train[i] ?? 0), formatCount(test[i] ?? 0)])
  return table([['', 'class', 'train', 'test'], ...rows], 2)
}

/** The text `info` prints for a folder of images. */
export function formatFolderScan(scan: FolderScan): string {
  const trainTotal = scan.trainCounts.reduce((a, b) => a + b, 0)
  const testTotal = scan.testCounts.reduce((a, b) => a + b, 0)
  const split =
    scan.layout === 'splits'
      ? 'its own train/ and test/ folders'
      : `${((scan.testSplit ?? 0) * 100).toFixed(0)} % of each class held out for testing`
  const sizes = scan.sizes.map((s) => `${s.height}x${s.width} (${formatCount(s.count)})`).join(', ')
  const resized = scan.sizes.some((s) => s.height !== scan.height || s.width !== scan.width)
  const lines = [
    `${scan.root}: a folder of images, ${scan.classNames.length} classes, ${split}`,
    `images: ${formatCount(trainTotal)} training, ${formatCount(testTotal)} test, read as ${shapeText(scan.channels, scan.height, scan.width)}` +
      ` (${formatCount(scan.colourImages)} of them in colour)`,
    `sizes: ${sizes}${resized ? `; the others are resized to ${scan.height}x${scan.width}` : ''}`,
    `memory: ${formatCount(scan.bytesPerImage)} bytes per image, ${bytesText(scan.bytes)} in all (at most ${bytesText(scan.maxBytes)})`,
    '',
    classTable(scan.classNames, scan.trainCounts, scan.testCounts),
  ]
  if (scan.skipped.length > 0) {
    lines.push('', `skipped ${scan.skipped.length} file${scan.skipped.length === 1 ? '' : 's'}:`)
    lines.push(...scan.skipped.map((s) => `  ${s.path}: ${s.reason}`))
  }
  return `${lines.join('\n')}\n`
}

/** The text `info` prints for IDX data. */
function formatIdx(source: string, train: Dataset, test: Dataset): string {
  return [
    `${source}: IDX files, ${train.classNames.length} classes`,
    `images: ${formatCount(train.length)} training, ${formatCount(test.length)} test, ${shapeText(train.channels, train.height, train.width)}`,
    '',
    classTable(train.classNames, train.classCounts(), test.classCounts()),
    '',
  ].join('\n')
}

/** Adds `info` to `program`; `done` receives the exit status. */
export function addInfoCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const command = program
    .command('info')
    .description('describe a data folder as training would read it: classes, counts per class, sizes, channels, what would be skipped')
    .addOption(new Option('--data <dir>', 'an MNIST-format folder of IDX files, or a folder of images in one sub-folder per class'))
  return addFolderOptions(command)
    .addOption(new Option('--json', 'print one JSON object'))
    .addHelpText('after', EXAMPLES)
    .action(async (raw: RawFlags) => {
      if (typeof raw.data !== 'string' || raw.data === '') throw new UsageError('info needs --data <dir>: the folder to describe')
      const folder = folderFlags(raw)
      const dir = raw.data
      try {
        if (isMnistFolder(dir)) {
          const { train, test } = await loadData({ dir })
          const json = { kind: 'idx', classNames: train.classNames, trainCounts: train.classCounts(), testCounts: test.classCounts(), channels: train.channels, height: train.height, width: train.width }
          io.stdout.write(raw.json === true ? `${JSON.stringify(json)}\n` : formatIdx(dir, train, test))
        } else {
          const scan = await scanFolder(dir, folder)
          io.stdout.write(raw.json === true ? `${JSON.stringify({ kind: 'folder', ...scan })}\n` : formatFolderScan(scan))
        }
        done(0)
      } catch (error) {
        io.stderr.write(`error: ${errorMessage(error)}\n`)
        done(EXIT_FAILURE)
      }
    })
}
