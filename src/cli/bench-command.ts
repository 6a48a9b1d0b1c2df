/**
 * The `bench` command: training and inference throughput and peak memory.
 * @module
 */
import { type Command, Option } from 'commander'
import { type BenchmarkResult, benchmark } from '../bench.js'
import { errorMessage } from '../errors.js'
import { modelNames } from '../model.js'
import { checkBatchSize, checkInteger } from '../options.js'
import type { Device, ModelName } from '../types.js'
import { type RawFlags, atLeastOne, numberFlag } from './flags.js'
import { formatCount } from './format.js'
import type { Io } from './io.js'
import { EXIT_FAILURE } from './usage-error.js'

/** One line of text: throughputs and peak memory. */
function formatBench(r: BenchmarkResult): string {
  const perSec = (x: number): string => `${formatCount(x)} images/s`
  return (
    `${r.model} on ${r.device}, batch ${r.batchSize}: training ${perSec(r.trainImagesPerSec)}, ` +
    `inference ${perSec(r.inferImagesPerSec)}, peak RSS ${Math.round(r.peakRssMiB)} MiB`
  )
}

/**
 * Adds `bench` to `program`.
 * @param done - receives the command's exit status
 */
export function addBenchCommand(program: Command, io: Io, done: (code: number) => void): Command {
  return program
    .command('bench')
    .description('time steady-state training (forward, backward, SGD step) and inference on MNIST batches')
    .addOption(new Option('--model <name>', 'model to time').choices(modelNames).default('googlenet'))
    .addOption(new Option('--batch-size <n>', 'images per batch').default(64))
    .addOption(new Option('--batches <n>', 'batches timed, for training and again for inference').default(100))
    .addOption(new Option('--warmup <n>', 'untimed batches before each measurement').default(5))
    .addOption(new Option('--data <dir>', 'MNIST-format folder (default: the bundled MNIST)'))
    .addOption(new Option('--device <device>', 'where to run').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (raw: RawFlags) => {
      const options = {
        model: raw.model as ModelName,
        batchSize: numberFlag(raw, 'batchSize', '--batch-size', checkBatchSize, 64),
        batches: numberFlag(raw, 'batches', '--batches', atLeastOne, 100),
        warmup: numberFlag(raw, 'warmup', '--warmup', (name, value, shown) => checkInteger(name, value, 0, undefined, shown), 5),
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
