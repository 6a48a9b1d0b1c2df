/**
 * `compare` over seeds: the table, results files, resuming a killed
 * comparison, workers, shards and `compare merge`, on small slices of MNIST.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { mergeResults } from '../dist/index.js'
import { parseShard, planRuns, shardRuns } from '../src/compare/sweep.js'
import { Fixtures, STACK_OR_PANIC, runCli } from './helpers.js'

const fixtures = new Fixtures()
afterAll(() => fixtures.cleanup())

/** A small comparison: two models, two seeds, two epochs on 640 images. */
const SMALL = ['compare', '--models', 'lenet5,residual', '--seeds', '2', '--epochs', '2', '--limit', '640', '--test-limit', '200']
/** He et al. 2016's five residual units, in the paper's order. */
const DESIGNS = ['resnet-original', 'resnet-bn-after-add', 'resnet-relu-before-add', 'resnet-relu-only-preact', 'resnet-full-preact']
/** One thread per run, so that any worker count gives the same figures. */
const ONE_THREAD = { GOOGLENET_NATIVE_THREADS: '1' }

interface Run {
  type: string
  model: string
  seed: number
  testAccuracy: number
  history: Array<Record<string, number>>
  settings: Record<string, unknown>
  machine: Record<string, unknown>
  description: { name: string }
  resumedAt: number
}

function readRuns(path: string): Run[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Run)
}

/** What a run found, without when, where or how long: what equal runs share bit for bit. */
function findings(runs: readonly Run[]): unknown[] {
  return [...runs]
    .sort((a, b) => a.model.localeCompare(b.model) || a.seed - b.seed)
    .map((r) => ({
      model: r.model,
      seed: r.seed,
      testAccuracy: r.testAccuracy,
      history: r.history.map(({ epoch, loss, testAccuracy, testLoss, testCorrect }) => ({ epoch, loss, testAccuracy, testLoss, testCorrect })),
    }))
}

/** The table without its seconds-per-epoch column (times differ from run to run). */
function tableWithoutTimes(stdout: string): string {
  return stdout.replace(/ +\d+\.\d(?= {2})/g, ' <s>')
}

