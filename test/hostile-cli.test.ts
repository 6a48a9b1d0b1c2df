/**
 * Hostile and careless input to the CLI and the API (issue 12): integers past
 * the addon's 32-bit range, trace sizes, errors that must name their file,
 * empty test splits, runs that learn nothing, and SIGTERM, SIGHUP and Ctrl-C
 * during `train` and `compare`.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { Dataset, benchmark, compareModels, createModel, loadMnist, traceShapes, train } from '../dist/index.js'
import { formatCompareStopped } from '../src/cli/compare-command.js'
import { STOP_SIGNALS } from '../src/cli/signals.js'
import { LOSS_MARGIN, chanceAccuracy, trainingWarnings, uniformLoss } from '../src/warnings.js'
import type { EpochRecord } from '../src/types.js'
import { Fixtures, STACK_OR_PANIC, idxImages, idxLabels, lines, mnistSample, runCli, runMain, validFiles } from './helpers.js'

const fixtures = new Fixtures()
afterAll(() => fixtures.cleanup())
const valid = fixtures.folder('valid', validFiles())
const gzipped = (() => {
  const { 'train-images-idx3-ubyte': images, ...rest } = validFiles()
  return fixtures.folder('gzipped', { ...rest, 'train-images-idx3-ubyte.gz': gzipSync(images as Buffer) })
})()
/** 2,000 training and 200 test images of MNIST. */
const slice = fixtures.folder('slice', sliceFiles(2000, 200))

const run = runMain

const U32 = 'an integer in \\[1, 4294967295\\]'

