#!/usr/bin/env node
// How a sweep's throughput depends on --workers: the same comparison (2 seeds
// of each model, so that every worker stays busy) with each worker count,
// back to back, several rounds; prints one JSON object with the wall time of
// each and the median ratio against the first worker count.
//
//   node scripts/compare-workers-bench.mjs [--models a,b] [--workers 1,2] [--rounds 3] [--limit 12000]
import { spawnSync } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'resnet-original,resnet-full-preact' },
    workers: { type: 'string', default: '1,2' },
    rounds: { type: 'string', default: '3' },
    limit: { type: 'string', default: '12000' },
    seeds: { type: 'string', default: '2' },
  },
})
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const counts = values.workers.split(',').map(Number)
const rounds = Number(values.rounds)
const runs = values.models.split(',').length * Number(values.seeds)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]

const seconds = Object.fromEntries(counts.map((c) => [c, []]))
for (let round = 0; round < rounds; round++) {
  for (const workers of counts) {
    const args = ['compare', '--models', values.models, '--seeds', values.seeds, '--epochs', '1', '--limit', values.limit, '--test-limit', '1000', '--workers', String(workers), '--json']
    const started = performance.now()
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`compare --workers ${workers} failed: ${r.stderr}`)
    seconds[workers].push((performance.now() - started) / 1000)
    process.stderr.write(`round ${round + 1}, ${workers} worker(s): ${seconds[workers].at(-1).toFixed(1)} s\n`)
  }
}
const base = counts[0]
console.log(
  JSON.stringify({
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    models: values.models,
    runs,
    imagesPerRun: Number(values.limit),
    seconds,
    medianSeconds: Object.fromEntries(counts.map((c) => [c, median(seconds[c])])),
    runsPerHour: Object.fromEntries(counts.map((c) => [c, (3600 * runs) / median(seconds[c])])),
    speedupOverFirst: Object.fromEntries(counts.map((c) => [c, median(seconds[base].map((s, i) => s / seconds[c][i]))])),
  }),
)
