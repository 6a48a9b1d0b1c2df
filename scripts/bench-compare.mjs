#!/usr/bin/env node
// Ours against PyTorch and ONNX Runtime on this machine, model by model,
// back to back: for each zoo model, three rounds of `bench` (ours), then
// scripts/pytorch-zoo-bench.py (its PyTorch twin, same batches and recipe),
// then scripts/ort-zoo-bench.py (ONNX Runtime on our own export of it, same
// threads, inference only), A B C A B C, batch 64, and the latency of
// single-image predictions (ours and ONNX Runtime's). Prints each round, then
// a table of medians and ratios (JSON on the last line). googlenet's twin is
// the reference's Net, and its data path is the reference's --loader tensor
// (the set normalized once in memory), so this replaces running
// pytorch_reference.py itself. The Python interpreter needs torch, numpy and
// onnxruntime.
//
//   npm run bench:compare                          # every model; PYTHON=/path/to/python to pick the interpreter
//   npm run bench:compare -- lenet5 residual       # only these
//   BENCH_BATCHES=200 npm run bench:compare
//   BENCH_DEPTH=4 npm run bench:compare -- resnet-original   # the models that take a depth, at this one
//   npm run bench:compare -- --isa avx2            # both sides held to AVX2 (on an AVX-512 machine: what most CPUs run)
//   npm run bench:compare -- --threads 1 googlenet # both sides on this many threads
//
// --isa sets GOOGLENET_NATIVE_CPU for ours and ATEN_CPU_CAPABILITY and
// ONEDNN_MAX_CPU_ISA for PyTorch (its own kernels and oneDNN's); --threads
// sets GOOGLENET_NATIVE_THREADS and OMP_NUM_THREADS.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const python = process.env.PYTHON ?? 'python3'
const batches = Number(process.env.BENCH_BATCHES ?? 200)
const batchSize = 64
const rounds = 3

// What --isa holds each side to: ours, PyTorch's ATen kernels, oneDNN's.
const ISA_ENV = {
  avx512: { ours: 'avx512', aten: 'avx512', onednn: 'AVX512_CORE' },
  avx2: { ours: 'avx2', aten: 'avx2', onednn: 'AVX2' },
  baseline: { ours: 'baseline', aten: 'default', onednn: 'SSE41' },
}

function parseArgs(argv) {
  const parsed = { models: [], isa: null, threads: null }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--isa' || arg === '--threads') {
      const value = argv[++i]
      if (arg === '--isa' && !(value in ISA_ENV)) fail(`--isa takes ${Object.keys(ISA_ENV).join(', ')}, not ${value ?? 'nothing'}`)
      if (arg === '--threads' && !/^[1-9][0-9]*$/.test(value ?? '')) fail(`--threads takes a whole number >= 1, not ${value ?? 'nothing'}`)
      parsed[arg.slice(2)] = value
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg} (options: --isa avx512|avx2|baseline, --threads N)`)
    } else {
      parsed.models.push(arg)
    }
  }
  return parsed
}

function fail(message) {
  console.error(message)
  process.exit(1)
}

const { models, isa, threads: threadCount } = parseArgs(process.argv.slice(2))
const oursEnv = {
  ...process.env,
  ...(isa ? { GOOGLENET_NATIVE_CPU: ISA_ENV[isa].ours } : {}),
  ...(threadCount ? { GOOGLENET_NATIVE_THREADS: threadCount } : {}),
}
// ONNX Runtime's MLAS picks its kernels from the CPU alone, with no switch to
// hold them to an instruction set: under --isa its figures stay native.
const ortEnv = process.env
const pytorchEnv = {
  ...process.env,
  ...(isa ? { ATEN_CPU_CAPABILITY: ISA_ENV[isa].aten, ONEDNN_MAX_CPU_ISA: ISA_ENV[isa].onednn } : {}),
  ...(threadCount ? { OMP_NUM_THREADS: threadCount } : {}),
}

function run(command, args, env) {
  const r = spawnSync(command, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 1 << 24 })
  if (r.status !== 0) {
    process.stderr.write(r.stderr)
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status}`)
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1))
}

