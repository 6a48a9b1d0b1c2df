/**
 * The Kubernetes Indexed Job and the SLURM job-array script of
 * docs/compare.md, run as written: each shard's command, with the index its
 * scheduler would set, through a stand-in `npx` that runs this build with a
 * small slice of MNIST appended (later flags win); then `compare merge`
 * joins the shards into one complete comparison.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { CLI, Fixtures, ROOT, runCli } from './helpers.js'

const fixtures = new Fixtures()
afterAll(() => fixtures.cleanup())

/** The fenced blocks of `lang` in the compare docs. */
function blocks(lang: string): string[] {
  const text = readFileSync(join(ROOT, 'docs', 'compare.md'), 'utf8')
  return [...text.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1] ?? '')
}

/** A folder whose `npx googlenet-native …` runs this build, shrunk to a tiny comparison. */
function fakeNpx(): string {
  const bin = join(fixtures.root, 'bin')
  mkdirSync(bin, { recursive: true })
  const shim = join(bin, 'npx')
  const small = '--seeds 2 --epochs 1 --limit 64 --test-limit 50'
  writeFileSync(shim, `#!/bin/sh\n[ "$1" = googlenet-native ] || exit 99\nshift\nexec "${process.execPath}" "${CLI}" "$@" ${small}\n`)
  chmodSync(shim, 0o755)
  return bin
}

/** Runs `script` with `sh` in `cwd`, with `env` and the stand-in npx first on PATH. */
function run(shell: string, script: string, cwd: string, env: Record<string, string>): ReturnType<typeof spawnSync> {
  return spawnSync(shell, ['-c', script], {
    cwd,
    env: { ...process.env, ...env, PATH: `${fakeNpx()}:${process.env.PATH ?? ''}` },
    encoding: 'utf8',
  })
}

/** `compare merge` of `files`: the comparison as JSON. */
async function merged(files: string[]): Promise<{ runs: number; expected: number; models: Array<{ model: string; seeds: number[] }> }> {
  const r = await runCli(['compare', 'merge', ...files, '--json'])
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as { runs: number; expected: number; models: Array<{ model: string; seeds: number[] }> }
}

describe('the cluster scripts of docs/compare.md', () => {
  it('the SLURM job array: five tasks, one shard each, merge into the whole comparison', async () => {
    const script = blocks('bash').find((b) => b.includes('#SBATCH --array'))
    expect(script).toBeDefined()
    const array = /#SBATCH --array=0-(\d+)/.exec(script ?? '')
    const tasks = Number(array?.[1]) + 1
    const cwd = join(fixtures.root, 'slurm')
    mkdirSync(join(cwd, 'results'), { recursive: true })
    for (let task = 0; task < tasks; task++) {
      const r = run('bash', script ?? '', cwd, { SLURM_ARRAY_TASK_ID: String(task), SLURM_CPUS_PER_TASK: '1' })
      expect(r.stderr, `task ${task}`).not.toMatch(/^error/m)
      expect(r.status, `task ${task}: ${r.stderr}`).toBe(0)
    }
    const files = Array.from({ length: tasks }, (_, i) => join(cwd, 'results', `shard-${i}.jsonl`))
    const comparison = await merged(files)
    expect(comparison).toMatchObject({ runs: 10, expected: 10 })
    expect(comparison.models.map((m) => m.seeds)).toEqual(Array(5).fill([0, 1]))
  })

  it('the Kubernetes Indexed Job: one pod per completion index, results on the shared volume', async () => {
    const job = blocks('yaml')
      .map((b) => parse(b) as Record<string, any>)
      .find((doc) => doc.kind === 'Job')
    expect(job?.spec.completionMode).toBe('Indexed')
    const container = job?.spec.template.spec.containers[0]
    const [shell, flag] = container.command as string[]
    expect([shell, flag]).toEqual(['sh', '-c'])
    const volume = join(fixtures.root, 'volume')
    mkdirSync(volume)
    // The volume is mounted at /results: the test's folder stands in for it.
    const command = (container.args[0] as string).replaceAll('/results', volume)
    const env = Object.fromEntries((container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]))
    for (let index = 0; index < job?.spec.completions; index++) {
      const r = run('sh', command, fixtures.root, { ...env, JOB_COMPLETION_INDEX: String(index) })
      expect(r.status, `pod ${index}: ${r.stderr}`).toBe(0)
    }
    // A pod started again by the Job resumes its shard: nothing left, nothing trained twice.
    const again = run('sh', command, fixtures.root, { ...env, JOB_COMPLETION_INDEX: '0' })
    expect(again.status).toBe(0)
    expect(again.stderr).not.toMatch(/epoch 1/)
    const files = Array.from({ length: job?.spec.completions }, (_, i) => join(volume, `shard-${i}.jsonl`))
    expect(await merged(files)).toMatchObject({ runs: 10, expected: 10 })
  })
})
