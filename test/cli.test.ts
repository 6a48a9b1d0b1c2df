import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Fixtures, ROOT, STACK_OR_PANIC, lines, runCli } from './helpers.js'

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
const fixtures = new Fixtures()
const dirs = fixtures.standard()
afterAll(() => fixtures.cleanup())

describe('help and version', () => {
  it('prints the program help', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Usage: googlenet-native/)
    expect(r.stdout).toMatch(/\btrain\b/)
  })

  it('prints the train help with every flag', async () => {
    const r = await runCli(['train', '--help'])
    expect(r.code).toBe(0)
    for (const flag of ['--epochs', '--batch-size', '--lr', '--momentum', '--seed', '--data', '--limit', '--device', '--json', '--quiet']) {
      expect(r.stdout).toContain(flag)
    }
  })

  it('prints the version, the native build and the default device', async () => {
    const r = await runCli(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(pkg.version)
    // No GPU on the test machines: whichever build loads, training defaults to the CPU.
    expect(r.stdout).toMatch(/\(native build: (cpu|cuda); default device: cpu; CUDA unavailable: .+\)\n$/)
  })

  it('picks the build GOOGLENET_NATIVE_BINARY names, and refuses what cannot load', async () => {
    const cpu = await runCli(['--version'], { env: { GOOGLENET_NATIVE_BINARY: 'cpu' } })
    expect(cpu.stdout).toContain('native build: cpu; default device: cpu; CUDA unavailable: GOOGLENET_NATIVE_BINARY=cpu chose the CPU build')
    const cuda = await runCli(['train', '--limit', '64'], { env: { GOOGLENET_NATIVE_BINARY: 'cuda' } })
    expect(cuda.code).toBe(1)
    expect(cuda.stderr).toMatch(/^error: (this installation has no CUDA build|the CUDA build of the addon could not be loaded)/)
    const bad = await runCli(['train', '--limit', '64'], { env: { GOOGLENET_NATIVE_BINARY: 'gpu' } })
    expect(bad.stderr).toBe('error: GOOGLENET_NATIVE_BINARY must be cpu or cuda (got "gpu")\n')
  })

  it('shows help and exits 2 without a command', async () => {
    const r = await runCli([])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/Usage:/)
  })
})

describe('usage errors exit 2 with one line naming the option', () => {
  it.each([
    [['train', '--batch-size', '0'], /--batch-size must be an integer in \[1, 1024\] \(got 0\)/],
    [['train', '--lr', '-1'], /--lr must be a finite number > 0 \(got -1\)/],
    [['train', '--lr', 'nan'], /--lr must be a finite number > 0 \(got nan\)/],
    [['train', '--epochs', '0'], /--epochs must be an integer in \[1, 4294967295\] \(got 0\)/],
    [['train', '--epochs', 'ten'], /--epochs must be an integer in \[1, 4294967295\] \(got ten\)/],
    [['train', '--momentum', '1'], /--momentum must be a finite number in \[0, 1\) \(got 1\)/],
    [['train', '--optimizer', 'lamb'], /--optimizer must be one of sgd, adam, adamw \(got "lamb"\)/],
    [['train', '--weight-decay', 'x'], /--weight-decay must be a finite number >= 0 \(got x\)/],
    [['train', '--optimizer', 'adam', '--momentum', '0.9'], /--momentum does not apply to the adam optimizer/],
    [['train', '--epochs', '1', '--warmup-epochs', '1'], /--warmup-epochs must be fewer than the epochs \(1\): the warm-up ends before the run does \(got 1\)/],
    [['test', '--load', 'model.safetensors', '--batch-size', '0'], /--batch-size must be an integer in \[1, 1024\] \(got 0\)/],
    [['compare', '--epochs', '0'], /--epochs must be an integer in \[1, 4294967295\] \(got 0\)/],
    [['train', '--label-smoothing', '2'], /--label-smoothing must be a finite number in \[0, 1\] \(got 2\)/],
    [['train', '--seed', '-3'], /--seed must be an integer in \[0, 4294967295\] \(got -3\)/],
    [['train', '--limit', '0'], /--limit must be an integer in \[1, 4294967295\] \(got 0\)/],
    [['train', '--device', 'gpu'], /--device/],
    [['train', '--epochs'], /--epochs/],
    [['train', '--bogus'], /unknown option '--bogus'/],
    [['bogus'], /unknown command 'bogus'/],
    [['train', 'extra'], /too many arguments/],
    [['bench', '--batches', '0'], /--batches must be an integer in \[1, 4294967295\] \(got 0\)/],
    [['bench', '--warmup', '-1'], /--warmup must be an integer in \[0, 4294967295\] \(got -1\)/],
    [['bench', '--latency-calls', '1.5'], /--latency-calls must be an integer in \[0, 4294967295\] \(got 1.5\)/],
    [['bench', '--model', 'alexnet'], /--model/],
    // Model names and depth rules are the core's, with its messages.
    [['train', '--model', 'alexnet'], /^error: --model: unknown model 'alexnet' \(known: googlenet, lenet5, /],
    [['summary', '--model', 'resnet', '--depth', '17'], /^error: --depth: ResNet depth must be 1 to 16 units per stage \(got 17\)$/m],
    [['trace', '--model', 'lenet5', '--depth', '2'], /^error: --depth: model 'lenet5' has a fixed depth; only the resnet models take one$/m],
    [['train', '--model', 'resnet-full-preact', '--depth', '0'], /--depth: ResNet depth must be 1 to 16 units per stage \(got 0\)/],
    [['train', '--depth', 'x'], /--depth must be an integer in \[0, 4294967295\] \(got x\)/],
  ])('%j', async (args, message) => {
    const r = await runCli(args)
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: /)
    expect(r.stderr).toMatch(message)
    expect(r.stdout).toBe('')
  })
})

