/**
 * Folders of images as datasets, end to end on real MNIST digits written as
 * PNG files: `Dataset.fromFolder`, `loadData`, `scanFolder` and `info`,
 * class names with spaces and non-ASCII letters, both layouts (train/ and
 * test/, or a seeded hold-out), colour images, resizing, models made for
 * the data and their files, twenty classes in `test` and the HTML report,
 * IDX files under any names, and hostile folders (missing, empty, one
 * class, damaged files) through the API and the CLI.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { Dataset, Model, type ModelDescription, createModel, loadData, scanFolder, train } from '../dist/index.js'
import { encodeGrayPng, encodeRgbPng } from '../src/png.js'
import { Fixtures, PIXELS, STACK_OR_PANIC, idxImages, idxLabels, lines, mnistSample, runCli, runMain, validFiles } from './helpers.js'

const fixtures = new Fixtures()
afterAll(() => fixtures.cleanup())

// ---------------------------------------------------------------- fixtures

/** Writes `files` (paths relative to `root`, folders made as needed); returns `root`. */
function tree(root: string, files: Record<string, Buffer | string>): string {
  mkdirSync(root, { recursive: true })
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), bytes)
  }
  return root
}

/** Every entry under `dir` with its size, modification time and inode: what "nothing was written" compares. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((path) => {
      const s = statSync(join(dir, path))
      return `${path} ${s.size} ${s.mtimeMs} ${s.ino}`
    })
    .sort()
}

/** Image `i` of a split as its own array. */
const imageOf = (images: Uint8Array, i: number): Uint8Array => images.subarray(i * PIXELS, (i + 1) * PIXELS)

/** The digits' class folder names (index = digit): spaces and non-ASCII letters. */
const DIGIT_NAMES = ['zero', 'one', 'two', 'three', 'four 4', 'five', 'six', 'seven', 'eight', 'ñandú']
/** The same names sorted in byte order (UTF-8), as `ImageFolder` sorts them: "ñ" is 0xC3 0xB1, after every ASCII letter. */
const SORTED_NAMES = ['eight', 'five', 'four 4', 'one', 'seven', 'six', 'three', 'two', 'zero', 'ñandú']
/** The digit of each class index. */
const DIGIT_OF = SORTED_NAMES.map((name) => DIGIT_NAMES.indexOf(name))

/** A file name that keeps MNIST's order within a class folder. */
const fileName = (i: number): string => `${String(i).padStart(5, '0')}.png`

/** One PNG per MNIST image, in `prefix/<digit name>/`. */
function digitFiles(count: number, split: 'train' | 't10k', prefix = ''): Record<string, Buffer> {
  const { images, labels } = mnistSample(count, split)
  const files: Record<string, Buffer> = {}
  for (let i = 0; i < count; i++) files[join(prefix, DIGIT_NAMES[labels[i]], fileName(i))] = encodeGrayPng(imageOf(images, i), 28, 28)
  return files
}

/** Files per class index of the first `count` MNIST training images. */
function filesPerClass(count: number): number[] {
  const { labels } = mnistSample(count)
  return DIGIT_OF.map((digit) => labels.filter((l) => l === digit).length)
}

/** All the images of `data`, concatenated. */
function allPixels(data: Dataset): Buffer {
  return Buffer.concat(Array.from({ length: data.length }, (_, i) => data.image(i)))
}

/** Images of `data` as base64 strings, per class. */
function imagesByClass(data: Dataset): string[][] {
  const labels = data.labels()
  const out: string[][] = data.classNames.map(() => [])
  for (let i = 0; i < data.length; i++) out[labels[i]].push(Buffer.from(data.image(i)).toString('base64'))
  return out
}

/** Per-channel mean and (population) standard deviation of `data`'s pixels, scaled to [0, 1]. */
function channelStats(data: Dataset): { mean: number[]; std: number[] } {
  const plane = data.height * data.width
  const sums = new Array<number>(data.channels).fill(0)
  const squares = new Array<number>(data.channels).fill(0)
  for (let i = 0; i < data.length; i++) {
    const image = data.image(i)
    for (let c = 0; c < data.channels; c++) {
      for (let p = c * plane; p < (c + 1) * plane; p++) {
        const x = image[p] / 255
        sums[c] += x
        squares[c] += x * x
      }
    }
  }
  const n = data.length * plane
  const mean = sums.map((s) => s / n)
  return { mean, std: squares.map((s, c) => Math.sqrt(s / n - mean[c] ** 2)) }
}

/** 1,000 MNIST digits, one folder per class, no train/ and test/: a held-out split. */
const DIGITS = tree(join(fixtures.root, 'digits'), digitFiles(1000, 'train'))
/** 500 training and 200 test digits in the folder's own train/ and test/. */
const SPLITS = tree(join(fixtures.root, 'splits'), { ...digitFiles(500, 'train', 'train'), ...digitFiles(200, 't10k', 'test') })

/** Three classes told apart by colour: 20 noisy 16×16 RGB images each, and two 24×24 images of "rojo" (resized). */
const COLOURS: Record<string, [number, number, number]> = { azul: [30, 40, 210], rojo: [220, 30, 30], verde: [30, 200, 40] }
const COLOUR = (() => {
  let state = 12345
  const noise = (): number => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 60
  const image = ([r, g, b]: number[], side: number): Buffer => {
    const planes = new Uint8Array(side * side * 3)
    for (let p = 0; p < side * side; p++) [r, g, b].forEach((v, k) => (planes[k * side * side + p] = Math.max(0, Math.min(255, Math.round(v + noise())))))
    return encodeRgbPng(planes, side, side)
  }
  const files: Record<string, Buffer> = {}
  for (const [name, rgb] of Object.entries(COLOURS)) {
    for (let i = 0; i < 20; i++) files[`${name}/${fileName(i)}`] = image(rgb, 16)
  }
  files['rojo/big-1.png'] = image(COLOURS.rojo, 24)
  files['rojo/big-2.png'] = image(COLOURS.rojo, 24)
  return tree(join(fixtures.root, 'colour'), files)
})()

/** A training recipe a lenet5 learns the digits with in one epoch of a few hundred images. */
const QUICK = { epochs: 1, batchSize: 16, optimizer: 'adam', lr: 0.002, seed: 1 } as const
const QUICK_FLAGS = ['--model', 'lenet5', '--epochs', '1', '--batch-size', '16', '--optimizer', 'adam', '--lr', '0.002']

// ---------------------------------------------------------------- digits

