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
import type { EngineReply, EngineRequest, TopPrediction, TrainSettings } from './protocol.js'

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

async function train(settings: TrainSettings): Promise<void> {
  if (training !== undefined) throw new Error('a model is training already')
  const token = new native.CancelToken()
  training = token
  try {
    const [trainSet, testSet] = await Promise.all([fetchSplit('train', settings.trainCount), fetchSplit('test', settings.testCount)])
    reply({ type: 'data', trainCount: trainSet.length, testCount: testSet.length })
    // A file records the depth it was trained at, as Model.save does.
    const depth = catalog.find((entry) => entry.name === settings.model)?.depth?.default
    const model = new native.NativeModel(settings.model, settings.seed, 'cpu', depth)
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
  handle(event.data).catch((error: unknown) => reply({ type: 'error', during: event.data.type, message: describeError(error) }))
}

// WASI shows the module one core: size the engine's pool from the browser's count.
const threads = native.useThreads(navigator.hardwareConcurrency || 1)
const catalog = native.modelCatalog().filter(({ input }) => input.channels === 1 && input.height === 28 && input.width === 28)
const models = catalog.map(({ name, about }) => ({ name, about }))
reply({ type: 'ready', threads, models, defaultModel: native.DEFAULT_MODEL })
