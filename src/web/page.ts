/**
 * The page of `googlenet-native serve`: a drawing pad classified as it is
 * drawn, and a panel that trains a model in the tab. The work runs in the
 * engine worker; this file only draws and relays.
 * @module
 */
import { TrainingChart } from './chart.js'
import { DrawingPad } from './pad.js'
import { OPTION_SCHEMA, type OptionSpec } from '../generated/options.js'
import type { EngineReply, EngineRequest, ModelChoice, OwnModel, ThreadPortMessage, ThreadPorts, TopPrediction, TrainSettings, ZooModel } from './protocol.js'

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (!found) throw new Error(`the page has no #${id}`)
  return found as T
}

const percent = (p: number): string => `${(100 * p).toFixed(1)} %`
const count = (n: number): string => n.toLocaleString('en-US')

const engineStatus = element<HTMLParagraphElement>('engine')
const modelName = element<HTMLSpanElement>('model-name')
const topList = element<HTMLOListElement>('top')
const noDigit = element<HTMLParagraphElement>('no-digit')
const form = element<HTMLFormElement>('train-form')
const trainButton = element<HTMLButtonElement>('train')
const stopButton = element<HTMLButtonElement>('stop')
const download = element<HTMLAnchorElement>('download')
const useTrained = element<HTMLButtonElement>('use-trained')
const trainStatus = element<HTMLParagraphElement>('train-status')
// Adam by default: in one epoch on a few thousand images it gets far
// (0.88 test accuracy after one epoch on 2,000), where SGD at the
// reference recipe's settings (lr 0.01, batches of 64) reaches 0.46.
const optimizer = element<HTMLSelectElement>('optimizer')
const modelChoice = element<HTMLSelectElement>('model')
const modelAbout = element<HTMLParagraphElement>('model-about')
const depthField = element<HTMLLabelElement>('depth-field')
const depthInput = element<HTMLInputElement>('depth')
const descriptionField = element<HTMLLabelElement>('description-field')
const descriptionFile = element<HTMLInputElement>('description-file')
/** The model list's last choice, a description of one's own: no zoo name is empty. */
const OWN = ''
let zoo: ZooModel[] = []

/**
 * The description file chosen, as far as the engine has checked it. Its
 * replies carry the request's id: only the latest file's counts.
 */
type Description =
  | { state: 'none' }
  | { state: 'checking'; id: number; fileName: string }
  | { state: 'ready'; model: OwnModel }
  | { state: 'refused'; message: string }
let description: Description = { state: 'none' }
let describeId = 0

/** What the panel says of the chosen model: the zoo's line on it and its depths, or the description file's state. */
function showChoice(): void {
  const entry = zoo.find((m) => m.name === modelChoice.value)
  const own = modelChoice.value === OWN
  // A field out of use is disabled as well as hidden, so the form neither checks nor sends it.
  depthField.hidden = depthInput.disabled = entry?.depth == null
  descriptionField.hidden = descriptionFile.disabled = !own
  modelAbout.dataset.state = own ? description.state : ''
  if (!own) {
    const depth = entry?.depth
    modelAbout.textContent = `${entry?.about ?? ''}${depth ? ` Depth: residual units per stage, ${depth.min} to ${depth.max} (default ${depth.default}).` : ''}`
    return
  }
  switch (description.state) {
    case 'none':
      modelAbout.textContent =
        'A model of your own: a JSON description in the format of docs/model-description.md (npx googlenet-native describe prints one), chosen here or dropped on this panel.'
      return
    case 'checking':
      modelAbout.textContent = `Checking ${description.fileName}…`
      return
    case 'ready': {
      const { name, params, classes, fileName } = description.model
      modelAbout.textContent = `${name}, from ${fileName}: ${count(params)} parameters, ${classes} class scores. The trained file carries the description, so test --load and predict --load read it alone.`
      return
    }
    case 'refused':
      modelAbout.textContent = description.message
      return
  }
}
/** Shows the fields of the model chosen in the list. */
function modelChosen(): void {
  const entry = zoo.find((m) => m.name === modelChoice.value)
  // A depth typed for one ResNet stays for another; a model new to the field starts at its default.
  if (entry?.depth && depthInput.disabled) depthInput.value = String(entry.depth.default)
  showChoice()
}
modelChoice.addEventListener('change', modelChosen)
depthInput.addEventListener('input', () => depthInput.removeAttribute('aria-invalid'))

