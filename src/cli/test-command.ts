/**
 * The `test` command: a saved model's accuracy on a test split, per class
 * and as a confusion matrix, optionally with an HTML report.
 * @module
 */
import { resolve } from 'node:path'
import { type Command, Option } from 'commander'
import { errorMessage } from '../errors.js'
import { isMnistFolder, loadData } from '../data.js'
import type { Dataset } from '../dataset.js'
import { loadMnistSplit } from '../mnist.js'
import { Model } from '../model.js'
import { checkOutputFile } from '../output-file.js'
import { checkDistinctFiles } from './distinct-files.js'
import { testReport } from '../report/from-run.js'
import { writeReport } from '../report/render.js'
import type { DetailedEvaluation, Device, FolderSettings } from '../types.js'
import { addFolderOptions, folderFlags } from './folder-flags.js'
import { type RawFlags, checkFlag } from './flags.js'
import { formatCount, table } from './format.js'
import type { Io } from './io.js'
import { EXIT_FAILURE, UsageError } from './usage-error.js'
import { deviceOption, schemaFlags, schemaOption } from './schema-flags.js'
import { optionSpec } from '../options.js'

const EXAMPLES = `
Examples:
  $ googlenet-native test --load model.safetensors
  $ googlenet-native test --load model.safetensors --json | jq .perClass
  $ googlenet-native test --load model.safetensors --report test.html

The confusion matrix counts test images by true class (rows) and predicted
class (columns, by index); the diagonal holds the correct ones. Classes are
named as the model names them: digits 0..9, or the training folder's names.`

/** A class as the tables show it: its index, and its name where that says more ("1 Trouser"). */
export function classLabel(label: number, name: string): string {
  return name === String(label) ? name : `${label} ${name}`
}

/** The text output: accuracy, a per-class table and the confusion matrix. */
export function formatEvaluation(e: DetailedEvaluation): string {
  const perClass = table(
    [
      ['class', 'correct', 'total', 'accuracy'],
      ...e.perClass.map((c) => [classLabel(c.label, c.name), formatCount(c.correct), formatCount(c.total), `${(100 * c.accuracy).toFixed(2)} %`]),
    ],
    1,
  )
  const indices = e.confusion.map((_, i) => String(i))
  const confusion = table([['true\\pred', ...indices], ...e.confusion.map((row, i) => [String(i), ...row.map(String)])], 1)
  return (
    `test accuracy ${(100 * e.accuracy).toFixed(2)} % [${e.correct}/${e.total}], mean loss ${e.loss.toFixed(4)}\n\n` +
    `${perClass}\n\nconfusion matrix (rows: true class, columns: predicted, by index)\n${confusion}\n`
  )
}

/**
 * The test split of `--data`: of an MNIST-format folder (the bundled MNIST
 * when none), read alone; of a folder of images, as `train` splits it.
 */
async function testSplit(dir: unknown, folder: FolderSettings): Promise<Dataset> {
  if (typeof dir !== 'string' || isMnistFolder(dir, 'test')) return loadMnistSplit('test', typeof dir === 'string' ? { dir } : {})
  return (await loadData({ dir, ...folder })).test
}

/** Adds `test` to `program`; `done` receives the exit status. */
export function addTestCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const command = program
    .command('test')
    .description('evaluate a saved model on a test split: accuracy, per-class accuracy and the confusion matrix')
    .addOption(new Option('--load <file>', 'the model file (written by train --save or Model.save, or a PyTorch state_dict)'))
    .addOption(new Option('--data <dir>', 'MNIST-format folder of IDX files, or a folder of images (its test split, as train reads it; default: the bundled MNIST)'))
  return addFolderOptions(command)
    .addOption(schemaOption(optionSpec('data', 'testLimit')))
    .addOption(schemaOption(optionSpec('evaluate', 'batchSize')))
    .addOption(deviceOption())
    .addOption(new Option('--report <file>', 'also write an HTML report: confusion heat map and misclassified digits'))
    .addOption(new Option('--json', 'print one JSON object {"accuracy","correct","total","loss","perClass","confusion"}'))
    .addHelpText('after', EXAMPLES)
    .action(async (raw: RawFlags) => {
      if (typeof raw.load !== 'string' || raw.load === '') throw new UsageError('test needs --load <file>: the model to evaluate')
      if (raw.report !== undefined && (typeof raw.report !== 'string' || raw.report === '')) throw new UsageError('--report must name a file')
      const report = raw.report
      if (typeof report === 'string') {
        checkDistinctFiles([{ flag: '--load', path: raw.load }], [{ flag: '--report', path: report }])
        checkFlag('--report', () => checkOutputFile(report))
      }
      const { testLimit } = schemaFlags(raw, 'data') as { testLimit?: number }
      const folder = folderFlags(raw)
      const { batchSize } = schemaFlags(raw, 'evaluate') as { batchSize?: number }
      try {
        const model = await Model.load(raw.load, { device: raw.device as Device })
        const all = await testSplit(raw.data, folder)
        const test = testLimit === undefined ? all : all.take(testLimit)
        const started = performance.now()
        const evaluation = await model.evaluate(test, { confusion: true, ...(batchSize === undefined ? {} : { batchSize }) })
        const seconds = (performance.now() - started) / 1000
        if (raw.json === true) {
          const { predictions: _, ...summary } = evaluation
          io.stdout.write(`${JSON.stringify(summary)}\n`)
        } else {
          io.stdout.write(`${model.name} from ${resolve(raw.load)} on ${test.length} test images (${model.device})\n`)
          io.stdout.write(formatEvaluation(evaluation))
        }
        if (typeof raw.report === 'string') {
          await writeReport(raw.report, await testReport(model, test, evaluation, resolve(raw.load), seconds))
          io.stderr.write(`wrote the report to ${resolve(raw.report)}\n`)
        }
        done(0)
      } catch (error) {
        io.stderr.write(`error: ${errorMessage(error)}\n`)
        done(EXIT_FAILURE)
      }
    })
}