describe('compare --seeds', () => {
  it('prints mean ± sd, an interval, the best epoch and a test against the first model, and writes one JSON line per run', async () => {
    const results = join(fixtures.root, 'table.jsonl')
    const r = await runCli([...SMALL, '--results', results], { env: ONE_THREAD })
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    expect(r.code).toBe(0)
    const [header, lenet, residual] = r.stdout.split('\n')
    expect(header).toMatch(/^model +params +runs +test error % +95 % interval +best epoch +s\/epoch +vs lenet5 \(points\)$/)
    expect(lenet).toMatch(/^lenet5 +61,706 +2 +\d+\.\d\d ± \d+\.\d\d +\d+\.\d\d–\d+\.\d\d +[12]: \d+\.\d\d +\d+\.\d +baseline$/)
    expect(residual).toMatch(/^residual +41,514 +2 +\d+\.\d\d ± \d+\.\d\d +-?\d+\.\d\d–\d+\.\d\d +[12]: \d+\.\d\d +\d+\.\d +[+−]\d+\.\d\d, p = [\d.e-]+( \*)?$/)
    expect(r.stdout).toMatch(/Welch's two-sided t-test/)
    expect(r.stderr).toMatch(/^lenet5 seed 0: epoch 1 of 2, test \d+\.\d\d % \(\d+\.\d s\)$/m)
    const runs = readRuns(results)
    // Seed-major: every model of seed 0, then seed 1.
    expect(runs.map((run) => `${run.model}/${run.seed}`)).toEqual(['lenet5/0', 'residual/0', 'lenet5/1', 'residual/1'])
    for (const run of runs) {
      expect(run).toMatchObject({ type: 'run', description: { name: run.model }, resumedAt: 0 })
      expect(run.history).toHaveLength(2)
      expect(run.testAccuracy).toBe(run.history[1]?.testAccuracy)
      expect(run.settings).toMatchObject({ epochs: 2, limit: 640, testLimit: 200, recipe: { batchSize: 64, optimizer: 'sgd', lr: 0.01 } })
      expect(run.machine).toMatchObject({ threads: 1, binary: 'cpu' })
    }
    // Two seeds of a model are two different runs.
    expect(runs[0]?.history[0]?.loss).not.toBe(runs[2]?.history[0]?.loss)
  })

  it("names the paper's designs and refuses what cannot be compared", async () => {
    const designs = await runCli(['compare', '--models', 'designs', '--epochs', '1', '--limit', '128', '--test-limit', '100', '--json'])
    expect(designs.code).toBe(0)
    const lines = designs.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; model?: string; models?: Array<{ model: string; paper?: { design: string; errorPercent: number } }> })
    // Runs finish in any order with workers; the table keeps the paper's.
    expect(lines.filter((l) => l.type === 'run').map((l) => l.model).sort()).toEqual([...DESIGNS].sort())
    const summary = lines.at(-1)
    expect(summary?.type).toBe('comparison')
    expect(summary?.models?.map((m) => m.model)).toEqual(DESIGNS)
    expect(summary?.models?.map((m) => [m.paper?.design, m.paper?.errorPercent])).toEqual([
      ['(a)', 6.61],
      ['(b)', 8.17],
      ['(c)', 7.84],
      ['(d)', 6.71],
      ['(e)', 6.37],
    ])

    const twice = await runCli(['compare', '--models', 'lenet5,lenet5'])
    expect(twice.code).toBe(1)
    expect(twice.stderr).toMatch(/model 'lenet5' is named twice/)
    const noResults = await runCli(['compare', '--resume'])
    expect(noResults.code).toBe(2)
    expect(noResults.stderr).toMatch(/--resume needs --results/)
    const depth = await runCli(['compare', '--models', 'lenet5', '--depth', '2'])
    expect(depth.code).toBe(1)
    expect(depth.stderr).toMatch(/depth applies to the zoo models that take one/)
    const shard = await runCli(['compare', '--shard', '3/3'])
    expect(shard.stderr).toMatch(/shard must be i\/n with 0 <= i < n/)
    // Flags are checked by the core before anything trains, and named.
    for (const [args, message] of [
      [['--lr', '-1'], /^error: --lr must be a finite number > 0 \(got -1\)$/m],
      [['--momentum', '0', '--nesterov'], /^error: --nesterov needs a momentum > 0$/m],
      [['--seeds', '0'], /^error: --seeds must be an integer in \[1, 10000\] \(got 0\)$/m],
      [['--workers', '257'], /^error: --workers must be an integer in \[1, 256\] \(got 257\)$/m],
      [['--results', ''], /^error: --results must name a file$/m],
    ] as const) {
      const r = await runCli(['compare', ...args])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(message)
    }
  })
})

