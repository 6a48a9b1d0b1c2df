/**
 * The engine of the page: a module worker that runs the WebAssembly build
 * of the addon (the same Rust core as the native build), so neither
 * prediction nor training ever blocks the page. It holds two models: the
 * one the drawing panel predicts with and the one being trained in the tab.
 * @module
 */
// First: the loader's thread workers come from the page (engine-threads.ts says why).
import './engine-threads.js'
import * as native from 'googlenet-native-wasm32-wasi'
import type { CancelToken, NativeModel, NativeProgressEvent } from 'googlenet-native-wasm32-wasi'
import { MAX_COUNT, checkInteger } from '../integer-check.js'
import { wholeNumber } from '../numerals.js'
import type { EngineReply, EngineRequest, ModelChoice, OwnModel, TopPrediction, TrainSettings } from './protocol.js'

/** The image size of MNIST, which the pad's digits are fitted into. */
const SIDE = 28

/** The worker's side of postMessage, without the WebWorker lib (the page's DOM lib is loaded). */
const scope = self as unknown as {
  postMessage(message: EngineReply, transfer?: Transferable[]): void
  onmessage: ((event: MessageEvent<EngineRequest>) => void) | null
}

const reply = (message: EngineReply, transfer: Transferable[] = []): void => scope.postMessage(message, transfer)

/** The package version, for the metadata of the files the tab trains. */
declare const PACKAGE_VERSION: string

let predictor: NativeModel | undefined
/** The latest pad waiting while a prediction runs: older ones are stale. */
let waiting: { id: number; png: ArrayBuffer } | undefined
let predicting = false