// Every zoo model (aliases aside) and those that take a depth: the core's
// catalog, through the built package (scripts/pytorch_zoo.py has a twin of each).
const { createModel, modelCatalog } = await import(join(root, 'dist', 'index.js'))
const ZOO = modelCatalog().map((m) => m.name)
const takesDepth = new Set(modelCatalog().filter((m) => m.depth !== null).map((m) => m.name))
const depth = process.env.BENCH_DEPTH
// BENCH_DEPTH for the models that take a depth, none for the others.
const depthOf = (model) => (depth !== undefined && takesDepth.has(model) ? depth : undefined)
const args = (model) => [
  '--model', model, '--batches', String(batches), '--batch-size', String(batchSize), '--warmup', '5',
  ...(depthOf(model) === undefined ? [] : ['--depth', depthOf(model)]),
]
const figures = (r) => ({ train: r.trainImagesPerSec, infer: r.inferImagesPerSec, rssMiB: r.peakRssMiB })
// Ours also reports the nominal GFLOP/s and their share of this path's SGEMM peak.
const ourFigures = (r) => ({
  ...figures(r), isa: r.isa, threads: r.threads, trainPeak: r.fractionOfPeak.train, inferPeak: r.fractionOfPeak.infer,
  latencyMs: r.latency.medianMs, p99Ms: r.latency.p99Ms,
})
const ours = (model) => ourFigures(run('node', [join(root, 'dist', 'cli.js'), 'bench', '--json', ...args(model)], oursEnv))
const pytorch = (model) => figures(run(python, [join(root, 'scripts', 'pytorch-zoo-bench.py'), ...args(model)], pytorchEnv))
// ONNX Runtime runs our export of the same model (seed 1, untrained: speed does not depend on the weights).
const onnxDir = mkdtempSync(join(tmpdir(), 'bench-compare-'))
process.on('exit', () => rmSync(onnxDir, { recursive: true, force: true }))
async function exportOnnx(model) {
  const path = join(onnxDir, `${model}.onnx`)
  const created = await createModel(model, { seed: 1, ...(depthOf(model) === undefined ? {} : { depth: Number(depthOf(model)) }) })
  await created.exportOnnx(path)
  return path
}
const onnxRuntime = (onnx, threads) => {
  const r = run(python, [join(root, 'scripts', 'ort-zoo-bench.py'), '--onnx', onnx, '--threads', String(threads), '--batches', String(batches),
    '--batch-size', String(batchSize), '--warmup', '5'], ortEnv)
  return { infer: r.inferImagesPerSec, rssMiB: r.peakRssMiB, latencyMs: r.latency.medianMs, p99Ms: r.latency.p99Ms }
}

const percent = (x) => `${Math.round(x * 100)} %`
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x, width = 7) => String(Math.round(x)).padStart(width)

// What the figures depend on most: the CPU and which vector units PyTorch's kernels may use.
function cpu() {
  const info = readFileSync('/proc/cpuinfo', 'utf8')
  const name = info.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown CPU'
  const flags = info.match(/^flags\s*:\s*(.*)$/m)?.[1].split(' ') ?? []
  const avx512 = flags.filter((f) => f.startsWith('avx512'))
  return { name, avx2: flags.includes('avx2'), avx512 }
}

const unknown = models.filter((m) => !ZOO.includes(m))
if (unknown.length) {
  console.error(`unknown model ${unknown.join(', ')} (known: ${ZOO.join(', ')})`)
  process.exit(1)
}
const probe = spawnSync(
  python,
  ['-c', 'import torch, numpy; print(torch.__version__, torch.get_num_threads(), torch.backends.cpu.get_cpu_capability())'],
  { encoding: 'utf8', env: pytorchEnv },
)
if (probe.status !== 0) {
  console.error(`PyTorch is not installed for ${python}: install it with "pip install torch numpy onnxruntime" ` +
    '(or point PYTHON at an interpreter that has it), then run npm run bench:compare again.')
  process.exit(1)
}
const [torch, threads, torchIsa] = probe.stdout.trim().split(' ')
const ortProbe = spawnSync(python, ['-c', 'import onnxruntime; print(onnxruntime.__version__)'], { encoding: 'utf8', env: ortEnv })
if (ortProbe.status !== 0) {
  console.error(`ONNX Runtime is not installed for ${python}: install it with "pip install onnxruntime", then run npm run bench:compare again.`)
  process.exit(1)
}
const ortVersion = ortProbe.stdout.trim()
const machine = cpu()
console.log(`${machine.name}; AVX2 ${machine.avx2 ? 'yes' : 'no'}; AVX-512 ${machine.avx512.join(' ') || 'no'}`)
console.log(`held to: ${isa ?? 'what the CPU offers'}; PyTorch ${torch} (${threads} threads, ATen kernels ${torchIsa}` +
  `${isa ? `, oneDNN up to ${ISA_ENV[isa].onednn}` : ''}); ONNX Runtime ${ortVersion} (CPU provider, our threads` +
  `${isa ? ', its own kernel choice: it cannot be held to an instruction set' : ''}); batch ${batchSize}, ${batches} timed batches per figure` +
  `${depth === undefined ? '' : `, depth ${depth} where a model takes one`}; images/s, latency of one image in ms, peak RSS in MiB`)

