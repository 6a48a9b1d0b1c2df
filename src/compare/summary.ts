/**
 * A comparison's finished runs, summed up per model: the final test error
 * over seeds with its interval, the best epoch, time per epoch, a test
 * against the first model, and the paper's figure for its residual design.
 * The same runs give the same summary, whatever order they come in (one
 * process, workers or merged shards).
 * @module
 */
import { describeModel } from '../describe/source.js'
import { holm, mean, meanInterval, sampleSd, welchTest } from './stats.js'
import type { Comparison, MachineInfo, ModelComparison, PaperFigure, RunRecord } from './types.js'

/**
 * He et al. 2016, "Identity Mappings in Deep Residual Networks" (ECCV),
 * Table 2: CIFAR-10 test error (%) of ResNet-110 with each residual unit.
 */
export const PAPER_FIGURES: Readonly<Record<string, PaperFigure>> = Object.freeze({
  'resnet-original': { design: '(a)', name: 'original', errorPercent: 6.61 },
  'resnet-bn-after-add': { design: '(b)', name: 'BN after addition', errorPercent: 8.17 },
  'resnet-relu-before-add': { design: '(c)', name: 'ReLU before addition', errorPercent: 7.84 },
  'resnet-relu-only-preact': { design: '(d)', name: 'ReLU-only pre-activation', errorPercent: 6.71 },
  'resnet-full-preact': { design: '(e)', name: 'full pre-activation', errorPercent: 6.37 },
})

/** The five designs of the paper, in its order: `--models designs`. */
export const RESIDUAL_DESIGNS: readonly string[] = Object.freeze(Object.keys(PAPER_FIGURES))

/** The paper's figure for `run`'s model, when it is the zoo's model of that name (not a description that took the name). */
function paperFigure(run: RunRecord): PaperFigure | undefined {
  const figure = PAPER_FIGURES[run.model]
  if (figure === undefined) return undefined
  const zoo = describeModel(run.model, run.settings.depth === null ? {} : { depth: run.settings.depth })
  return JSON.stringify(zoo) === JSON.stringify(run.description) ? figure : undefined
}

const errorOf = (accuracy: number | undefined): number => 1 - (accuracy ?? Number.NaN)

/** The models in order: the first run's comparison's order, then any model it does not list, as met. */
function modelOrder(runs: readonly RunRecord[]): string[] {
  const order = [...(runs[0]?.sweep.models ?? [])]
  for (const run of runs) if (!order.includes(run.model)) order.push(run.model)
  return order
}

function summarizeModel(model: string, runs: readonly RunRecord[]): ModelComparison {
  const errors = runs.map((r) => errorOf(r.testAccuracy))
  const { mean: errorMean, sd, low, high } = meanInterval(errors)
  const epochs = Math.max(...runs.map((r) => r.history.length))
  const curve = Array.from({ length: epochs }, (_, i) => {
    const values = runs.flatMap((r) => {
      const accuracy = r.history[i]?.testAccuracy
      return accuracy === undefined ? [] : [errorOf(accuracy)]
    })
    return { epoch: i + 1, mean: mean(values), sd: sampleSd(values), min: Math.min(...values), max: Math.max(...values) }
  })
  const best = curve.reduce((a, b) => (b.mean < a.mean ? b : a))
  const first = runs[0] as RunRecord
  const paper = paperFigure(first)
  return {
    model,
    params: first.params,
    macs: first.macs,
    seeds: runs.map((r) => r.seed),
    error: { mean: errorMean, sd, low, high },
    bestEpoch: { epoch: best.epoch, error: best.mean },
    secondsPerEpoch: mean(runs.map((r) => r.history.reduce((t, e) => t + e.seconds, 0) / r.history.length)),
    ...(paper === undefined ? {} : { paper }),
    curve,
  }
}

/** Welch's tests of every model against the first, significance by Holm's correction over all of them. */
function addTests(models: ModelComparison[], runs: ReadonlyMap<string, RunRecord[]>): void {
  const [first, ...others] = models
  if (first === undefined || first.seeds.length < 2) return
  const firstErrors = (runs.get(first.model) ?? []).map((r) => errorOf(r.testAccuracy))
  const tested = others.filter((m) => m.seeds.length >= 2)
  const results = tested.map((m) => welchTest((runs.get(m.model) ?? []).map((r) => errorOf(r.testAccuracy)), firstErrors))
  const significant = holm(results.map((r) => r.p))
  tested.forEach((m, i) => {
    const r = results[i] as (typeof results)[number]
    m.test = { against: first.model, difference: m.error.mean - first.error.mean, ...r, significant: significant[i] ?? false }
  })
}

/** Machines and how many runs each trained, most runs first (ties in a fixed order, whatever order the runs came in). */
function machines(runs: readonly RunRecord[]): Comparison['machines'] {
  const found = new Map<string, { machine: MachineInfo; runs: number }>()
  for (const run of runs) {
    const { cpu, isa, threads, cores, platform, binary } = run.machine
    const key = JSON.stringify([cpu, isa, threads, cores, platform, binary])
    const entry = found.get(key) ?? { machine: run.machine, runs: 0 }
    entry.runs += 1
    found.set(key, entry)
  }
  const key = (m: MachineInfo): string => JSON.stringify([m.cpu, m.isa, m.threads, m.platform])
  return [...found.values()].sort((a, b) => b.runs - a.runs || (key(a.machine) < key(b.machine) ? -1 : 1))
}

/**
 * The comparison `runs` make, which must be runs of one comparison (see
 * `checkOneComparison`). Runs are taken by model, in seed order.
 * @param expected - the (model, seed) runs the comparison consists of;
 *   default: the models and seeds its runs list (their `sweep`)
 */
export function summarizeRuns(runs: readonly RunRecord[], expected?: { models: readonly string[]; seeds: readonly number[] }): Comparison {
  const first = runs[0]
  if (first === undefined) throw new RangeError('a comparison needs at least one finished run')
  const order = expected === undefined ? modelOrder(runs) : [...expected.models, ...modelOrder(runs).filter((m) => !expected.models.includes(m))]
  const byModel = new Map<string, RunRecord[]>()
  for (const model of order) byModel.set(model, runs.filter((r) => r.model === model).sort((a, b) => a.seed - b.seed))
  const models = order.flatMap((model) => {
    const mine = byModel.get(model) ?? []
    return mine.length === 0 ? [] : [summarizeModel(model, mine)]
  })
  addTests(models, byModel)
  const plan = expected ?? { models: order, seeds: [...new Set(runs.flatMap((r) => r.sweep.seeds))].sort((a, b) => a - b) }
  const finished = new Set(runs.map((r) => `${r.model}\u0000${r.seed}`))
  const missing = plan.seeds.flatMap((seed) => plan.models.filter((model) => !finished.has(`${model}\u0000${seed}`)).map((model) => ({ model, seed })))
  return {
    models,
    runs: runs.length,
    expected: plan.models.length * plan.seeds.length,
    missing,
    settings: first.settings,
    data: first.data,
    machines: machines(runs),
  }
}
