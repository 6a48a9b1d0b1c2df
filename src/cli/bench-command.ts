/**
 * The `bench` command: training and inference throughput and peak memory.
 * @module
 */
import { type Command, Option } from 'commander'
import { type BenchmarkResult, benchmark } from '../bench.js'
import { errorMessage } from '../errors.js'
import type { BenchSettings, Device } from '../types.js'
import { depthRange, modelChoices } from './addon-help.js'
import type { RawFlags } from './flags.js'
import { modelFileOption, modelFlags } from './model-flags.js'
import { formatCount } from './format.js'
import type { Io } from './io.js'
import { EXIT_FAILURE } from './usage-error.js'
import { addSchemaOptions, deviceOption, schemaFlags } from './schema-flags.js'

/** Lines of text: throughputs and peak memory, what they make of the machine, then the latency of one image. */
function formatBench(r: BenchmarkResult): string {
  const perSec = (x: number): string => `${formatCount(x)} images/s`
  const gflops = (x: number): string => `${x.toFixed(1)} GFLOP/s`
  const share = (x: number): string => ` (${Math.round(x * 100)} % of peak)`
  const peak = r.fractionOfPeak
  return (
    `${r.model}${r.depth === undefined ? '' : ` (depth ${r.depth})`} on ${r.device}${r.binary === 'wasm' ? ' (WebAssembly build)' : ''}` +
    `${r.isa === undefined ? '' : ` (${r.isa}, ${r.threads} thread${r.threads === 1 ? '' : 's'})`}, batch ${r.batchSize}: training ${perSec(r.trainImagesPerSec)}, ` +
    `inference ${perSec(r.inferImagesPerSec)}, peak RSS ${Math.round(r.peakRssMiB)} MiB\n` +
    `nominal ${gflops(r.gflops.train)}${peak ? share(peak.train) : ''} training, ${gflops(r.gflops.infer)}${peak ? share(peak.infer) : ''} inference` +
    `${r.peakGflops === undefined ? '' : `; SGEMM peak ${gflops(r.peakGflops)}`}` +
    (r.latency === undefined
      ? ''
      : `\none image at a time, as predict runs it: median ${r.latency.medianMs.toFixed(3)} ms, ` +
        `99th percentile ${r.latency.p99Ms.toFixed(3)} ms (${r.latency.calls} calls)`)
  )
}

/**
 * Adds `bench` to `program`.
 * @param done - receives the command's exit status
 */
export function addBenchCommand(program: Command, io: Io, done: (code: number) => void): Command {
  const command = program
    .command('bench')
    .description('time steady-state training (forward, backward, SGD step) and inference on MNIST batches')
    .addOption(modelChoices(new Option('--model <name>', 'model to time')))
    .addOption(depthRange(new Option('--depth <n>', 'residual units per stage, for the models that take a depth')))
    .addOption(modelFileOption())
  return addSchemaOptions(command, 'bench')
    .addOption(new Option('--data <dir>', 'MNIST-format folder (default: the bundled MNIST)'))
    .addOption(deviceOption())
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (raw: RawFlags, command: Command) => {
      const { model, depth } = modelFlags(raw, command.getOptionValueSource('model') === 'cli')
      const options = {
        model,
        ...(depth === undefined ? {} : { depth }),
        ...(schemaFlags(raw, 'bench') as BenchSettings),
        device: raw.device as Device,
        ...(typeof raw.data === 'string' ? { dir: raw.data } : {}),
      }
      try {
        const r = await benchmark(options)
        io.stdout.write(raw.json === true ? `${JSON.stringify(r)}\n` : `${formatBench(r)}\n`)
        done(0)
      } catch (error) {
        io.stderr.write(`error: ${errorMessage(error)}\n`)
        done(EXIT_FAILURE)
      }
    })
}