describe('a folder of MNIST digits, one sub-folder per class', () => {
  it('names the classes after the folders, sorted in byte order, spaces and non-ASCII letters kept', async () => {
    const data = await Dataset.fromFolder(DIGITS)
    expect(data.classNames).toEqual(SORTED_NAMES)
    expect([...SORTED_NAMES].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(SORTED_NAMES)
    expect(data.layout).toBe('held-out')
    expect(data.skipped).toEqual([])
    for (const split of [data.train, data.test]) {
      expect(split.classNames).toEqual(SORTED_NAMES)
      expect([split.channels, split.height, split.width]).toEqual([1, 28, 28])
    }
    // Every file is in one split or the other: counts add up to the files of each class.
    const counts = data.train.classCounts().map((n, c) => n + data.test.classCounts()[c])
    expect(counts).toEqual(filesPerClass(1000))
    const loaded = await loadData({ dir: DIGITS })
    expect(loaded.kind).toBe('folder')
    expect(loaded.classNames).toEqual(SORTED_NAMES)
    expect(loaded.skipped).toEqual([])
  })

  it("with train/ and test/, reads each split from its folder: every pixel is the PNG's, the classes taking turns", async () => {
    const data = await Dataset.fromFolder(SPLITS)
    expect(data.layout).toBe('splits')
    expect(data.classNames).toEqual(SORTED_NAMES)
    for (const [split, count, source] of [
      [data.train, 500, 'train'],
      [data.test, 200, 't10k'],
    ] as const) {
      const { images, labels } = mnistSample(count, source)
      // Each class's files by name (MNIST's order), the classes (sorted by name) taking turns:
      // the first of each class, then the second of each… so that --limit takes every class.
      const byClass: number[][] = DIGIT_OF.map((digit) => [...Array(count).keys()].filter((i) => labels[i] === digit))
      const expected: Uint8Array[] = []
      const expectedLabels: number[] = []
      for (let rank = 0; rank < Math.max(...byClass.map((m) => m.length)); rank++) {
        byClass.forEach((members, c) => {
          if (rank >= members.length) return
          expected.push(imageOf(images, members[rank]))
          expectedLabels.push(c)
        })
      }
      expect(split.length).toBe(count)
      expect([...split.labels()]).toEqual(expectedLabels)
      expect(allPixels(split).equals(Buffer.concat(expected))).toBe(true)
    }
  })

  it('holds out testSplit of each class: round(n × share), at least one, never all', async () => {
    const perClass = filesPerClass(1000)
    for (const testSplit of [0.1, 0.25, 0.5, 0.9]) {
      const data = await Dataset.fromFolder(DIGITS, { testSplit })
      const held = perClass.map((n) => Math.min(n - 1, Math.max(1, Math.round(n * testSplit))))
      expect(data.test.classCounts(), `testSplit ${testSplit}`).toEqual(held)
      expect(data.train.classCounts()).toEqual(perClass.map((n, c) => n - held[c]))
    }
    // A class of two images gives one to each split, whatever the share.
    const pair = tree(join(fixtures.root, 'pairs'), {
      'a/1.png': encodeGrayPng(imageOf(mnistSample(4).images, 0), 28, 28),
      'a/2.png': encodeGrayPng(imageOf(mnistSample(4).images, 1), 28, 28),
      'b/1.png': encodeGrayPng(imageOf(mnistSample(4).images, 2), 28, 28),
      'b/2.png': encodeGrayPng(imageOf(mnistSample(4).images, 3), 28, 28),
    })
    for (const testSplit of [0.01, 0.99]) {
      const data = await Dataset.fromFolder(pair, { testSplit })
      expect([data.train.classCounts(), data.test.classCounts()]).toEqual([
        [1, 1],
        [1, 1],
      ])
    }
  })

  it('the held-out split is the same for a splitSeed, differs across seeds, and splits each class without loss or overlap', async () => {
    const a = await Dataset.fromFolder(DIGITS, { testSplit: 0.2, splitSeed: 7 })
    const again = await Dataset.fromFolder(DIGITS, { testSplit: 0.2, splitSeed: 7 })
    const other = await Dataset.fromFolder(DIGITS, { testSplit: 0.2, splitSeed: 8 })
    expect(allPixels(again.test).equals(allPixels(a.test))).toBe(true)
    expect(allPixels(again.train).equals(allPixels(a.train))).toBe(true)
    expect([...again.test.labels()]).toEqual([...a.test.labels()])
    // Another seed: the same counts, other images.
    expect(other.test.classCounts()).toEqual(a.test.classCounts())
    expect(allPixels(other.test).equals(allPixels(a.test))).toBe(false)
    const aTest = imagesByClass(a.test)
    const otherTest = imagesByClass(other.test)
    expect(aTest.filter((images, c) => images.join() !== otherTest[c].join()).length).toBeGreaterThan(5)
    // Per class, the two splits are the class's files, each once.
    const { images, labels } = mnistSample(1000)
    const aTrain = imagesByClass(a.train)
    DIGIT_OF.forEach((digit, c) => {
      const files = Array.from({ length: 1000 }, (_, i) => i)
        .filter((i) => labels[i] === digit)
        .map((i) => Buffer.from(imageOf(images, i)).toString('base64'))
      expect([...aTrain[c], ...aTest[c]].sort()).toEqual(files.sort())
    })
  })

  it('a lenet5 made for the data takes its classes and pixel statistics, and learns the digits in one epoch', async () => {
    const data = await Dataset.fromFolder(DIGITS, { testSplit: 0.2, splitSeed: 1 })
    const model = createModel('lenet5', { data: data.train, seed: 1 })
    expect(model.classNames).toEqual(SORTED_NAMES)
    expect(model.classes).toBe(10)
    expect(model.channels).toBe(1)
    expect(model.inputSize).toEqual({ height: 28, width: 28 })
    const { mean, std } = channelStats(data.train)
    expect(model.normalization.mean).toHaveLength(1)
    expect(Math.abs(model.normalization.mean[0] - mean[0])).toBeLessThanOrEqual(5.1e-5)
    expect(Math.abs(model.normalization.std[0] - std[0])).toBeLessThanOrEqual(5.1e-5)
    for (const v of [...model.normalization.mean, ...model.normalization.std]) expect(Math.round(v * 1e4) / 1e4).toBe(v)
    const history = await model.fit(data.train, { ...QUICK, validation: data.test })
    // Chance is 10 %.
    expect(history.testAccuracy).toBeGreaterThan(0.5)
    const evaluation = await model.evaluate(data.test, { confusion: true })
    expect(evaluation.perClass.map((c) => c.name)).toEqual(SORTED_NAMES)
    expect(evaluation.perClass.map((c) => c.total)).toEqual(data.test.classCounts())
  })

  it('train --data DIR makes the model for the folder, with its split flags, and saves the class names', async () => {
    const saved = join(fixtures.root, 'digits-cli.safetensors')
    const before = listing(DIGITS)
    const r = await runCli(['train', ...QUICK_FLAGS, '--data', DIGITS, '--test-split', '0.2', '--split-seed', '1', '--save', saved])
    expect(r.stderr).not.toMatch(/^error/m)
    expect(r.code).toBe(0)
    const api = await Dataset.fromFolder(DIGITS, { testSplit: 0.2, splitSeed: 1 })
    expect(r.stdout).toMatch(new RegExp(`^training lenet5 .*: ${api.train.length} training images, ${api.test.length} test images$`, 'm'))
    const accuracy = Number(/^done: .*test accuracy ([\d.]+) %/m.exec(r.stdout)?.[1])
    expect(accuracy).toBeGreaterThan(50)
    const model = await Model.load(saved)
    expect(model.classNames).toEqual(SORTED_NAMES)
    expect(model.normalization).toEqual(createModel('lenet5', { data: api.train }).normalization)
    expect(listing(DIGITS)).toEqual(before)
  })

  // A folder's splits are in class order, so take(n) (what --limit and --test-limit do) keeps the
  // first classes only: train --data DIR --limit 100 trains on the first one or two classes alone.
  it('--limit on a folder of images keeps every class: the classes take turns', async () => {
    const data = await Dataset.fromFolder(SPLITS)
    const first = data.train.take(20)
    expect(new Set(first.labels()).size).toBe(SORTED_NAMES.length)
  })

  it('train() takes a folder as dir', async () => {
    const { model, history } = await train({ dir: SPLITS, ...QUICK, model: 'lenet5' })
    expect(model.classNames).toEqual(SORTED_NAMES)
    expect(history.epochs[0].testTotal).toBe(200)
  })

  it('loadData calls onProgress with the whole count once decoding is done', async () => {
    const events: Array<[number, number]> = []
    await loadData({ dir: SPLITS, onProgress: (done, total) => events.push([done, total]) })
    // The last event is queued from a decoding thread without waiting, and may reach JS just after
    // the promise settles: wait for it a few turns of the event loop.
    for (let i = 0; i < 1000 && !events.some(([done]) => done === 700); i++) await new Promise((r) => setImmediate(r))
    expect(events.at(-1)).toEqual([700, 700])
    expect(events.every(([done, total]) => total === 700 && done >= 1 && done <= 700)).toBe(true)
  })
})

// ---------------------------------------------------------------- colour

describe('a folder of colour images', () => {
  it('is read as three planes per image when any image has colour; odd sizes are resized to the most common one', async () => {
    const scan = await scanFolder(COLOUR)
    expect(scan.channels).toBe(3)
    expect(scan.colourImages).toBe(62)
    expect(scan.sizes).toEqual([
      { height: 16, width: 16, count: 60 },
      { height: 24, width: 24, count: 2 },
    ])
    const data = await Dataset.fromFolder(COLOUR, { testSplit: 0.25 })
    expect(data.classNames).toEqual(['azul', 'rojo', 'verde'])
    expect([data.train.channels, data.train.height, data.train.width]).toEqual([3, 16, 16])
    expect(data.train.length + data.test.length).toBe(62)
    // Planar: the red plane, then green, then blue; each class's own colour is the brightest plane.
    const labels = data.train.labels()
    for (let i = 0; i < data.train.length; i++) {
      const image = data.train.image(i)
      expect(image).toHaveLength(3 * 256)
      const planes = [0, 1, 2].map((c) => image.subarray(c * 256, (c + 1) * 256).reduce((a, b) => a + b, 0) / 256)
      const want = COLOURS[data.classNames[labels[i]]]
      planes.forEach((mean, c) => expect(Math.abs(mean - want[c]), `image ${i} plane ${c}`).toBeLessThan(12))
    }
  })

  it('a lenet5 made for it takes three channels and per-channel statistics, and learns the colours', async () => {
    const data = await Dataset.fromFolder(COLOUR, { testSplit: 0.25 })
    const model = createModel('lenet5', { data: data.train, seed: 1 })
    expect(model.channels).toBe(3)
    expect(model.inputSize).toEqual({ height: 16, width: 16 })
    expect(model.classNames).toEqual(['azul', 'rojo', 'verde'])
    const { mean, std } = channelStats(data.train)
    expect(model.normalization.mean).toHaveLength(3)
    expect(model.normalization.std).toHaveLength(3)
    model.normalization.mean.forEach((m, c) => expect(Math.abs(m - mean[c])).toBeLessThanOrEqual(5.1e-5))
    model.normalization.std.forEach((s, c) => expect(Math.abs(s - std[c])).toBeLessThanOrEqual(5.1e-5))
    // A grey model cannot take these images.
    await expect(createModel('lenet5').evaluate(data.test)).rejects.toThrow(/3-channel|channel/)
    const history = await model.fit(data.train, { epochs: 1, batchSize: 8, optimizer: 'adam', lr: 0.002 })
    expect(history.epochs).toHaveLength(1)
    const { accuracy } = await model.evaluate(data.test)
    expect(accuracy).toBeGreaterThan(0.6) // chance: 1/3
  })

  it('channels: 1 makes it grey (luma), and a size resizes every image', async () => {
    const grey = await Dataset.fromFolder(COLOUR, { channels: 1 })
    expect([grey.train.channels, grey.train.height, grey.train.width]).toEqual([1, 16, 16])
    expect(grey.train.image(0)).toHaveLength(256)
    expect(createModel('lenet5', { data: grey.train }).normalization.mean).toHaveLength(1)
    // Blue is darker than green in luma.
    const mean = (d: Dataset, label: number): number => {
      const labels = d.labels()
      const rows = Array.from({ length: d.length }, (_, i) => i).filter((i) => labels[i] === label)
      return rows.reduce((sum, i) => sum + d.image(i).reduce((a, b) => a + b, 0) / 256, 0) / rows.length
    }
    expect(mean(grey.train, 0)).toBeLessThan(mean(grey.train, 2) - 50)
    const small = await Dataset.fromFolder(COLOUR, { height: 8, width: 8 })
    expect([small.train.channels, small.train.height, small.train.width]).toEqual([3, 8, 8])
    expect(small.train.image(0)).toHaveLength(3 * 64)
    const both = await scanFolder(COLOUR, { channels: 1, height: 8, width: 8 })
    expect([both.channels, both.height, both.width, both.bytesPerImage, both.bytes]).toEqual([1, 8, 8, 64, 62 * 64])
  })

  it('train --channels 1 --size 12x12 trains a grey 12×12 model on it', async () => {
    const saved = join(fixtures.root, 'colour-grey.safetensors')
    const r = await runMain(['train', '--model', 'lenet5', '--epochs', '1', '--data', COLOUR, '--channels', '1', '--size', '12x12', '--save', saved])
    expect(r.stderr).not.toMatch(/^error/m)
    expect(r.code).toBe(0)
    const model = await Model.load(saved)
    expect([model.channels, model.inputSize.height, model.inputSize.width]).toEqual([1, 12, 12])
    expect(model.classNames).toEqual(['azul', 'rojo', 'verde'])
    const colour = join(fixtures.root, 'colour.safetensors')
    expect((await runMain(['train', '--model', 'lenet5', '--epochs', '1', '--data', COLOUR, '--save', colour])).code).toBe(0)
    const loaded = await Model.load(colour)
    expect([loaded.channels, loaded.inputSize.height, loaded.normalization.mean.length]).toEqual([3, 16, 3])
  })

  // BUG: src/report/from-run.ts, misclassified(): `size = data.height * data.width` leaves out
  // data.channels, so copying a 3×H×W image into a buffer of H×W per image throws
  // "offset is out of bounds" as soon as one colour test image is misclassified; the report is
  // not written and train exits 1 after training. (src/report/digits.ts also draws every
  // image as a grey PNG.)
  it('train --report writes the report for a colour folder', async () => {
    const report = join(fixtures.root, 'colour-report.html')
    // One epoch at the default recipe misclassifies some of the test images.
    const r = await runMain(['train', '--model', 'lenet5', '--epochs', '1', '--data', COLOUR, '--report', report])
    expect(r.stderr).not.toMatch(/^error/m)
    expect(r.code).toBe(0)
    expect(readFileSync(report, 'utf8')).toContain('<h1>')
  })
})

// ---------------------------------------------------------------- model files

describe('a model trained on a folder, saved and loaded', () => {
  it('keeps its class names, normalization and input shape, and predicts the same', async () => {
    const data = await Dataset.fromFolder(COLOUR, { testSplit: 0.25 })
    const model = createModel('lenet5', { data: data.train, seed: 3 })
    await model.fit(data.train, { epochs: 1, batchSize: 8, optimizer: 'adam', lr: 0.002 })
    const pixels = allPixels(data.test)
    const before = await model.predict(new Uint8Array(pixels))
    expect(before.labels).toHaveLength(data.test.length)
    const path = join(fixtures.root, 'colour-roundtrip.safetensors')
    await model.save(path)
    const loaded = await Model.load(path)
    expect(loaded.classNames).toEqual(['azul', 'rojo', 'verde'])
    expect(loaded.normalization).toEqual(model.normalization)
    expect(loaded.channels).toBe(3)
    expect(loaded.inputSize).toEqual({ height: 16, width: 16 })
    expect(loaded.classes).toBe(3)
    const after = await loaded.predict(new Uint8Array(pixels))
    expect([...after.labels]).toEqual([...before.labels])
    expect(Math.max(...after.probabilities.map((p, i) => Math.abs(p - before.probabilities[i])))).toBeLessThan(1e-6)
    const evaluated = await loaded.evaluate(data.test, { confusion: true })
    expect(evaluated.perClass.map((c) => c.name)).toEqual(['azul', 'rojo', 'verde'])
  })
})

// ---------------------------------------------------------------- twenty classes

describe('twenty classes: the digits and the same digits upside down', () => {
  /** digit d as "digit d", and turned 180° as "flipped d": 30 training and 10 test images each. */
  const NAMES = [...Array.from({ length: 10 }, (_, d) => `digit ${d}`), ...Array.from({ length: 10 }, (_, d) => `flipped ${d}`)]
  const TWENTY = (() => {
    const files: Record<string, Buffer> = {}
    for (const [split, source, per] of [
      ['train', 'train', 30],
      ['test', 't10k', 10],
    ] as const) {
      const { images, labels } = mnistSample(2000, source)
      const taken = new Array<number>(10).fill(0)
      for (let i = 0; i < 2000; i++) {
        const d = labels[i]
        if (taken[d]++ >= per) continue
        const upright = imageOf(images, i)
        files[`${split}/digit ${d}/${fileName(i)}`] = encodeGrayPng(upright, 28, 28)
        files[`${split}/flipped ${d}/${fileName(i)}`] = encodeGrayPng(Uint8Array.from(upright).reverse(), 28, 28)
      }
    }
    return tree(join(fixtures.root, 'twenty'), files)
  })()
  const saved = join(fixtures.root, 'twenty.safetensors')
  const report = join(fixtures.root, 'twenty.html')

  it('train --report writes a confusion heat map of 20 rows named after the folders', async () => {
    const r = await runCli(['train', ...QUICK_FLAGS, '--data', TWENTY, '--save', saved, '--report', report])
    expect(r.stderr).not.toMatch(/^error/m)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^training lenet5 .*: 600 training images, 200 test images$/m)
    const html = readFileSync(report, 'utf8')
    const cells = [...html.matchAll(/<title>true (\d+) ([^,]+), predicted (\d+) ([^:]+): (\d+) images?<\/title>/g)]
    expect(cells).toHaveLength(400)
    expect(new Set(cells.map((m) => Number(m[1])))).toEqual(new Set(Array.from({ length: 20 }, (_, k) => k)))
    for (const m of cells) {
      expect(m[2]).toBe(NAMES[Number(m[1])])
      expect(m[4]).toBe(NAMES[Number(m[3])])
    }
    // Every row holds its class's 10 test images.
    for (let k = 0; k < 20; k++) {
      expect(cells.filter((m) => Number(m[1]) === k).reduce((sum, m) => sum + Number(m[5]), 0)).toBe(10)
      expect(html).toContain(`>${k} ${NAMES[k]}</text>`)
    }
  })

  it('test --load prints a 20-row per-class table with the names and a 20×20 confusion matrix (test split as IDX)', async () => {
    // `test` reads IDX test splits: the folder's test split, written as IDX files.
    const folder = await Dataset.fromFolder(TWENTY)
    const idx = fixtures.folder('twenty-idx', {
      't10k-images-idx3-ubyte': idxImages(allPixels(folder.test), folder.test.length),
      't10k-labels-idx1-ubyte': idxLabels(folder.test.labels()),
    })
    const text = await runCli(['test', '--load', saved, '--data', idx])
    expect(text.stderr).toBe('')
    expect(text.code).toBe(0)
    const rows = lines(text.stdout).filter((l) => /^\d+ (digit|flipped) \d\s+\d+\s+10\s+[\d.]+ %$/.test(l))
    expect(rows.map((l) => /^(\d+ \S+ \d)/.exec(l)?.[1])).toEqual(NAMES.map((name, k) => `${k} ${name}`))
    const matrix = text.stdout.split('confusion matrix (rows: true class, columns: predicted, by index)\n')[1]
    const [head, ...body] = lines(matrix)
    expect(head.split(/\s+/)).toEqual(['true\\pred', ...Array.from({ length: 20 }, (_, k) => String(k))])
    expect(body).toHaveLength(20)
    const counts = body.map((row) => row.split(/\s+/).map(Number))
    counts.forEach((row, k) => {
      expect(row).toHaveLength(21)
      expect(row[0]).toBe(k)
      expect(row.slice(1).reduce((a, b) => a + b, 0)).toBe(10)
    })
    // The same numbers as the API's evaluation on the folder's own test split.
    const model = await Model.load(saved)
    const evaluation = await model.evaluate(folder.test, { confusion: true })
    expect(counts.map((row) => row.slice(1))).toEqual(evaluation.confusion)
    const json = await runCli(['test', '--load', saved, '--data', idx, '--json'])
    const parsed = JSON.parse(json.stdout) as { confusion: number[][]; perClass: Array<{ name: string }> }
    expect(parsed.confusion).toEqual(evaluation.confusion)
    expect(parsed.perClass.map((c) => c.name)).toEqual(NAMES)
  })

  it('test --data with a folder of images evaluates on its test split, as the API does', async () => {
    const folder = await Dataset.fromFolder(TWENTY)
    const evaluation = await (await Model.load(saved)).evaluate(folder.test, { confusion: true })
    const r = await runCli(['test', '--load', saved, '--data', TWENTY, '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const parsed = JSON.parse(r.stdout) as { confusion: number[][]; classNames: string[] }
    expect(parsed.confusion).toEqual(evaluation.confusion)
    expect(parsed.classNames).toEqual(NAMES)
  })

  it('predict --load M prints the class name of each image, fitted by a plain resize for a model that is not a digit model', async () => {
    const folder = await Dataset.fromFolder(TWENTY)
    const model = await Model.load(saved)
    expect(model.isDigitModel()).toBe(false)
    const file = join(fixtures.root, 'one-of-twenty.png')
    writeFileSync(file, encodeGrayPng(folder.test.image(0), folder.test.width, folder.test.height))
    const expected = NAMES[(await model.predict(folder.test.image(0))).labels[0]]
    const r = await runCli(['predict', '--load', saved, file, '--json'])
    expect(r.code).toBe(0)
    const line = JSON.parse(r.stdout) as { name: string; fit: string; top: { name: string }[] }
    expect(line).toMatchObject({ name: expected, fit: 'resize' })
    expect(line.top[0].name).toBe(expected)
    const text = await runCli(['predict', '--load', saved, file])
    expect(text.stdout).toContain(`: ${expected}  (${expected} `)
  })
})

// ---------------------------------------------------------------- info

describe('info --data DIR', () => {
  it('describes a folder of digits: classes, counts per split, sizes, channels and memory', async () => {
    const r = await runCli(['info', '--data', DIGITS])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const data = await Dataset.fromFolder(DIGITS)
    const out = lines(r.stdout)
    expect(out[0]).toBe(`${DIGITS}: a folder of images, 10 classes, 10 % of each class held out for testing`)
    expect(out[1]).toBe(`images: ${data.train.length} training, ${data.test.length} test, read as 28x28 grey (0 of them in colour)`)
    expect(out[2]).toBe('sizes: 28x28 (1,000)')
    expect(out[3]).toBe('memory: 784 bytes per image, 765.6 KiB in all (at most 4.0 GiB)')
    expect(out[4].trim().split(/\s{2,}/)).toEqual(['class', 'train', 'test'])
    SORTED_NAMES.forEach((name, c) => {
      expect(out[5 + c].trim().split(/\s{2,}/)).toEqual([String(c), name, String(data.train.classCounts()[c]), String(data.test.classCounts()[c])])
    })
    expect(out).toHaveLength(15)
  })

  it('--json gives the same counts as loading the folder, for the split flags given', async () => {
    const r = await runMain(['info', '--data', DIGITS, '--json', '--test-split', '0.3', '--split-seed', '5'])
    expect(r.code).toBe(0)
    const info = JSON.parse(r.stdout)
    const data = await Dataset.fromFolder(DIGITS, { testSplit: 0.3, splitSeed: 5 })
    expect(info).toMatchObject({
      kind: 'folder',
      layout: 'held-out',
      testSplit: 0.3,
      classNames: SORTED_NAMES,
      trainCounts: data.train.classCounts(),
      testCounts: data.test.classCounts(),
      channels: 1,
      height: 28,
      width: 28,
      bytesPerImage: 784,
      bytes: 1000 * 784,
      skipped: [],
    })
    const splits = JSON.parse((await runMain(['info', '--data', SPLITS, '--json'])).stdout)
    const s = await Dataset.fromFolder(SPLITS)
    expect(splits).toMatchObject({ layout: 'splits', trainCounts: s.train.classCounts(), testCounts: s.test.classCounts() })
    expect(splits.testSplit).toBeUndefined()
    const text = await runMain(['info', '--data', SPLITS])
    expect(lines(text.stdout)[0]).toBe(`${SPLITS}: a folder of images, 10 classes, its own train/ and test/ folders`)
  })

  it('describes a colour folder, its sizes and what --channels and --size make of it', async () => {
    const r = await runMain(['info', '--data', COLOUR])
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out[1]).toMatch(/, read as 16x16 colour \(62 of them in colour\)$/)
    expect(out[2]).toBe('sizes: 16x16 (60), 24x24 (2); the others are resized to 16x16')
    expect(out[3]).toMatch(/^memory: 768 bytes per image, /)
    const grey = await runMain(['info', '--data', COLOUR, '--channels', '1', '--size', '8x8'])
    expect(lines(grey.stdout)[1]).toMatch(/, read as 8x8 grey \(62 of them in colour\)$/)
    expect(lines(grey.stdout)[2]).toBe('sizes: 16x16 (60), 24x24 (2); the others are resized to 8x8')
    expect(lines(grey.stdout)[3]).toBe('memory: 64 bytes per image, 3.9 KiB in all (at most 4.0 GiB)')
  })

  it('describes an IDX folder', async () => {
    const dir = fixtures.folder('idx', validFiles())
    const r = await runMain(['info', '--data', dir])
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out[0]).toBe(`${dir}: IDX files, 10 classes`)
    expect(out[1]).toBe('images: 64 training, 32 test, 28x28 grey')
    const json = JSON.parse((await runMain(['info', '--data', dir, '--json'])).stdout)
    const count = (labels: Uint8Array): number[] => Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length)
    expect(json).toEqual({
      kind: 'idx',
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      trainCounts: count(mnistSample(64).labels),
      testCounts: count(mnistSample(32, 't10k').labels),
      channels: 1,
      height: 28,
      width: 28,
    })
    expect((await loadData({ dir })).kind).toBe('idx')
  })
})