let trained: { model: NativeModel; record: Record } | undefined
let training: CancelToken | undefined

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function top3(probabilities: Float32Array): TopPrediction[] {
  return [...probabilities]
    .map((probability, label) => ({ label, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, 3)
}

/** Predicts the pads one at a time; a model runs one call at a time. */
async function predictNext(): Promise<void> {
  if (predicting || waiting === undefined || predictor === undefined) return
  const { id, png } = waiting
  waiting = undefined
  predicting = true
  try {
    const digit = await native.decodeDigitImage(new Uint8Array(png))
    if (digit.noDigit != null) {
      reply({ type: 'no-digit', id, reason: digit.noDigit })
    } else {
      const probabilities = await predictor.predict(digit.pixels, 1, [1, SIDE, SIDE])
      reply({ type: 'prediction', id, top: top3(probabilities) })
    }
  } catch (error) {
    reply({ type: 'error', during: 'predict', message: describeError(error) })
  } finally {
    predicting = false
  }
  await predictNext()
}

/** What the page shows of the model it predicts with. */
interface Record {
  epochs: number
  testAccuracy: number | null
}

function announce(model: NativeModel, name: string, record: Record): void {
  reply({ type: 'loaded', name, model: model.name, params: model.paramCount, ...record })
}

/** The first `count` images of a split, as the server slices them (IDX files). */
async function fetchSplit(split: 'train' | 'test', count: number): Promise<InstanceType<typeof native.NativeDataset>> {
  const get = async (part: 'images' | 'labels'): Promise<Uint8Array> => {
    const response = await fetch(`/mnist/${split}-${part}?count=${count}`)
    if (!response.ok) throw new Error(`the server sent no ${split} ${part} (${response.status} ${response.statusText})`)
    return new Uint8Array(await response.arrayBuffer())
  }
  const [images, labels] = await Promise.all([get('images'), get('labels')])
  return native.NativeDataset.fromIdx(images, labels, `${split} images`, `${split} labels`)
}

/** A setting of a run that the engine refuses, before any work: the page shows it at its field. */
class Refusal extends Error {
  constructor(
    readonly field: 'depth' | 'description',
    message: string,
  ) {
    super(message)
  }
}

/**
 * Runs `check`, turning its failure into a {@link Refusal} of `field`, its
 * message after `prefix` (what it is about, where the message does not say).
 */
function refusing<T>(field: Refusal['field'], check: () => T, prefix?: string): T {
  try {
    return check()
  } catch (error) {
    const message = describeError(error)
    throw new Refusal(field, prefix === undefined ? message : `${prefix}: ${message}`)
  }
}

/**
 * The depth field's text read as the CLI reads `--depth` (plain decimal
 * digits, an integer the addon takes), then checked by the core's rule for
 * `model`: the messages are the CLI's, with the field's name for the flag's.
 */
function depthOf(model: string, text: string): number {
  const depth = refusing('depth', () => checkInteger('depth', wholeNumber(text), 0, MAX_COUNT, text === '' ? '""' : text))
  refusing('depth', () => native.checkModel(model, depth), 'depth')
  return depth
}

/** A fresh model of a description (canonical JSON): refused unless it takes MNIST's 1×28×28 images. */
function ownModel(json: string, seed: number): NativeModel {
  const model = new native.NativeModel(json, seed, 'cpu')
  model.checkImageShape(1, SIDE, SIDE)
  return model
}

/**
 * A description file checked as `train --model-file` checks one: its size
 * before it is read, then every rule, limit and shape by the core (the
 * parser of the native build), then the image size of MNIST.
 */
async function readOwnModel(file: File): Promise<OwnModel> {
  const max = native.MAX_DESCRIPTION_BYTES
  if (file.size > max) throw new Error(`a model description is at most ${max} bytes of JSON (got ${file.size})`)
  // checkDescription, not the constructor, reads the text: the constructor
  // would take text that is no JSON object for a zoo model's name.
  const json = native.checkDescription(await file.text())
  const model = ownModel(json, 0)
  return { json, name: model.name, params: model.paramCount, classes: model.classNames.length, fileName: file.name }
}

/**
 * A run's fresh model, and the depth its file records (as Model.save
 * does), checked before any data is fetched.
 * @throws Refusal for a depth or a description the core refuses
 */
function freshModel(choice: ModelChoice, seed: number): { model: NativeModel; depth: number | undefined } {
  if (choice.kind === 'description') {
    return { model: refusing('description', () => ownModel(choice.json, seed), choice.fileName), depth: undefined }
  }
  const depth = choice.depth === undefined ? catalog.find((entry) => entry.name === choice.name)?.depth?.default : depthOf(choice.name, choice.depth)
  return { model: new native.NativeModel(choice.name, seed, 'cpu', depth), depth }
}

async function train(settings: TrainSettings): Promise<void> {
  if (training !== undefined) throw new Error('a model is training already')
  const { model, depth } = freshModel(settings.model, settings.seed)
  const token = new native.CancelToken()
  training = token
  try {
    const [trainSet, testSet] = await Promise.all([fetchSplit('train', settings.trainCount), fetchSplit('test', settings.testCount)])
    if (settings.model.kind === 'description') {
      // A description's class scores must cover MNIST's labels: refused
      // here, at its field, rather than as a failure of training.
      const { fileName } = settings.model
      refusing('description', () => model.checkData(trainSet, 'the training set'), fileName)
      refusing('description', () => model.checkData(testSet, 'the test set'), fileName)
    }
    reply({ type: 'data', trainCount: trainSet.length, testCount: testSet.length })
    // Test accuracy after each finished epoch: a stopped run keeps those.
    const finished: number[] = []
    const onProgress = (event: NativeProgressEvent): void => {
      const test = event.summary?.test
      if (event.kind === 'batch') {
        const imagesPerSecond = event.elapsedSeconds > 0 ? event.imagesSeen / event.elapsedSeconds : 0
        reply({ type: 'batch', epoch: event.epoch, batch: event.batch, batches: event.batches, loss: event.loss, imagesPerSecond })
      } else if (event.summary && test) {
        const { epoch, loss, seconds } = event.summary
        finished.push(test.accuracy)
        reply({ type: 'epoch', epoch, loss, testAccuracy: test.accuracy, testLoss: test.loss, seconds })
      }
    }
    let stopped = false
    try {
      await model.fit(
        trainSet,
        testSet,
        { epochs: settings.epochs, batchSize: settings.batchSize, seed: settings.seed, optimizer: settings.optimizer, lr: settings.lr },
        onProgress,
        token,
      )
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'Cancelled') throw error
      stopped = true
    }
    const done = finished.length
    const testAccuracy = finished.at(-1) ?? null
    const file = model.toBytes({
      model: model.name,
      ...(depth === undefined ? {} : { depth }),
      epochs: done,
      ...(testAccuracy === null ? {} : { testAccuracy }),
      version: PACKAGE_VERSION,
    })
    trained = { model, record: { epochs: done, testAccuracy } }
    const bytes = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer
    reply({ type: 'trained', stopped, epochs: done, testAccuracy, file: bytes }, [bytes])
  } finally {
    training = undefined
  }
}

async function handle(request: EngineRequest): Promise<void> {
  switch (request.type) {
    case 'load': {
      const model = native.NativeModel.fromBytes(new Uint8Array(request.file.bytes), request.file.name, 'cpu')
      model.checkImageShape(1, SIDE, SIDE)
      predictor = model
      const info = model.loadedInfo
      announce(model, request.file.name, { epochs: info?.epochs ?? 0, testAccuracy: info?.testAccuracy ?? null })
      return predictNext()
    }
    case 'predict':
      waiting = { id: request.id, png: request.png }
      return predictNext()
    case 'describe': {
      const { id, file } = request
      try {
        reply({ type: 'described', id, model: await readOwnModel(file) })
      } catch (error) {
        reply({ type: 'description-refused', id, message: `${file.name}: ${describeError(error)}` })
      }
      return
    }
    case 'train':
      return train(request.settings)
    case 'stop':
      training?.cancel()
      return
    case 'use-trained':
      if (trained === undefined) throw new Error('no model has been trained in this tab yet')
      predictor = trained.model
      announce(trained.model, 'the model trained in this tab', trained.record)
      return
  }
}

scope.onmessage = (event) => {
  handle(event.data).catch((error: unknown) => {
    if (error instanceof Refusal) reply({ type: 'refused', field: error.field, message: error.message })
    else reply({ type: 'error', during: event.data.type, message: describeError(error) })
  })
}

// WASI shows the module one core: size the engine's pool from the browser's count.
const threads = native.useThreads(navigator.hardwareConcurrency || 1)
const catalog = native.modelCatalog().filter(({ input }) => input.channels === 1 && input.height === 28 && input.width === 28)
const models = catalog.map(({ name, about, depth }) => ({ name, about, depth }))
reply({ type: 'ready', threads, models, defaultModel: native.DEFAULT_MODEL })