const summary = {}
for (const model of models.length ? models : ZOO) {
  const results = { ours: [], pytorch: [], ort: [] }
  const onnx = await exportOnnx(model)
  for (let round = 1; round <= rounds; round++) {
    const r = ours(model)
    results.ours.push(r)
    console.log(`${model.padEnd(24)} round ${round} ours     train ${fmt(r.train)}  infer ${fmt(r.infer)}  1 image ${r.latencyMs.toFixed(3)} ms` +
      `  rss ${fmt(r.rssMiB)}  ${r.isa}, ${percent(r.trainPeak)} / ${percent(r.inferPeak)} of peak`)
    const p = pytorch(model)
    results.pytorch.push(p)
    console.log(`${model.padEnd(24)} round ${round} pytorch  train ${fmt(p.train)}  infer ${fmt(p.infer)}  rss ${fmt(p.rssMiB)}`)
    // The same threads as ours used.
    const o = onnxRuntime(onnx, r.threads)
    results.ort.push(o)
    console.log(`${model.padEnd(24)} round ${round} ort                      infer ${fmt(o.infer)}  1 image ${o.latencyMs.toFixed(3)} ms  rss ${fmt(o.rssMiB)}`)
  }
  const keys = {
    ours: ['train', 'infer', 'latencyMs', 'p99Ms', 'rssMiB', 'trainPeak', 'inferPeak'],
    pytorch: ['train', 'infer', 'rssMiB'],
    ort: ['infer', 'latencyMs', 'p99Ms', 'rssMiB'],
  }
  const medians = Object.fromEntries(Object.entries(keys).map(([side, ks]) =>
    [side, Object.fromEntries(ks.map((k) => [k, median(results[side].map((r) => r[k]))]))]))
  // Ratios of medians: above 1, ours is faster (latency: theirs over ours).
  medians.ratio = {
    train: medians.ours.train / medians.pytorch.train,
    infer: medians.ours.infer / medians.pytorch.infer,
    inferOrt: medians.ours.infer / medians.ort.infer,
    latencyOrt: medians.ort.latencyMs / medians.ours.latencyMs,
  }
  summary[model] = medians
}

const widths = [24, 9, 9, 6, 9, 9, 6, 9, 6, 8, 8, 6, 13, 9, 9]
const row = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' ')
const ms = (x) => x.toFixed(3)
console.log('\nmedians; images/s at batch 64, and ms per single-image prediction (ours: predict\'s path; ORT: normalize, run, softmax);' +
  ' ratios above 1: ours faster; peak = our nominal GFLOP/s over the SGEMM peak of our path')
console.log(row(['model', 'ours trn', 'torch trn', 'ratio', 'ours inf', 'torch inf', 'ratio', 'ORT inf', 'ratio',
  'ours 1im', 'ORT 1im', 'ratio', 'rss ours/pt', 'peak trn', 'peak inf']))
for (const [model, m] of Object.entries(summary)) {
  console.log(row([model, fmt(m.ours.train), fmt(m.pytorch.train), m.ratio.train.toFixed(2) + 'x', fmt(m.ours.infer),
    fmt(m.pytorch.infer), m.ratio.infer.toFixed(2) + 'x', fmt(m.ort.infer), m.ratio.inferOrt.toFixed(2) + 'x',
    ms(m.ours.latencyMs), ms(m.ort.latencyMs), m.ratio.latencyOrt.toFixed(2) + 'x',
    `${fmt(m.ours.rssMiB, 0)}/${fmt(m.pytorch.rssMiB, 0)}`, percent(m.ours.trainPeak), percent(m.ours.inferPeak)]))
}
console.log(JSON.stringify({
  cpu: machine.name, isa: isa ?? null, torch, torchIsa, onnxruntime: ortVersion, threads: Number(threads), batchSize, batches, rounds,
  depth: depth ?? null, models: summary,
}))