/** Has the engine check `file`, a description chosen or dropped, as `train --model-file` would. */
function describe(file: File): void {
  const id = ++describeId
  description = { state: 'checking', id, fileName: file.name }
  descriptionFile.removeAttribute('aria-invalid')
  showChoice()
  updateTrainButton()
  send({ type: 'describe', id, file })
}
descriptionFile.addEventListener('change', () => {
  const file = descriptionFile.files?.[0]
  if (file) {
    describe(file)
  } else {
    description = { state: 'none' }
    showChoice()
    updateTrainButton()
  }
})

// A file dropped anywhere on the training panel is a description of one's own.
const trainPanel = element<HTMLElement>('train-panel')
const carriesFiles = (event: DragEvent): boolean => event.dataTransfer?.types.includes('Files') ?? false
trainPanel.addEventListener('dragover', (event) => {
  if (!carriesFiles(event)) return
  event.preventDefault()
  if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy'
  trainPanel.classList.add('dropping')
})
// Beside the panel a dropped file would be opened by the browser, leaving the page and any run in it.
window.addEventListener('dragover', (event) => {
  if (!carriesFiles(event) || event.defaultPrevented) return
  event.preventDefault()
  if (event.dataTransfer) event.dataTransfer.dropEffect = 'none'
})
trainPanel.addEventListener('dragleave', (event) => {
  // Leaving a child for another is no leaving of the panel.
  if (!trainPanel.contains(event.relatedTarget as Node | null)) trainPanel.classList.remove('dropping')
})
trainPanel.addEventListener('drop', (event) => {
  trainPanel.classList.remove('dropping')
  const files = event.dataTransfer?.files
  if (!files?.length) return
  event.preventDefault()
  modelChoice.value = OWN
  modelChosen()
  // The file field shows what was dropped, as if it had been chosen there.
  descriptionFile.files = files
  describe(files[0])
})

const lr = element<HTMLInputElement>('lr')
// Each optimizer's default rate and the form's limits, as the core declares them.
const fitOption = (name: string): OptionSpec | undefined => OPTION_SCHEMA.find((s) => s.command === 'fit' && s.name === name)
const learningRates: Readonly<Record<string, number>> = fitOption('lr')?.defaultByOptimizer ?? {}
for (const [id, name] of [
  ['epochs', 'epochs'],
  ['batch-size', 'batchSize'],
] as const) {
  const spec = fitOption(name)
  const input = element<HTMLInputElement>(id)
  if (spec?.min !== null && spec?.min !== undefined) input.min = String(spec.min)
  // The page keeps its own smaller limit where it has one (a tab trains slowly).
  if (spec?.max !== null && spec?.max !== undefined && (input.max === '' || Number(input.max) > spec.max)) input.max = String(spec.max)
}
optimizer.addEventListener('change', () => {
  const rate = learningRates[optimizer.value]
  if (rate !== undefined) lr.value = String(rate)
})
const chart = new TrainingChart(element<HTMLCanvasElement>('chart'))

const engine = new Worker(new URL('./engine-worker.mjs', import.meta.url), { type: 'module', name: 'googlenet-native engine' })
const send = (request: EngineRequest, transfer: Transferable[] = []): void => engine.postMessage(request, transfer)

// The engine's threads: workers created here, on the page's thread, and
// handed to the engine as ports (src/web/engine-threads.ts says why).
const threadWorkers: Worker[] = []
function startThreads(count: number): void {
  const ports: MessagePort[] = []
  for (let i = 0; i < count; i++) {
    const worker = new Worker(new URL('./wasi-worker-browser.mjs', import.meta.url), { type: 'module', name: `googlenet-native thread ${threadWorkers.length + 1}` })
    worker.addEventListener('error', (event) => {
      engineStatus.textContent = `An engine thread failed: ${event.message}`
      console.error('engine thread:', event.message)
    })
    const channel = new MessageChannel()
    const first: ThreadPortMessage = { threadPort: channel.port1 }
    worker.postMessage(first, [channel.port1])
    threadWorkers.push(worker)
    ports.push(channel.port2)
  }
  const reply: ThreadPorts = { type: 'threads', ports }
  engine.postMessage(reply, ports)
}

// Predictions: every change to the pad is sent; the engine predicts one at a
// time and keeps only the latest waiting.
// #top's data attributes say how many predictions were shown and whether the
// latest is of the pad as it is now (for tests and assistive tools alike).
let padId = 0
let shownId = 0
let shown = 0
const pad = new DrawingPad(element<HTMLCanvasElement>('pad'), () => {
  const id = ++padId
  topList.dataset.current = 'false'
  pad
    .png()
    .then((png) => send({ type: 'predict', id, png }, [png]))
    .catch((error: unknown) => console.error(error))
})
element<HTMLButtonElement>('clear').addEventListener('click', () => {
  pad.clear()
  // Replies to the pads before the clear are stale from now on.
  shownId = ++padId
  topList.dataset.current = 'true'
  showTop([])
  noDigit.textContent = ''
})