describe('results files', () => {
  it('refuses a used file without --resume, and a resumed comparison with other settings', async () => {
    const results = join(fixtures.root, 'used.jsonl')
    const first = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--results', results])
    expect(first.code).toBe(0)
    const again = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--results', results])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/used\.jsonl holds 1 finished runs already: resume that comparison/)
    const other = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--epochs', '3', '--results', results, '--resume'])
    expect(other.code).toBe(1)
    expect(other.stderr).toMatch(/used\.jsonl:1 was run with other settings \(epochs: 2 against 3\)/)
    const data = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--data', '/usr/share/datasets/fashion-mnist', '--results', results, '--resume'])
    expect(data.stderr).toMatch(/used\.jsonl:1 was run on other data \(MNIST \(bundled\), not \/usr\/share\/datasets\/fashion-mnist\)/)
    const lr = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--lr', '0.1', '--results', results, '--resume'])
    expect(lr.stderr).toMatch(/other settings \(recipe: .*"lr":0\.01.* against .*"lr":0\.1/)
    // Checkpoints of a run of other epochs are refused, not mixed in.
    const checkpoints = join(fixtures.root, 'two-epochs')
    expect((await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--checkpoint-dir', checkpoints])).code).toBe(0)
    const mixed = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--epochs', '3', '--checkpoint-dir', checkpoints, '--results', join(fixtures.root, 'three.jsonl'), '--resume'])
    expect(mixed.code).toBe(1)
    expect(mixed.stderr).toMatch(/lenet5-seed0\/checkpoint-e0002\.safetensors belongs to a run of 2 epochs, not 3/)
    const fresh = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--checkpoint-dir', checkpoints])
    expect(fresh.stderr).toMatch(/two-epochs holds checkpoints of lenet5 seed 0: resume that comparison/)
    // A results file that cannot be written is refused before anything trains.
    const nowhere = await runCli([...SMALL, '--results', join(fixtures.root, 'no-such-folder', 'r.jsonl')])
    expect(nowhere.code).toBe(1)
    expect(nowhere.stderr).toMatch(/no-such-folder/)
    expect(nowhere.stderr).not.toMatch(/epoch 1/)
    // Resuming a finished comparison trains nothing and prints its table.
    const done = await runCli([...SMALL, '--models', 'lenet5', '--seeds', '1', '--results', results, '--resume'])
    expect(done.code).toBe(0)
    expect(done.stderr).toBe('')
    expect(done.stdout).toMatch(/^lenet5 +61,706 +1 /m)
  })

  it('a killed comparison resumes to the results of one that never stopped', async () => {
    const args = [...SMALL, '--limit', '3200']
    const whole = join(fixtures.root, 'whole.jsonl')
    expect((await runCli([...args, '--results', whole], { env: ONE_THREAD })).code).toBe(0)

    const results = join(fixtures.root, 'killed.jsonl')
    const checkpoints = join(fixtures.root, 'killed-checkpoints')
    let killed = false
    const stopped = await runCli([...args, '--results', results, '--checkpoint-dir', checkpoints, '--json'], {
      env: ONE_THREAD,
      onStdout: (text, child) => {
        // residual seed 0 is in training once lenet5 seed 0's line is out.
        if (!killed && text.includes('"model":"lenet5"')) {
          killed = true
          setTimeout(() => child.kill('SIGKILL'), 700)
        }
      },
    })
    expect(killed).toBe(true)
    expect(stopped.signal).toBe('SIGKILL')
    const before = readRuns(results).length
    expect(before).toBeGreaterThanOrEqual(1)
    expect(before).toBeLessThan(4)
    // A line cut short by the kill is dropped, and its run trained again.
    writeFileSync(results, `${readFileSync(results, 'utf8')}{"type":"run","mod`)

    const resumed = await runCli([...args, '--results', results, '--checkpoint-dir', checkpoints, '--resume'], { env: ONE_THREAD })
    expect(resumed.stderr).not.toMatch(STACK_OR_PANIC)
    expect(resumed.code).toBe(0)
    const runs = readRuns(results)
    expect(runs).toHaveLength(4)
    expect(findings(runs)).toEqual(findings(readRuns(whole)))
    // Every run kept its checkpoints, in a folder of its own.
    expect(readdirSync(checkpoints).sort()).toEqual(['lenet5-seed0', 'lenet5-seed1', 'residual-seed0', 'residual-seed1'])
  })

  it('three shards, each a process of its own, merge into the table of one comparison, bit for bit', async () => {
    const whole = join(fixtures.root, 'one.jsonl')
    const single = await runCli([...SMALL, '--seeds', '3', '--results', whole], { env: ONE_THREAD })
    expect(single.code).toBe(0)
    const files = [0, 1, 2].map((i) => join(fixtures.root, `shard-${i}.jsonl`))
    const shards = await Promise.all(files.map((file, i) => runCli([...SMALL, '--seeds', '3', '--shard', `${i}/3`, '--results', file], { env: ONE_THREAD })))
    for (const shard of shards) expect(shard.code).toBe(0)
    expect(files.map((f) => readRuns(f).length)).toEqual([2, 2, 2])
    expect(shards[0]?.stdout).toMatch(/2 of 6 runs finished; missing: /)

    const report = join(fixtures.root, 'merged.html')
    const merged = await runCli(['compare', 'merge', ...files, '--report', report])
    expect(merged.code).toBe(0)
    expect(tableWithoutTimes(merged.stdout)).toBe(tableWithoutTimes(single.stdout))
    const fromApi = mergeResults(files)
    const one = mergeResults([whole])
    const strip = (c: typeof one): unknown => ({
      ...c,
      records: findings(c.records as unknown as Run[]),
      machines: undefined,
      models: c.models.map((m) => ({ ...m, secondsPerEpoch: undefined })),
    })
    expect(strip(fromApi)).toEqual(strip(one))
    const html = readFileSync(report, 'utf8')
    expect(html).toMatch(/<polygon/)
    expect(html).toContain('lenet5')

    // Merging a file with itself counts each run once; files of other settings are refused.
    expect(mergeResults([whole, whole]).runs).toBe(6)
    const other = join(fixtures.root, 'other.jsonl')
    expect((await runCli([...SMALL, '--seeds', '1', '--epochs', '1', '--results', other])).code).toBe(0)
    const refused = await runCli(['compare', 'merge', whole, other])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/other\.jsonl:1 was run with other settings than .*one\.jsonl:1 \(epochs: 2 against 1\)/)
    const garbage = join(fixtures.root, 'garbage.jsonl')
    writeFileSync(garbage, 'hello\n')
    expect((await runCli(['compare', 'merge', garbage])).stderr).toMatch(/garbage\.jsonl:1: not a JSON line/)
  })
})

describe('compare --workers', () => {
  it('trains runs side by side in worker processes, to the figures of one process with the same threads per run', async () => {
    const one = join(fixtures.root, 'workers-1.jsonl')
    const two = join(fixtures.root, 'workers-2.jsonl')
    expect((await runCli([...SMALL, '--results', one], { env: ONE_THREAD })).code).toBe(0)
    // 2 threads shared by 2 workers: 1 each.
    const r = await runCli([...SMALL, '--workers', '2', '--results', two], { env: { GOOGLENET_NATIVE_THREADS: '2' } })
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    expect(r.code).toBe(0)
    const runs = readRuns(two)
    expect(runs.every((run) => run.machine.threads === 1)).toBe(true)
    expect(findings(runs)).toEqual(findings(readRuns(one)))
  })

  it('Ctrl-C stops every worker, each leaving a checkpoint, and says what finished', async () => {
    const checkpoints = join(fixtures.root, 'stopped-workers')
    let sent = false
    const r = await runCli([...SMALL, '--limit', '6400', '--epochs', '3', '--workers', '2', '--checkpoint-dir', checkpoints, '--json'], {
      onStdout: (text, child) => {
        if (!sent && text.includes('"model"')) {
          sent = true
          child.kill('SIGINT')
        }
      },
    })
    expect(sent).toBe(true)
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/; [1-3] of 4 runs finished \(/)
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    expect(existsSync(checkpoints)).toBe(true)
  })
})

describe('the runs of a comparison', () => {
  const models = (['a', 'b', 'c'] as const).map((label) => ({ label, source: 'lenet5' as const }))
  it('go seed-major, and shards split them with none left out or taken twice', () => {
    const runs = planRuns(models, [0, 1, 2, 3])
    expect(runs.slice(0, 4).map((r) => `${r.model.label}${r.seed}`)).toEqual(['a0', 'b0', 'c0', 'a1'])
    for (const count of [1, 2, 3, 5, 12, 13]) {
      const taken = Array.from({ length: count }, (_, index) => shardRuns(runs, { index, count }).map((r) => r.index)).flat()
      expect(taken.sort((x, y) => x - y)).toEqual(runs.map((r) => r.index))
    }
  })

  it('read shards as i/n, counting from 0', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 })
    for (const bad of ['3/3', '1/0', '-1/3', '1', 'a/b', '1/3/4']) expect(() => parseShard(bad)).toThrow(/shard must be i\/n/)
  })
})