describe('data errors exit 1 with one line and no stack trace', () => {
  it.each([
    ['notThere', /no-such-folder/],
    ['missingFile', /t10k-labels-idx1-ubyte/],
    ['truncated', /train-images-idx3-ubyte.*truncated/],
    ['wrongMagic', /train-images-idx3-ubyte.*magic/],
    ['countMismatch', /train-labels-idx1-ubyte/],
  ] as const)('%s', async (key, message) => {
    const r = await runCli(['train', '--data', dirs[key], '--epochs', '1'])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toMatch(/^error: /)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
  })

  it('reports an error line on stdout as well with --json', async () => {
    const r = await runCli(['train', '--data', dirs.truncated, '--json'])
    expect(r.code).toBe(1)
    const out = lines(r.stdout).map((l) => JSON.parse(l) as { type: string; message: string })
    expect(out).toHaveLength(1)
    expect(out[0]?.type).toBe('error')
    expect(out[0]?.message).toMatch(/truncated/)
  })

  it('refuses --device cuda without a GPU, saying why', async () => {
    const r = await runCli(['train', '--device', 'cuda', '--data', dirs.valid])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error: CUDA is not available: .+\n$/)
    expect(lines(r.stderr)).toHaveLength(1)
  })
})

describe('training runs', () => {
  it('trains with --label-smoothing, and says so in the recipe line', async () => {
    const r = await runCli(['train', '--limit', '640', '--epochs', '1', '--test-limit', '200', '--label-smoothing', '0.1'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('label smoothing 0.1')
  })

  it('writes one JSON object per line with --json', async () => {
    // 20 steps: enough to leave chance level (40 % here), so no warning goes to stderr.
    const r = await runCli(['train', '--limit', '1280', '--epochs', '1', '--test-limit', '1000', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(out.map((o) => o.type)).toEqual(['epoch', 'done'])
    const [epoch, done] = out as [Record<string, number>, Record<string, number>]
    expect(epoch).toMatchObject({ epoch: 1, epochs: 1, testTotal: 1000 })
    for (const key of ['loss', 'testAccuracy', 'testLoss', 'seconds', 'trainImagesPerSec', 'evalSeconds', 'testCorrect']) {
      expect(typeof epoch[key]).toBe('number')
      expect(Number.isFinite(epoch[key])).toBe(true)
    }
    expect(epoch.testAccuracy).toBeGreaterThanOrEqual(0)
    expect(epoch.testAccuracy).toBeLessThanOrEqual(1)
    expect(epoch.seconds).toBeGreaterThan(0)
    expect(epoch.trainImagesPerSec).toBeGreaterThan(0)
    expect(done).toMatchObject({ epochs: 1, testAccuracy: epoch.testAccuracy })
    expect(done.seconds).toBeGreaterThanOrEqual(epoch.seconds as number)
  })

  it('trains with another optimizer and schedule, and says which', async () => {
    const args = ['--optimizer', 'adamw', '--weight-decay', '0.05', '--schedule', 'cosine', '--warmup-epochs', '1', '--log-every', '100']
    const r = await runCli(['train', '--data', dirs.valid, '--epochs', '2', '--batch-size', '16', ...args])
    expect(r.code).toBe(0)
    expect(lines(r.stdout)[1]).toBe(
      '2 epochs, batch size 16, adamw, lr 0.001, betas 0.9, 0.999, eps 1e-8, weight decay 0.05, cosine schedule, 1 warm-up epoch from ×0.3333333333333333, seed 0',
    )
  })

  it("prints the tutorial's lines when stdout is not a terminal", async () => {
    const r = await runCli(['train', '--data', dirs.valid, '--epochs', '2', '--batch-size', '8', '--log-every', '4'])
    // 64 images may leave the model at chance: warnings, and nothing else, may follow.
    expect(lines(r.stderr).filter((l) => !l.startsWith('warning: '))).toEqual([])
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out[0]).toBe('training googlenet (97,298 parameters) on cpu: 64 training images, 32 test images')
    expect(out[1]).toBe('2 epochs, batch size 8, lr 0.01, momentum 0.5, seed 0')
    const windows = out.filter((l) => l.startsWith('['))
    expect(windows).toHaveLength(4)
    expect(windows[0]).toMatch(/^\[1,     4\] loss: \d+\.\d{3}$/)
    expect(windows[3]).toMatch(/^\[2,     8\] loss: \d+\.\d{3}$/)
    const accuracy = out.filter((l) => l.startsWith('Accuracy on test set:'))
    expect(accuracy).toHaveLength(2)
    for (const line of accuracy) {
      const m = /^Accuracy on test set: (\d+) % \[(\d+)\/32\]$/.exec(line)
      expect(m).not.toBeNull()
      expect(Number(m?.[1])).toBe(Math.floor((100 * Number(m?.[2])) / 32))
    }
    expect(out.filter((l) => /^epoch [12]\/2: train loss \d+\.\d+, [\d.]+ s, [\d,]+ images\/s/.test(l))).toHaveLength(2)
    expect(out.at(-1)).toMatch(/^done: 2 epochs in [\d.]+ s, test accuracy [\d.]+ % \[\d+\/32\]$/)
  })

  it('prints only the final line with --quiet', async () => {
    const r = await runCli(['train', '--data', dirs.valid, '--epochs', '1', '--quiet'])
    expect(r.code).toBe(0)
    expect(lines(r.stdout)).toHaveLength(1)
    expect(r.stdout).toMatch(/^done: 1 epoch in /)
    expect(lines(r.stderr).filter((l) => !l.startsWith('warning: '))).toEqual([])
  })

  it('stops on SIGINT with exit 130 and says where', async () => {
    let sent = false
    const r = await runCli(['train', '--limit', '6400', '--epochs', '1', '--log-every', '1', '--test-limit', '100'], {
      onStdout: (text, child) => {
        if (!sent && /^\[1, +2\]/m.test(text)) {
          sent = true
          child.kill('SIGINT')
        }
      },
    })
    expect(sent).toBe(true)
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/^stopped at epoch 1, batch \d+$/m)
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    const batch = Number(/batch (\d+)/.exec(r.stderr)?.[1])
    expect(batch).toBeGreaterThanOrEqual(2)
    expect(batch).toBeLessThan(100)
  })
})

describe('bench', () => {
  // Figures are not asserted on (benchmarks are not tests): only that a
  // measurement happened and is reported in the documented shape.
  it('prints one JSON object with the documented fields', async () => {
    const r = await runCli(['bench', '--batches', '2', '--warmup', '1', '--latency-calls', '9', '--json'])
    expect(r.code).toBe(0)
    const out = lines(r.stdout)
    expect(out).toHaveLength(1)
    const result = JSON.parse(out[0] ?? '') as Record<string, unknown>
    expect(result).toMatchObject({ model: 'googlenet', device: 'cpu', batchSize: 64, batches: 2 })
    // Single images through predict's path: nine calls, median at most the 99th percentile.
    const latency = result.latency as { calls: number; medianMs: number; p99Ms: number }
    expect(latency.calls).toBe(9)
    expect(latency.medianMs).toBeGreaterThan(0)
    expect(latency.p99Ms).toBeGreaterThanOrEqual(latency.medianMs)
    for (const key of ['trainImagesPerSec', 'inferImagesPerSec', 'peakRssMiB', 'peakGflops', 'threads']) {
      expect(result[key]).toBeTypeOf('number')
      expect(result[key]).toBeGreaterThan(0)
    }
    expect(['avx512', 'avx2', 'baseline']).toContain(result.isa)
    // Nominal GFLOP/s are the summary's MACs (6.02 M per image) × 6 for
    // training and × 2 for inference, times images per second.
    const gflops = result.gflops as { train: number; infer: number }
    expect(gflops.train).toBeCloseTo(((result.trainImagesPerSec as number) * 6_019_200 * 6) / 1e9, 6)
    expect(gflops.infer).toBeCloseTo(((result.inferImagesPerSec as number) * 6_019_200 * 2) / 1e9, 6)
    expect(result.fractionOfPeak).toEqual({
      train: gflops.train / (result.peakGflops as number),
      infer: gflops.infer / (result.peakGflops as number),
    })
  })

  it('runs the kernels and threads the environment asks for, and refuses values it cannot use', async () => {
    const env = { GOOGLENET_NATIVE_CPU: 'baseline', GOOGLENET_NATIVE_THREADS: '1' }
    const r = await runCli(['bench', '--model', 'lenet5', '--batches', '1', '--warmup', '0', '--batch-size', '8', '--latency-calls', '0', '--json'], { env })
    expect(r.code).toBe(0)
    const result = JSON.parse(lines(r.stdout)[0] ?? '') as Record<string, unknown>
    expect(result).toMatchObject({ model: 'lenet5', isa: 'baseline', threads: 1 })
    expect(result).not.toHaveProperty('latency')
    for (const [name, value, message] of [
      ['GOOGLENET_NATIVE_CPU', 'sse4', 'GOOGLENET_NATIVE_CPU must be avx512, avx2 or baseline, not "sse4"'],
      ['GOOGLENET_NATIVE_THREADS', '0', 'GOOGLENET_NATIVE_THREADS must be a whole number of threads from 1 to 1024, not "0"'],
    ] as const) {
      const refused = await runCli(['bench', '--model', 'lenet5', '--batches', '1'], { env: { [name]: value } })
      expect(refused.code).not.toBe(0)
      expect(refused.stderr).toContain(message)
      expect(refused.stderr).not.toMatch(STACK_OR_PANIC)
    }
  })

  it('times a ResNet at the depth asked for, and refuses a depth for a model of fixed depth', async () => {
    const r = await runCli(['bench', '--model', 'resnet-full-preact', '--depth', '2', '--batches', '1', '--warmup', '0', '--batch-size', '8', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(lines(r.stdout)[0] ?? '')).toMatchObject({ model: 'resnet-full-preact', depth: 2, batchSize: 8 })
    const refused = await runCli(['bench', '--model', 'lenet5', '--depth', '2'])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain("model 'lenet5' has a fixed depth")
  })

  it('prints three lines of text without --json', async () => {
    const r = await runCli(['bench', '--batches', '1', '--warmup', '0', '--batch-size', '16', '--latency-calls', '5'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /^googlenet on cpu \((avx512|avx2|baseline), \d+ threads?\), batch 16: training [\d,]+ images\/s, inference [\d,]+ images\/s, peak RSS \d+ MiB\n/,
    )
    expect(r.stdout).toMatch(
      /\nnominal [\d.]+ GFLOP\/s \(\d+ % of peak\) training, [\d.]+ GFLOP\/s \(\d+ % of peak\) inference; SGEMM peak [\d.]+ GFLOP\/s\n/,
    )
    expect(r.stdout).toMatch(/\none image at a time, as predict runs it: median [\d.]+ ms, 99th percentile [\d.]+ ms \(5 calls\)\n$/)
  })
})