describe('integers past 2^32 - 1 are usage errors, not wrapped around', () => {
  it.each([
    [['train', '--model', 'lenet5', '--limit', '4294967496'], `--limit must be ${U32} \\(got 4294967496\\)`],
    [['train', '--model', 'lenet5', '--epochs', '4294967297'], `--epochs must be ${U32} \\(got 4294967297\\)`],
    [['train', '--model', 'lenet5', '--test-limit', '4294967396'], `--test-limit must be ${U32} \\(got 4294967396\\)`],
    [['train', '--batch-size', '4294967296'], `--batch-size must be an integer in \\[1, 1024\\] \\(got 4294967296\\)`],
    [['train', '--log-every', '1e10'], `--log-every must be ${U32} \\(got 1e10\\)`],
    [['test', '--load', 'nowhere.safetensors', '--test-limit', '4294967296'], `--test-limit must be ${U32}`],
    [['bench', '--batch-size', '4294967296'], `--batch-size must be an integer in \\[1, 1024\\]`],
    [['bench', '--batches', '4294967296'], `--batches must be ${U32}`],
    [['bench', '--warmup', '4294967296'], '--warmup must be an integer in \\[0, 4294967295\\]'],
    [['compare', '--epochs', '4294967297'], `--epochs must be ${U32}`],
    [['compare', '--limit', '4294967296'], `--limit must be ${U32}`],
    [['cost', '--kernel', '4294967296'], `--kernel must be ${U32}`],
  ])('%j', async (args, message) => {
    const r = await run(args)
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(new RegExp(`^error: ${message}`))
    expect(r.stdout).toBe('')
  })

  // Each run would fail later, on its missing file, if the flag were taken.
  it.each([
    [['train', '--epochs', '0x10', '--data', '/nonexistent'], `--epochs must be ${U32} \\(got 0x10\\)`],
    [['train', '--limit', '1e3', '--data', '/nonexistent'], `--limit must be ${U32} \\(got 1e3\\)`],
    [['train', '--seed', ' 12', '--data', '/nonexistent'], '--seed must be an integer in \\[0, 4294967295\\] \\(got  12\\)'],
    [['train', '--batch-size', '+5', '--data', '/nonexistent'], '--batch-size must be an integer in \\[1, 1024\\] \\(got \\+5\\)'],
    [['train', '--warmup-epochs', '1.0', '--data', '/nonexistent'], '--warmup-epochs must be an integer in \\[0, 4294967295\\] \\(got 1.0\\)'],
    [['train', '--lr', '0x10', '--data', '/nonexistent'], '--lr must be a finite number > 0 \\(got 0x10\\)'],
    [['test', '--load', '/nonexistent', '--test-limit', '0b11'], `--test-limit must be ${U32} \\(got 0b11\\)`],
    [['cost', '--kernel', '0o7'], `--kernel must be ${U32} \\(got 0o7\\)`],
    [['serve', '--port', '0x50', '--load', '/nonexistent'], '--port must be an integer in \\[0, 65535\\] \\(got 0x50\\)'],
  ])('integer flags take plain decimal digits only: %j', async (args, message) => {
    const r = await run(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(new RegExp(`^error: ${message}\n$`))
    expect(r.stdout).toBe('')
  })

  it('fractional flags still take decimal and exponent notation', async () => {
    const r = await run(['train', '--lr', '1e-3', '--momentum', '.5', '--data', '/nonexistent'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error: .*\/nonexistent/)
  })

  it('still takes the largest count, 2^32 - 1, as "all of them"', async () => {
    const r = await run(['train', '--model', 'lenet5', '--data', valid, '--epochs', '1', '--limit', '4294967295', '--test-limit', '4294967295'])
    expect(r.stderr).not.toMatch(/^error/m)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^training lenet5 .*: 64 training images, 32 test images$/m)
  })

  it('the API throws a RangeError instead of wrapping around', async () => {
    const { images, labels } = mnistSample(8)
    const data = Dataset.fromArrays(images, labels)
    expect(() => data.take(2 ** 32 + 5)).toThrow(new RangeError('count must be an integer in [0, 4294967295] (got 4294967301)'))
    expect(data.take(2 ** 32 - 1).length).toBe(8)
    expect(() => data.image(2 ** 32)).toThrow(RangeError)
    expect(() => Dataset.fromArrays(images, labels, { height: 2 ** 32 + 28 })).toThrow('height must be an integer in [1, 4294967295]')
    const model = createModel('lenet5')
    const tooMany = expect(model.fit(data, { epochs: 2 ** 32 + 1 })).rejects
    await tooMany.toThrow(RangeError)
    await tooMany.toThrow('epochs must be an integer in [1, 4294967295] (got 4294967297)')
    await expect(model.fit(data, { batchSize: 2 ** 32 })).rejects.toThrow(RangeError)
    await expect(model.fit(data, { logEvery: 2 ** 53 })).rejects.toThrow(RangeError)
    await expect(model.evaluate(data, { batchSize: 2 ** 32 + 1 })).rejects.toThrow(RangeError)
    expect(model.epochsTrained).toBe(0)
    await expect(train({ model: 'lenet5', limit: 2 ** 32 + 200 })).rejects.toThrow('limit must be an integer in [1, 4294967295]')
    await expect(train({ model: 'lenet5', testLimit: 2 ** 32 })).rejects.toThrow('testLimit must be an integer in [1, 4294967295]')
    await expect(compareModels({ models: ['lenet5'], epochs: 2 ** 32 + 1 })).rejects.toThrow(RangeError)
    await expect(benchmark({ model: 'lenet5', batches: 2 ** 32 })).rejects.toThrow(RangeError)
  })
})

describe('trace sizes', () => {
  it('refuses --height and --width outside [1, 4096] alike, with exit 2', async () => {
    for (const args of [
      ['--height', '100000'],
      ['--height', '0'],
      ['--width', '4097'],
    ]) {
      const r = await run(['trace', '--model', 'lenet5', ...args])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(/^error: --(height|width) must be an integer in \[1, 4096\] \(got \d+\)\n$/)
    }
    expect(() => traceShapes('lenet5', { height: 100000 })).toThrow('height must be an integer in [1, 4096] (got 100000)')
  })

  it('gives the shape error of the layer, with exit 2, for inputs too small for the pools (no panic)', async () => {
    for (const [model, side, layer] of [
      ['lenet5', '1', 'pool1'],
      ['googlenet', '5', 'pool1'],
      ['residual', '5', 'pool1'],
    ] as const) {
      const r = await run(['trace', '--model', model, '--height', side, '--width', side])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(new RegExp(`^error: layer ${layer} \\(2×2 max pool\\) takes N×\\d+×H×W with H, W ≥ 2, got \\[1, \\d+, \\d, \\d\\]\n$`))
      expect(r.stderr).not.toContain('internal error')
    }
    expect(() => traceShapes('lenet5', { height: 1, width: 1 })).toThrow(/^layer pool1 \(2×2 max pool\)/)
  })
})

describe('datasets know where they came from, and errors name it', () => {
  /** A folder whose images are 32×32. */
  const wide = (() => {
    const pixels = new Uint8Array(64 * 32 * 32)
    const { labels } = mnistSample(64)
    const test = mnistSample(32, 't10k')
    return fixtures.folder('wide', {
      'train-images-idx3-ubyte': idxImages(pixels, 64, 32, 32),
      'train-labels-idx1-ubyte': idxLabels(labels),
      't10k-images-idx3-ubyte': idxImages(test.images, 32),
      't10k-labels-idx1-ubyte': idxLabels(test.labels),
    })
  })()

  it('gives the IDX file (raw or .gz), keeps it through take, and none for arrays', async () => {
    const { train: trainSet, test } = await loadMnist({ dir: valid })
    expect(trainSet.source).toBe(join(valid, 'train-images-idx3-ubyte'))
    expect(test.take(10).source).toBe(`the first 10 images of ${join(valid, 't10k-images-idx3-ubyte')}`)
    expect(test.take(10).take(3).source).toBe(`the first 3 images of ${join(valid, 't10k-images-idx3-ubyte')}`)
    expect(test.take(1000).source).toBe(join(valid, 't10k-images-idx3-ubyte'))
    const { train: fromGz } = await loadMnist({ dir: gzipped })
    expect(fromGz.source).toBe(join(gzipped, 'train-images-idx3-ubyte.gz'))
    const { images, labels } = mnistSample(4)
    expect(Dataset.fromArrays(images, labels).source).toBeUndefined()
  })

  it('names the file in size and emptiness errors of the API', async () => {
    const model = createModel('lenet5')
    const { train: trainSet, test } = await loadMnist({ dir: wide })
    const file = join(wide, 'train-images-idx3-ubyte')
    await expect(model.fit(trainSet)).rejects.toThrow(`model "lenet5" takes 28x28 images (got 32x32 from ${file})`)
    await expect(model.fit(test.take(0))).rejects.toThrow(`train (the first 0 images of ${join(wide, 't10k-images-idx3-ubyte')}) must not be empty`)
    await expect(model.evaluate(test.take(0))).rejects.toThrow(/^dataset \(the first 0 images of .*t10k-images-idx3-ubyte\) must not be empty$/)
    // An empty validation set used to give "0/0" after every epoch.
    const none = Dataset.fromArrays(new Uint8Array(0), new Uint8Array(0))
    const fitNone = () => model.fit(test, { validation: none })
    await expect(fitNone()).rejects.toThrow(RangeError)
    await expect(fitNone()).rejects.toThrow('validation must not be empty')
    expect(model.epochsTrained).toBe(0)
  })

  it('names the file when train --data has a test split of another size than its training split', async () => {
    // The model is made for the training images (32×32); the test images are 28×28.
    const r = await run(['train', '--model', 'lenet5', '--data', wide, '--epochs', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`error: model "lenet5" takes 32x32 images (got 28x28 from ${join(wide, 't10k-images-idx3-ubyte')})\n`)
  })
})

describe('an empty test split is a data error naming its file', () => {
  const empty = fixtures.folder('empty-test', {
    ...validFiles(),
    't10k-images-idx3-ubyte': idxImages(new Uint8Array(0), 0),
    't10k-labels-idx1-ubyte': idxLabels(new Uint8Array(0)),
  })
  const message = `error: ${join(empty, 't10k-images-idx3-ubyte')}: holds no images: the test split must not be empty\n`

  it('in train', async () => {
    const r = await run(['train', '--model', 'lenet5', '--data', empty, '--epochs', '1'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(message)
    expect(r.stdout).not.toMatch(/accuracy/)
  })

  it('in test', async () => {
    const file = join(fixtures.root, 'fresh.safetensors')
    await createModel('lenet5').save(file)
    const r = await run(['test', '--load', file, '--data', empty])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(message)
    expect(r.stdout).toBe('')
  })

  it('in the API', async () => {
    await expect(loadMnist({ dir: empty })).rejects.toThrow(message.slice('error: '.length, -1))
  })
})

describe('runs that learn nothing end with a warning', () => {
  const record = (epoch: number, loss: number, testAccuracy?: number): EpochRecord => ({
    epoch,
    loss,
    seconds: 1,
    trainImagesPerSec: 1000,
    ...(testAccuracy === undefined ? {} : { testAccuracy }),
  })

  it('applies each documented rule, and is silent on a healthy run', () => {
    expect(chanceAccuracy(10)).toBeCloseTo(0.15, 12)
    expect(chanceAccuracy(20)).toBeCloseTo(0.075, 12)
    expect(uniformLoss(10)).toBeCloseTo(2.302585, 6)
    expect(LOSS_MARGIN).toBe(1.05)
    expect(trainingWarnings([record(1, 0.9, 0.8), record(2, 0.4, 0.9)], 10)).toEqual([])
    expect(trainingWarnings([], 10)).toEqual([])
    // No validation set: no accuracy to judge.
    expect(trainingWarnings([record(1, 1.0)], 10)).toEqual([])
    const [chance, ...none] = trainingWarnings([record(1, 2.2, 0.098)], 10)
    expect(none).toEqual([])
    expect(chance).toBe(
      'test accuracy 9.80 % after epoch 1 is at chance level (10.00 % for 10 classes): the model has not learned; check the learning rate, the epochs and the data',
    )
    expect(trainingWarnings([record(1, 2.2, 0.15)], 10)).toHaveLength(1)
    expect(trainingWarnings([record(1, 2.2, 0.16)], 10)).toEqual([])
    expect(trainingWarnings([record(1, 0.5, 0.9), record(2, 0.7, 0.9), record(3, 0.6, 0.9)], 10)).toEqual([
      'the training loss grew from 0.5000 in epoch 1 to 0.7000 in epoch 2: the learning rate may be too high',
    ])
    // Within the 5 % margin: noise, not growth.
    expect(trainingWarnings([record(1, 0.5, 0.9), record(2, 0.52, 0.9)], 10)).toEqual([])
    expect(trainingWarnings([record(1, 2.41, 0.5)], 10)).toEqual([])
    expect(trainingWarnings([record(3, 2.9, 0.5)], 10)).toEqual([
      "the training loss of epoch 3 (2.9000) is above a uniform guess's (2.3026): the learning rate may be too high",
    ])
    // A huge first epoch, then a second that only looks better by comparison.
    expect(trainingWarnings([record(1, 6624.4, 0.14), record(2, 2.5, 0.085)], 10)).toHaveLength(3)
  })

  /** The issue's `train --lr 7`, on 2,000 images: the loss explodes in epoch 1, then the model guesses. */
  const hugeLr = ['--model', 'lenet5', '--data', slice, '--epochs', '2', '--lr', '7']

  it('returns the warnings in the history of a fit at a huge learning rate', async () => {
    const { train: trainSet, test } = await loadMnist({ dir: slice })
    const history = await createModel('lenet5').fit(trainSet, { epochs: 2, lr: 7, validation: test })
    expect(history.testAccuracy).toBeLessThanOrEqual(chanceAccuracy(10))
    expect(history.warnings).toEqual(trainingWarnings(history.epochs, 10))
    expect(history.warnings.some((w) => /^the training loss of epoch 1 \(\d+\.\d{4}\) is above a uniform guess's/.test(w))).toBe(true)
    expect(history.warnings.at(-1)).toMatch(/^test accuracy [\d.]+ % after epoch 2 is at chance level/)
    const sane = await createModel('lenet5').fit(trainSet, { epochs: 2, batchSize: 16, validation: test })
    expect(sane.testAccuracy).toBeGreaterThan(0.5)
    expect(sane.warnings).toEqual([])
  })

  it('prints them as "warning:" lines on stderr, and in the JSON done line', async () => {
    const text = await run(['train', ...hugeLr])
    expect(text.code).toBe(0)
    const warnings = lines(text.stderr)
    expect(warnings.length).toBeGreaterThan(0)
    for (const line of warnings) expect(line).toMatch(/^warning: /)
    expect(text.stderr).toMatch(/^warning: test accuracy [\d.]+ % after epoch 2 is at chance level/m)

    const json = await run(['train', ...hugeLr, '--json', '--quiet'])
    expect(json.code).toBe(0)
    const done = JSON.parse(lines(json.stdout).at(-1) ?? '') as { type: string; warnings: string[] }
    expect(done.type).toBe('done')
    expect(done.warnings.map((w) => `warning: ${w}`)).toEqual(lines(json.stderr))
    expect(done.warnings.length).toBeGreaterThan(0)
  })
})

/** An MNIST-format folder's files with the first `trainCount` training and `testCount` test images. */
function sliceFiles(trainCount: number, testCount: number): Record<string, Buffer> {
  const trainSlice = mnistSample(trainCount)
  const testSlice = mnistSample(testCount, 't10k')
  return {
    'train-images-idx3-ubyte': idxImages(trainSlice.images, trainCount),
    'train-labels-idx1-ubyte': idxLabels(trainSlice.labels),
    't10k-images-idx3-ubyte': idxImages(testSlice.images, testCount),
    't10k-labels-idx1-ubyte': idxLabels(testSlice.labels),
  }
}

describe('SIGTERM and SIGHUP stop train like Ctrl-C', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)('%s: checkpoint, one line, exit 128 + signal number', async (name) => {
    const folder = join(fixtures.root, `stopped-by-${name}`)
    let sent = false
    const r = await runCli(
      ['train', '--limit', '6400', '--epochs', '1', '--log-every', '1', '--test-limit', '100', '--checkpoint-dir', folder],
      {
        onStdout: (text, child) => {
          if (!sent && /^\[1, +2\]/m.test(text)) {
            sent = true
            child.kill(name)
          }
        },
      },
    )
    expect(sent).toBe(true)
    expect(r.signal).toBeNull()
    expect(r.code).toBe(STOP_SIGNALS[name])
    expect(r.code).toBe(name === 'SIGTERM' ? 143 : 129)
    const m = /^stopped at epoch 1, batch \d+; checkpoint written to (.*checkpoint-e0000-b(\d{5})\.safetensors) \(continue with --resume\)$/m.exec(
      r.stderr,
    )
    expect(m).not.toBeNull()
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    expect(existsSync(m?.[1] ?? '')).toBe(true)
    expect(readdirSync(folder)).toEqual([`checkpoint-e0000-b${m?.[2]}.safetensors`])
  })
})

describe('Ctrl-C during compare', () => {
  it('says where it stopped and what was finished, and exits 130', async () => {
    let sent = false
    const r = await runCli(['compare', '--models', 'lenet5,googlenet', '--epochs', '1', '--limit', '6400', '--test-limit', '100', '--json'], {
      onStdout: (text, child) => {
        // lenet5's line is out: googlenet is training.
        if (!sent && text.includes('"model":"lenet5"')) {
          sent = true
          child.kill('SIGINT')
        }
      },
    })
    expect(sent).toBe(true)
    expect(r.code).toBe(130)
    expect(r.stderr).not.toMatch(/aborted|error/)
    expect(r.stderr).toMatch(
      /^(stopped at epoch 1, batch \d+ of googlenet|stopped before googlenet started|stopped between runs); 1 of 2 runs finished \(lenet5\)\n$/,
    )
  })

  it('formats the line for each stage', () => {
    expect(formatCompareStopped(3, [], [{ name: 'googlenet', at: undefined }])).toBe('stopped before googlenet started; 0 of 3 runs finished')
    expect(formatCompareStopped(3, ['googlenet'], [{ name: 'lenet5', at: { epoch: 2, batch: 37 } }])).toBe(
      'stopped at epoch 2, batch 37 of lenet5; 1 of 3 runs finished (googlenet)',
    )
    expect(formatCompareStopped(4, ['a seed 0', 'b seed 0'], [])).toBe('stopped between runs; 2 of 4 runs finished (a seed 0, b seed 0)')
    expect(
      formatCompareStopped(4, [], [
        { name: 'a seed 0', at: { epoch: 1, batch: 3 } },
        { name: 'b seed 0', at: { epoch: 1, batch: 5 } },
      ]),
    ).toBe('stopped at epoch 1, batch 3 of a seed 0, stopped at epoch 1, batch 5 of b seed 0; 0 of 4 runs finished')
  })
})