// ---------------------------------------------------------------- hostile folders

describe('hostile folders', () => {
  const digit = (i: number): Buffer => encodeGrayPng(imageOf(mnistSample(20).images, i), 28, 28)
  const twoClasses = (name: string, extra: Record<string, Buffer | string> = {}): string =>
    tree(join(fixtures.root, name), { 'a/1.png': digit(0), 'a/2.png': digit(1), 'a/3.png': digit(2), 'b/1.png': digit(3), 'b/2.png': digit(4), 'b/3.png': digit(5), ...extra })
  const MISSING = join(fixtures.root, 'no-such-folder')
  const EMPTY = tree(join(fixtures.root, 'empty'), {})
  const ONE_CLASS = tree(join(fixtures.root, 'one-class'), { 'only/1.png': digit(0), 'only/2.png': digit(1) })
  const IMAGELESS = twoClasses('imageless', { 'c/readme.txt': 'nothing to see' })
  const EMPTY_CLASS = twoClasses('empty-class')
  mkdirSync(join(EMPTY_CLASS, 'c'))
  const truncated = digit(6).subarray(0, digit(6).length - 30)
  const DAMAGED = twoClasses('damaged', {
    'a/zero-bytes.png': Buffer.alloc(0),
    'a/truncated.png': truncated,
    'b/text.jpg': 'this is not a JPEG\n',
    'b/notes.txt': 'notes about class b\n',
  })
  const TRUNCATED_ONLY = twoClasses('truncated-only', { 'a/truncated.png': truncated })

  it.each([
    ['a missing folder', MISSING, /: folder not found$/],
    ['an empty folder', EMPTY, /: holds no class folders: /],
    ['one class', ONE_CLASS, /: needs at least two classes \(class folders\); it has one, "only"$/],
    ['a class with no images', IMAGELESS, /\/c: holds no readable images .*readme\.txt: not an image file.*a class without images cannot be learned$/],
    ['an empty class folder', EMPTY_CLASS, /\/c: holds no readable images \(PNG, JPEG, BMP, GIF or WebP\): a class without images cannot be learned$/],
  ])('the API refuses %s, naming the folder', async (_, dir, message) => {
    await expect(Dataset.fromFolder(dir)).rejects.toThrow(message)
    await expect(Dataset.fromFolder(dir)).rejects.toThrow(dir)
    await expect(scanFolder(dir)).rejects.toThrow(message)
  })

  it('loadData names a missing folder', async () => {
    await expect(loadData({ dir: MISSING })).rejects.toThrow(`${MISSING}: data folder not found`)
  })

  // BUG: loadData (src/data.ts) hands any path that is not a folder to the IDX loader, whose check
  // (crates/googlenet-core/src/data/mnist.rs, load_mnist_split_from: `!dir.is_dir()`) says "data
  // folder not found" for a file that is there: `train --data photo.png` says the file is missing.
  // Dataset.fromFolder says it right: "not a folder (a folder of class folders of images was expected)".
  it('loadData and train --data on a file say it is not a folder, not that it is missing', async () => {
    const file = join(DAMAGED, 'a', '1.png')
    await expect(Dataset.fromFolder(file)).rejects.toThrow(`${file}: not a folder`)
    await expect(loadData({ dir: file })).rejects.toThrow(`${file}: not a folder`)
  })

  it('skips and lists damaged files and non-images, and reads the rest', async () => {
    const data = await Dataset.fromFolder(DAMAGED)
    expect(data.train.length + data.test.length).toBe(6)
    const skipped = Object.fromEntries(data.skipped.map((s) => [s.path.slice(DAMAGED.length + 1), s.reason]))
    expect(skipped).toEqual({
      'a/zero-bytes.png': 'empty file (0 bytes)',
      'a/truncated.png': expect.stringMatching(/^damaged image: /),
      'b/text.jpg': expect.stringMatching(/^not an image: /),
      'b/notes.txt': 'not an image file',
    })
    const loaded = await loadData({ dir: DAMAGED })
    expect(loaded.skipped).toEqual(data.skipped)
    // The header pass cannot see a truncated body; what it lists, loading skips too.
    const scan = await scanFolder(DAMAGED)
    expect(scan.skipped.every((s) => data.skipped.some((d) => d.path === s.path && d.reason === s.reason))).toBe(true)
  })

  it('strict refuses a damaged file, naming it, but not a file that is not named as an image', async () => {
    await expect(Dataset.fromFolder(DAMAGED, { strict: true })).rejects.toThrow(/\/a\/zero-bytes\.png: empty file \(0 bytes\)$/)
    await expect(Dataset.fromFolder(TRUNCATED_ONLY, { strict: true })).rejects.toThrow(/\/a\/truncated\.png: damaged image: /)
    const text = twoClasses('text-jpg', { 'b/text.jpg': 'plain text' })
    await expect(Dataset.fromFolder(text, { strict: true })).rejects.toThrow(/\/b\/text\.jpg: not an image: /)
    const notes = twoClasses('notes', { 'b/notes.txt': 'notes' })
    const data = await Dataset.fromFolder(notes, { strict: true })
    expect(data.skipped).toEqual([{ path: join(notes, 'b', 'notes.txt'), reason: 'not an image file' }])
  })

  it.each([
    ['a missing folder', MISSING],
    ['an empty folder', EMPTY],
    ['one class', ONE_CLASS],
    ['a class with no images', IMAGELESS],
    ['an empty class folder', EMPTY_CLASS],
  ])('info and train refuse %s with exit 1 and one line naming it', async (_, dir) => {
    for (const command of [['info'], ['train', '--model', 'lenet5', '--epochs', '1']]) {
      const r = await runCli([...command, '--data', dir])
      expect(r.code, command[0]).toBe(1)
      expect(lines(r.stderr)).toHaveLength(1)
      expect(r.stderr).toMatch(/^error: /)
      expect(r.stderr).toContain(dir)
      expect(r.stderr).not.toMatch(STACK_OR_PANIC)
      expect(r.stdout).toBe('')
    }
  })

  it('info lists the skipped files; --strict makes info and train refuse the first, naming it', async () => {
    const info = await runCli(['info', '--data', DAMAGED])
    expect(info.code).toBe(0)
    expect(info.stdout).toContain(`skipped 3 files:\n  ${join(DAMAGED, 'b/notes.txt')}: not an image file\n`)
    expect(info.stdout).toContain(`  ${join(DAMAGED, 'a/zero-bytes.png')}: empty file (0 bytes)\n`)
    expect(info.stdout).toMatch(/ {2}\S+\/b\/text\.jpg: not an image: /)
    for (const command of [['info'], ['train', '--model', 'lenet5', '--epochs', '1']]) {
      const r = await runCli([...command, '--data', DAMAGED, '--strict'])
      expect(r.code, command[0]).toBe(1)
      expect(r.stderr).toBe(`error: ${join(DAMAGED, 'a/zero-bytes.png')}: empty file (0 bytes)\n`)
    }
    const r = await runCli(['train', '--model', 'lenet5', '--epochs', '1', '--data', TRUNCATED_ONLY, '--strict'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(new RegExp(`^error: ${join(TRUNCATED_ONLY, 'a/truncated.png')}: damaged image: .*\n$`))
  })

  it('nothing is written into the folder, by the API or the CLI', async () => {
    const before = listing(DAMAGED)
    await Dataset.fromFolder(DAMAGED)
    await scanFolder(DAMAGED)
    await loadData({ dir: DAMAGED, testSplit: 0.5 })
    await Dataset.fromFolder(DAMAGED, { strict: true }).catch(() => undefined)
    expect((await runMain(['info', '--data', DAMAGED, '--json'])).code).toBe(0)
    expect((await runMain(['train', '--model', 'lenet5', '--epochs', '1', '--data', DAMAGED])).code).toBe(0)
    expect((await runMain(['train', '--model', 'lenet5', '--epochs', '1', '--data', DAMAGED, '--strict'])).code).toBe(1)
    expect(listing(DAMAGED)).toEqual(before)
  })

  it('train/ and test/ must hold the same classes', async () => {
    const dir = tree(join(fixtures.root, 'uneven-splits'), {
      'train/a/1.png': digit(0),
      'train/b/1.png': digit(1),
      'train/c/1.png': digit(2),
      'test/a/1.png': digit(3),
      'test/b/1.png': digit(4),
    })
    await expect(Dataset.fromFolder(dir)).rejects.toThrow(`${join(dir, 'test')}: has no folder for the class "c", which train/ has`)
  })

  it('bad folder options are usage errors (exit 2), in one line', async () => {
    for (const [args, message] of [
      [['--test-split', '1'], '--test-split must be a finite number in [0, 1) (got 1)'],
      [['--size', '8'], '--size must be HEIGHTxWIDTH, e.g. 32x32 (got 8)'],
      [['--channels', '4'], '--channels must be 1 or 3 (got 4)'],
    ] as const) {
      for (const command of ['info', 'train']) {
        const r = await runMain([command, '--data', DAMAGED, ...args])
        expect(r.code, `${command} ${args.join(' ')}`).toBe(2)
        expect(r.stderr).toBe(`error: ${message}\n`)
      }
    }
    await expect(Dataset.fromFolder(DAMAGED, { testSplit: 1 })).rejects.toThrow(RangeError)
    await expect(Dataset.fromFolder(DAMAGED, { height: 8 })).rejects.toThrow('height and width go together')
  })

  // BUG: --channels is declared "an integer in [1, 3]" (the core's option table, docs/cli.md),
  // so 2 passes the flag check, and the folder loader (crates/googlenet-core/src/data/folder/scan.rs,
  // check_options) then refuses it as a runtime error: exit 1, where a bad flag value is a usage
  // error (exit 2, docs/cli.md), and a plain Error, where the API promises TypeError/RangeError
  // for bad options (src/folder.ts, loadFolder).
  it('--channels 2 is a usage error (exit 2) and a RangeError in the API', async () => {
    const r = await runMain(['info', '--data', DAMAGED, '--channels', '2'])
    expect(r.stderr).toMatch(/^error: .*channels.*2/)
    expect(r.code).toBe(2)
    // Not a value the types allow: a JavaScript caller can still pass it.
    await expect(Dataset.fromFolder(DAMAGED, { channels: 2 as 1 })).rejects.toThrow(RangeError)
  })

  // BUG: src/cli/folder-flags.ts, folderFlags(): --size is checked as the folder options height
  // and width, whose messages name --height and --width, flags info and train do not have
  // (`info --height 8` is "unknown option '--height'").
  it('--size out of range names --size', async () => {
    const r = await runMain(['info', '--data', DAMAGED, '--size', '8193x8'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^error: --size /)
  })

  // BUG: the skipped files reach neither the user nor the API's caller of train: src/train.ts
  // loadSplits() drops loadData's `skipped`, and the CLI prints nothing about them, though
  // --strict's own description says the default is "skipping it with a warning" (info lists them;
  // train is silent and simply has fewer images).
  it('train without --strict warns about each file it skipped', async () => {
    const r = await runMain(['train', '--model', 'lenet5', '--epochs', '1', '--data', DAMAGED])
    expect(r.code).toBe(0)
    for (const file of ['zero-bytes.png', 'truncated.png', 'text.jpg']) expect(r.stdout + r.stderr).toContain(file)
  })

  // BUG: a class whose only images have a sound header but a damaged body is kept with no image
  // at all: the scan (crates/googlenet-core/src/data/folder/scan.rs) refuses "a class without
  // images" before decoding, but load.rs drops the files that fail to decode afterwards and
  // nothing checks the classes again (from_folder.rs checks only that a split is not empty).
  // The same folder with the damage in the header is refused "holds no readable images".
  it('a class whose every image is damaged is refused, as a class without images is', async () => {
    const body = (i: number): Buffer => digit(i).subarray(0, 60) // the signature and IHDR, no image data
    const dir = tree(join(fixtures.root, 'class-all-damaged'), {
      'a/1.png': digit(0),
      'a/2.png': digit(1),
      'a/3.png': digit(2),
      'b/1.png': body(3),
      'b/2.png': body(4),
      'b/3.png': body(5),
    })
    const loaded = Dataset.fromFolder(dir).then((d) => ({ train: d.train.classCounts(), test: d.test.classCounts() }))
    await expect(loaded).rejects.toThrow('class "b" has no training image that could be read (see the files skipped): it cannot be learned')
  })

  // BUG: testSplit 0 is a valid value (the rule is [0, 1)), and scanFolder/info accept it (0 test
  // images), but loading then always fails with "no test image could be read: see the files
  // skipped" (crates/googlenet-core/src/data/from_folder.rs), blaming skipped files when there are
  // none. Either 0 gives an empty test split, or it is refused up front as a bad option.
  it('testSplit 0 is not blamed on skipped files that do not exist', async () => {
    const dir = twoClasses('split-zero')
    expect((await scanFolder(dir, { testSplit: 0 })).testCounts).toEqual([0, 0])
    const result = await Dataset.fromFolder(dir, { testSplit: 0 }).then(
      (d) => `loaded ${d.test.length}`,
      (e: Error) => e.message,
    )
    expect(result).not.toMatch(/skipped/)
  })
})

// ---------------------------------------------------------------- IDX files under any names

describe('IDX files under other names', () => {
  const { 'train-images-idx3-ubyte': trainImages, 'train-labels-idx1-ubyte': trainLabels, 't10k-images-idx3-ubyte': testImages, 't10k-labels-idx1-ubyte': testLabels } =
    validFiles()
  const dir = fixtures.folder('renamed', {
    'digits.train.img': trainImages,
    'digits.train.lbl': trainLabels,
    'holdout-images.gz': gzipSync(testImages),
    'holdout-labels': testLabels,
  })
  const FLAGS = {
    '--train-images': join(dir, 'digits.train.img'),
    '--train-labels': join(dir, 'digits.train.lbl'),
    '--test-images': join(dir, 'holdout-images.gz'),
    '--test-labels': join(dir, 'holdout-labels'),
  }

  it('train takes all four', async () => {
    const r = await runMain(['train', '--model', 'lenet5', '--epochs', '1', ...Object.entries(FLAGS).flat()])
    expect(r.stderr).not.toMatch(/^error/m)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^training lenet5 .*: 64 training images, 32 test images$/m)
    const data = await loadData({
      files: { trainImages: FLAGS['--train-images'], trainLabels: FLAGS['--train-labels'], testImages: FLAGS['--test-images'], testLabels: FLAGS['--test-labels'] },
    })
    expect([data.kind, data.train.length, data.test.length]).toEqual(['idx', 64, 32])
    expect(data.train.image(5)).toEqual(imageOf(mnistSample(64).images, 5))
  })

  it.each([
    [['--train-images'], '--train-images needs --train-labels, --test-images, --test-labels too'],
    [['--train-images', '--test-labels'], '--train-images, --test-labels need --train-labels, --test-images too'],
    [['--train-labels', '--test-images', '--test-labels'], '--train-labels, --test-images, --test-labels need --train-images too'],
  ])('giving only %j is a usage error naming the missing ones', async (given, message) => {
    const args = given.flatMap((flag) => [flag, FLAGS[flag as keyof typeof FLAGS]])
    const r = await runMain(['train', '--model', 'lenet5', '--epochs', '1', ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`error: ${message}\n`)
    expect(r.stdout).toBe('')
  })

  it('not with --data, and a missing one is named', async () => {
    const both = await runMain(['train', '--data', dir, ...Object.entries(FLAGS).flat()])
    expect(both.code).toBe(2)
    expect(both.stderr).toBe('error: --data and --train-images name the data twice: give one or the other\n')
    const missing = join(dir, 'no-such-labels')
    const r = await runCli(['train', '--model', 'lenet5', '--epochs', '1', ...Object.entries({ ...FLAGS, '--test-labels': missing }).flat()])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: /)
    expect(r.stderr).toContain(missing)
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
  })
})

// ---------------------------------------------------------------- arrays and descriptions

describe('datasets from arrays, and descriptions that must fit the data', () => {
  /** 24 colour 16×16 images of three classes: a bright plane per class, planar. */
  const arrays = (() => {
    const count = 24
    const images = new Uint8Array(count * 3 * 256)
    const labels = new Uint8Array(count)
    for (let i = 0; i < count; i++) {
      labels[i] = i % 3
      for (let c = 0; c < 3; c++) images.fill(c === labels[i] ? 200 + (i % 7) : 20 + ((i * c) % 11), (i * 3 + c) * 256, (i * 3 + c + 1) * 256)
    }
    return { images, labels }
  })()
  const NET = {
    format: 'googlenet-native/model',
    version: 1,
    name: 'tiny',
    input: [1, 28, 28],
    layers: [
      { type: 'conv2d', name: 'stem', outChannels: 4, kernel: 3, padding: 1 },
      { type: 'relu' },
      { type: 'globalAvgPool', name: 'gap' },
      { type: 'linear', name: 'fc', outFeatures: 10 },
    ],
  }
  const withHead = (input: number[], outFeatures: number): ModelDescription =>
    ({ ...NET, input, layers: [...NET.layers.slice(0, 3), { type: 'linear', name: 'fc', outFeatures }] }) as unknown as ModelDescription

  it('fromArrays with a [3, h, w] shape and class names makes a colour set a zoo model is made for', async () => {
    const data = Dataset.fromArrays({ ...arrays, shape: [3, 16, 16], classNames: ['cat', 'dog', 'eel'] })
    expect([data.channels, data.height, data.width, data.length]).toEqual([3, 16, 16, 24])
    expect(data.classNames).toEqual(['cat', 'dog', 'eel'])
    expect(data.classCounts()).toEqual([8, 8, 8])
    expect(data.image(1)).toEqual(arrays.images.subarray(3 * 256, 6 * 256))
    const model = createModel('lenet5', { data })
    expect([model.channels, model.inputSize.height, model.inputSize.width, model.classes]).toEqual([3, 16, 16, 3])
    expect(model.classNames).toEqual(['cat', 'dog', 'eel'])
    const { mean } = channelStats(data)
    model.normalization.mean.forEach((m, c) => expect(Math.abs(m - mean[c])).toBeLessThanOrEqual(5.1e-5))
    await model.fit(data, { epochs: 1, batchSize: 8 })
    const { labels } = await model.predict(arrays.images)
    expect(labels).toHaveLength(24)
    expect(() => Dataset.fromArrays({ ...arrays, shape: [2, 16, 16] })).toThrow(RangeError)
    expect(() => Dataset.fromArrays({ ...arrays, shape: [3, 16, 16], classNames: ['cat', 'dog'] })).toThrow('with 2 classes labels must be 0..1')
  })

  it('a description whose input or class count differs from the data is refused, naming both', () => {
    const data = Dataset.fromArrays({ ...arrays, shape: [3, 16, 16], classNames: ['cat', 'dog', 'eel'] })
    expect(() => createModel(NET as unknown as ModelDescription, { data })).toThrow(RangeError)
    expect(() => createModel(NET as unknown as ModelDescription, { data })).toThrow(
      'model "tiny" takes 28x28 grey images and gives 10 class scores, but the data has 16x16 3-channel images in 3 classes',
    )
    expect(() => createModel(withHead([3, 16, 16], 10), { data })).toThrow(
      'model "tiny" takes 16x16 3-channel images and gives 10 class scores, but the data has 16x16 3-channel images in 3 classes',
    )
    const fits = createModel(withHead([3, 16, 16], 3), { data })
    expect([fits.channels, fits.classes, fits.classNames]).toEqual([3, 3, ['cat', 'dog', 'eel']])
  })

  it('train --model-file refuses a description that does not fit the folder, in one line naming both shapes', async () => {
    const grey = join(fixtures.root, 'tiny-grey.json')
    writeFileSync(grey, JSON.stringify(NET))
    const r = await runCli(['train', '--model-file', grey, '--epochs', '1', '--data', COLOUR])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toBe('error: model "tiny" takes 28x28 grey images and gives 10 class scores, but the data has 16x16 3-channel images in 3 classes\n')
    const three = join(fixtures.root, 'tiny-three.json')
    writeFileSync(three, JSON.stringify(withHead([1, 28, 28], 3)))
    const digits = await runCli(['train', '--model-file', three, '--epochs', '1', '--data', SPLITS])
    expect(digits.stderr).toBe('error: model "tiny" takes 28x28 grey images and gives 3 class scores, but the data has 28x28 grey images in 10 classes\n')
    const fits = join(fixtures.root, 'tiny-colour.json')
    writeFileSync(fits, JSON.stringify(withHead([3, 16, 16], 3)))
    const ok = await runCli(['train', '--model-file', fits, '--epochs', '1', '--data', COLOUR])
    expect(ok.stderr).not.toMatch(/^error/m)
    expect(ok.code).toBe(0)
  })
})