function showTop(top: TopPrediction[]): void {
  topList.replaceChildren(
    ...top.map(({ label, probability }) => {
      const item = document.createElement('li')
      item.dataset.label = String(label)
      item.innerHTML = `<span class="label">${label}</span><span class="bar"></span><span class="value">${percent(probability)}</span>`
      const bar = item.querySelector<HTMLSpanElement>('.bar')
      if (bar) bar.style.width = `${Math.max(1, 100 * probability)}%`
      return item
    }),
  )
  topList.dataset.prediction = top[0] === undefined ? '' : String(top[0].label)
}

/**
 * The model the form chooses and the name its run is called by, or why
 * there is none to train (a description file missing, refused or not yet
 * checked).
 */
function chosenModel(): { model: ModelChoice; name: string } | { refused: string } {
  if (modelChoice.value !== OWN) {
    const name = modelChoice.value
    return { model: depthInput.disabled ? { kind: 'zoo', name } : { kind: 'zoo', name, depth: depthInput.value }, name }
  }
  switch (description.state) {
    case 'ready': {
      const { json, fileName, name } = description.model
      return { model: { kind: 'description', json, fileName }, name }
    }
    case 'refused':
      return { refused: description.message }
    default:
      return { refused: 'choose a model description (a JSON file) first' }
  }
}

function settings(model: ModelChoice): TrainSettings {
  const number = (id: string): number => Number(element<HTMLInputElement>(id).value)
  return {
    model,
    trainCount: number('train-count'),
    testCount: number('test-count'),
    epochs: number('epochs'),
    batchSize: number('batch-size'),
    optimizer: optimizer.value,
    lr: number('lr'),
    seed: 0,
  }
}

let trainedUrl: string | undefined
let training = false
/** The model of the latest run, to tell whether a refusal is of the description still chosen. */
let runModel: ModelChoice | undefined

/** Train waits while a run goes on and while a description file is being checked. */
function updateTrainButton(): void {
  trainButton.disabled = training || description.state === 'checking'
}

/** A run refused before it started: `message` in the status, the field at fault marked. */
function refuseRun(message: string, field?: HTMLInputElement): void {
  trainStatus.dataset.state = 'failed'
  trainStatus.textContent = `Training refused: ${message}`
  field?.setAttribute('aria-invalid', 'true')
  field?.focus()
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const chosen = chosenModel()
  if ('refused' in chosen) {
    refuseRun(chosen.refused, descriptionFile)
    return
  }
  const run = settings(chosen.model)
  runModel = chosen.model
  download.download = `${chosen.name}-tab.safetensors`
  chart.start(run.epochs)
  training = true
  updateTrainButton()
  stopButton.disabled = false
  download.hidden = true
  useTrained.hidden = true
  trainStatus.dataset.state = 'running'
  trainStatus.textContent = `Fetching ${count(run.trainCount)} training and ${count(run.testCount)} test images…`
  send({ type: 'train', settings: run })
})
stopButton.addEventListener('click', () => {
  stopButton.disabled = true
  trainStatus.textContent = 'Stopping after this batch…'
  send({ type: 'stop' })
})
useTrained.addEventListener('click', () => send({ type: 'use-trained' }))

function trainingEnded(): void {
  training = false
  updateTrainButton()
  stopButton.disabled = true
}

engine.addEventListener('error', (event) => {
  engineStatus.textContent = `The engine failed to start: ${event.message}`
  console.error('engine worker:', event.message)
})

engine.addEventListener('message', (event: MessageEvent<EngineReply>) => {
  const reply = event.data
  switch (reply.type) {
    case 'need-threads':
      startThreads(reply.count)
      return
    case 'end-thread':
      threadWorkers[reply.index]?.terminate()
      return
    case 'ready':
      zoo = reply.models
      modelChoice.replaceChildren(
        ...zoo.map(({ name }) => {
          const option = document.createElement('option')
          option.value = option.textContent = name
          option.selected = name === reply.defaultModel
          return option
        }),
        new Option('a description of your own (JSON)…', OWN),
      )
      modelChosen()
      engineStatus.textContent = `Engine ready: the WebAssembly build of the Rust core, ${reply.threads} thread${reply.threads === 1 ? '' : 's'}.`
      fetch('/model.safetensors')
        .then(async (response) => {
          if (!response.ok) throw new Error(`the server sent no model (${response.status})`)
          const name = decodeURIComponent(response.headers.get('X-Model-Name') ?? 'model.safetensors')
          const bytes = await response.arrayBuffer()
          send({ type: 'load', file: { bytes, name } }, [bytes])
        })
        .catch((error: unknown) => {
          modelName.textContent = String(error)
          console.error(error)
        })
      return
    case 'loaded': {
      const trained = reply.testAccuracy === null ? '' : `, ${percent(reply.testAccuracy)} on the MNIST test set after ${reply.epochs} epoch${reply.epochs === 1 ? '' : 's'}`
      modelName.textContent = `${reply.model} (${count(reply.params)} parameters${trained}), from ${reply.name}`
      document.body.dataset.model = reply.name
      return
    }
    case 'prediction':
    case 'no-digit':
      // A reply to an older pad (or to one since cleared) is stale.
      if (reply.id < shownId || reply.id > padId) return
      shownId = reply.id
      topList.dataset.current = String(reply.id === padId)
      topList.dataset.shown = String(++shown)
      if (reply.type === 'prediction') {
        showTop(reply.top)
        noDigit.textContent = ''
      } else {
        showTop([])
        noDigit.textContent = `No digit yet: ${reply.reason}.`
      }
      return
    case 'described':
    case 'description-refused':
      // A reply about a file since replaced is stale.
      if (description.state !== 'checking' || reply.id !== description.id) return
      description = reply.type === 'described' ? { state: 'ready', model: reply.model } : { state: 'refused', message: reply.message }
      if (reply.type === 'description-refused') descriptionFile.setAttribute('aria-invalid', 'true')
      showChoice()
      updateTrainButton()
      return
    case 'refused':
      trainingEnded()
      // The data refused the description (too few class scores): the file is marked, unless replaced since.
      if (description.state === 'ready' && runModel?.kind === 'description' && description.model.json === runModel.json) {
        description = { state: 'refused', message: reply.message }
        showChoice()
      }
      refuseRun(reply.message, reply.field === 'depth' ? depthInput : descriptionFile)
      return
    case 'data':
      trainStatus.textContent = `Training on ${count(reply.trainCount)} images, testing on ${count(reply.testCount)}…`
      return
    case 'batch':
      chart.addLoss({ x: reply.epoch - 1 + reply.batch / reply.batches, y: reply.loss })
      trainStatus.textContent = `Epoch ${reply.epoch}, batch ${reply.batch} of ${reply.batches}: loss ${reply.loss.toFixed(3)}, ${count(Math.round(reply.imagesPerSecond))} images/s`
      return
    case 'epoch':
      chart.addAccuracy({ x: reply.epoch, y: reply.testAccuracy })
      // Machine-readable, for scripts/bench-tab.mjs.
      trainStatus.dataset.epochSeconds = String(reply.seconds)
      trainStatus.textContent = `Epoch ${reply.epoch}: test accuracy ${percent(reply.testAccuracy)}, test loss ${reply.testLoss.toFixed(3)} (${reply.seconds.toFixed(1)} s)`
      return
    case 'trained': {
      trainingEnded()
      if (trainedUrl) URL.revokeObjectURL(trainedUrl)
      trainedUrl = URL.createObjectURL(new Blob([reply.file], { type: 'application/octet-stream' }))
      download.href = trainedUrl
      download.hidden = false
      useTrained.hidden = false
      const accuracy = reply.testAccuracy === null ? 'no epoch finished' : `test accuracy ${percent(reply.testAccuracy)}`
      trainStatus.textContent = `${reply.stopped ? 'Stopped' : 'Done'} after ${reply.epochs} epoch${reply.epochs === 1 ? '' : 's'}: ${accuracy}.`
      trainStatus.dataset.state = reply.stopped ? 'stopped' : 'done'
      trainStatus.dataset.accuracy = reply.testAccuracy === null ? '' : String(reply.testAccuracy)
      return
    }
    case 'error':
      if (reply.during === 'train') {
        trainingEnded()
        trainStatus.dataset.state = 'failed'
        trainStatus.textContent = `Training failed: ${reply.message}`
      } else {
        engineStatus.textContent = `Error (${reply.during}): ${reply.message}`
      }
      console.error(`engine (${reply.during}): ${reply.message}`)
      return
  }
})
