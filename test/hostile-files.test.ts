/**
 * Hostile and careless files and sizes (issue 12): outputs that are not
 * regular files are refused before any work and never replaced, links are
 * followed, inputs that are not regular files are refused without reading
 * (nothing hangs on a named pipe), damaged checkpoints and weights name what
 * is wrong, a folder of another run's checkpoints is not mixed into, a save
 * that fails at the end does not lose the model, and large predictions and
 * batch sizes do not exhaust memory. Devices are only read here; everything
 * written lives in a temporary folder.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Model, benchmark, createModel, loadMnist, maxBatchSize } from '../dist/index.js'
import { CLI, Fixtures, STACK_OR_PANIC, idxImages, idxLabels, lines, mnistSample, runCli, runMain } from './helpers.js'

const fixtures = new Fixtures()
afterAll(() => fixtures.cleanup())
const data = (() => {
  const train = mnistSample(256)
  const test = mnistSample(64, 't10k')
  return fixtures.folder('data', {
    'train-images-idx3-ubyte': idxImages(train.images, 256),
    'train-labels-idx1-ubyte': idxLabels(train.labels),
    't10k-images-idx3-ubyte': idxImages(test.images, 64),
    't10k-labels-idx1-ubyte': idxLabels(test.labels),
  })
})()
/** One lenet5 epoch on 256 images. */
const QUICK = ['train', '--model', 'lenet5', '--data', data, '--epochs', '1', '--quiet']

const run = runMain

/** The built API, for scripts run in child processes. */
const INDEX = join(CLI, '..', 'index.js')

/** Runs an ES module `script` in a child Node (with `flags`), killed after 30 s. */
function runScript(script: string, flags: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** A fresh folder for one test. */
function folder(name: string): string {
  const dir = join(fixtures.root, name)
  mkdirSync(dir)
  return dir
}

function mkfifo(path: string): string {
  execFileSync('mkfifo', [path])
  return path
}

/** A lenet5 model file written by `train --save`. */
const savedModel = (() => {
  let path: string | undefined
  return async (): Promise<string> => {
    if (path === undefined) {
      path = join(folder('saved-model'), 'lenet5.safetensors')
      const r = await run([...QUICK, '--save', path])
      expect(r.code).toBe(0)
    }
    return path
  }
})()

describe('outputs that are not regular files are refused before any work, and never replaced', () => {
  it('refuses a named pipe, a folder or a link to a pipe for --save and --report, with exit 2', async () => {
    const dir = folder('targets')
    const pipe = mkfifo(join(dir, 'pipe'))
    const sub = join(dir, 'sub')
    mkdirSync(sub)
    const link = join(dir, 'link')
    symlinkSync(pipe, link)
    for (const [target, kind] of [
      [pipe, 'is a named pipe'],
      [sub, 'is a directory'],
      [link, 'is a named pipe'],
    ] as const) {
      for (const flag of ['--save', '--report']) {
        const r = await run([...QUICK, flag, target])
        expect(r.code).toBe(2)
        expect(r.stderr).toBe(`error: ${flag} ${target}: ${kind}, not a regular file${target === link ? ` (through the link to ${pipe})` : ''}: refusing to replace it\n`)
        expect(r.stdout).toBe('')
      }
    }
    expect(statSync(pipe).isFIFO()).toBe(true)
    expect(lstatSync(link).isSymbolicLink()).toBe(true)
    const test = await run(['test', '--load', await savedModel(), '--data', data, '--report', pipe])
    expect(test.code).toBe(2)
    expect(test.stderr).toContain('is a named pipe, not a regular file: refusing to replace it')
  })

  it('refuses a missing folder before training, naming it', async () => {
    const dir = folder('missing')
    const r = await run([...QUICK, '--save', join(dir, 'nope', 'model.safetensors')])
    expect(r).toEqual({ code: 2, stdout: '', stderr: `error: --save ${join(dir, 'nope', 'model.safetensors')}: the folder ${join(dir, 'nope')} does not exist\n` })
  })

  it('follows a symbolic link and replaces the file it names, atomically', async () => {
    const dir = folder('link-save')
    const real = join(dir, 'real.safetensors')
    writeFileSync(real, 'old')
    symlinkSync('real.safetensors', join(dir, 'link.safetensors'))
    const r = await run([...QUICK, '--save', join(dir, 'link.safetensors')])
    expect(r.code).toBe(0)
    expect(lstatSync(join(dir, 'link.safetensors')).isSymbolicLink()).toBe(true)
    expect((await Model.load(real)).name).toBe('lenet5')
    expect(readdirSync(dir).sort()).toEqual(['link.safetensors', 'real.safetensors'])
  })

  it('writes the report through the same writer: errors name the user path, not a temporary file', async () => {
    const { writeOutputFile } = await import('../src/output-file.js')
    const dir = folder('report-writer')
    const target = join(dir, 'report.html')
    expect(writeOutputFile(target, '<p>hi</p>')).toBe(target)
    expect(readFileSync(target, 'utf8')).toBe('<p>hi</p>')
    expect(() => writeOutputFile(join(dir, 'gone', 'r.html'), 'x')).toThrow(`${join(dir, 'gone', 'r.html')}: the folder ${join(dir, 'gone')} does not exist`)
    expect(readdirSync(dir)).toEqual(['report.html'])
  })
})

describe('inputs that are not regular files are refused unread', () => {
  it('refuses a named pipe, a device, a folder, a dangling link and a link loop, without hanging', async () => {
    const dir = folder('inputs')
    const pipe = mkfifo(join(dir, 'pipe.safetensors'))
    symlinkSync(join(dir, 'nothing'), join(dir, 'dangling'))
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'))
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'))
    const cases = [
      [pipe, 'is a named pipe, not a regular file'],
      ['/dev/zero', 'is a character device, not a regular file'],
      ['/dev/urandom', 'is a character device, not a regular file'],
      [join(dir, 'dangling'), `is a dangling symbolic link (to ${join(dir, 'nothing')}, which does not exist)`],
      [join(dir, 'loop-a'), 'is a symbolic link loop'],
    ] as const
    for (const [path, words] of cases) {
      // In child processes with a time limit: a load that blocks on a pipe
      // would block this process's event loop, and no test timeout could fire.
      const test = await runCli(['test', '--load', path, '--data', data], { timeoutMs: 30_000 })
      expect(test).toMatchObject({ code: 1, stdout: '', stderr: `error: ${path}: ${words}\n` })
      const resume = await runCli(['train', '--resume', path], { timeoutMs: 30_000 })
      expect(resume.code).toBe(1)
      expect(resume.stderr).toContain(`${path}: ${words}`)
      const api = await runScript(
        `const { Model } = await import(${JSON.stringify(INDEX)})
        for (const load of [Model.load, Model.loadCheckpoint]) {
          try { await load(${JSON.stringify(path)}); console.log('loaded') } catch (error) { console.log(error.message) }
        }`,
      )
      expect(api).toEqual({ code: 0, stdout: `${path}: ${words}\n`.repeat(2), stderr: '' })
    }
    const model = await savedModel()
    const image = await run(['predict', '--load', model, '/dev/zero'])
    expect(image.code).toBe(1)
    expect(image.stderr).toContain('/dev/zero: is a character device, not a regular file')
    await expect(Model.load(dir)).rejects.toThrow(`${dir}: is a directory, not a regular file`)
  })

  it('judges a huge file by its size and header, unread', async () => {
    const dir = folder('huge')
    const zeros = join(dir, 'zeros.safetensors')
    // 3 GB of zeros, sparse: no disk is used and nothing may read it.
    execFileSync('truncate', ['-s', '3G', zeros])
    await expect(Model.load(zeros)).rejects.toThrow(`${zeros}: larger than 256 MiB, too large for a model file`)
    execFileSync('truncate', ['-s', '100M', zeros])
    await expect(Model.load(zeros)).rejects.toThrow('its header length 0 does not fit a file of 104857600 bytes')
  })
})

describe('damaged checkpoints and weights say what is wrong, naming the file', () => {
  /** Rewrites a safetensors file's header with `edit` (same tensors, same data). */
  function editHeader(path: string, edit: (header: Record<string, unknown>) => void): void {
    const bytes = readFileSync(path)
    const length = Number(bytes.readBigUInt64LE(0))
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>
    edit(header)
    const text = Buffer.from(JSON.stringify(header), 'utf8')
    const prefix = Buffer.alloc(8)
    prefix.writeBigUInt64LE(BigInt(text.length))
    writeFileSync(path, Buffer.concat([prefix, text, bytes.subarray(8 + length)]))
  }

  it('a damaged history: one line naming the file, from the CLI and the API', async () => {
    const dir = folder('history')
    expect((await run([...QUICK, '--checkpoint-dir', dir])).code).toBe(0)
    const file = join(dir, 'checkpoint-e0001.safetensors')
    editHeader(file, (header) => {
      ;(header.__metadata__ as Record<string, string>).history = '{x'
    })
    const want = `${file}: checkpoint metadata 'history' is damaged: epoch line 1 is not a JSON object`
    await expect(Model.loadCheckpoint(file)).rejects.toThrow(want)
    const r = await run(['train', '--resume', dir, '--epochs', '2', '--data', data])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(want)
  })

  it('NaN, infinite or integer weights are refused, naming the tensor', async () => {
    const dir = folder('weights')
    const source = readFileSync(await savedModel())
    const length = Number(source.readBigUInt64LE(0))
    const header = JSON.parse(source.subarray(8, 8 + length).toString('utf8')) as Record<string, { data_offsets: [number, number] }>
    const [start] = header['conv1.weight'].data_offsets
    for (const [value, words] of [
      [Number.NaN, 'NaN'],
      [Number.POSITIVE_INFINITY, 'inf'],
    ] as const) {
      const bytes = Buffer.from(source)
      bytes.writeFloatLE(value, 8 + length + start + 4 * 2)
      const file = join(dir, `${words}.safetensors`)
      writeFileSync(file, bytes)
      await expect(Model.load(file)).rejects.toThrow(`${file}: 'conv1.weight' holds ${words} at index 2; weights must be finite`)
    }
    const ints = join(dir, 'ints.safetensors')
    writeFileSync(ints, source)
    editHeader(ints, (h) => {
      ;(h['conv1.weight'] as unknown as { dtype: string }).dtype = 'I32'
    })
    await expect(Model.load(ints)).rejects.toThrow(`${ints}: 'conv1.weight' holds`)
  })
})

describe("a new run does not write into another run's checkpoints", () => {
  it('refuses the folder with exit 2 naming it and the run, unless --start-over', async () => {
    const dir = folder('claimed')
    expect((await run([...QUICK, '--epochs', '2', '--checkpoint-dir', dir])).code).toBe(0)
    expect(readdirSync(dir).sort()).toEqual(['checkpoint-e0001.safetensors', 'checkpoint-e0002.safetensors'])
    const again = await run([...QUICK, '--checkpoint-dir', dir])
    expect(again.code).toBe(2)
    expect(again.stderr).toBe(
      `error: --checkpoint-dir ${dir}: holds 2 checkpoint(s) of a lenet5 run, the furthest checkpoint-e0002.safetensors; ` +
        `resume that run, start over (deleting them), or choose another folder (--resume ${dir} continues it, --start-over deletes them)\n`,
    )
    const over = await run([...QUICK, '--checkpoint-dir', dir, '--start-over'])
    expect(over.code).toBe(0)
    expect(readdirSync(dir)).toEqual(['checkpoint-e0001.safetensors'])
    expect((await run([...QUICK, '--start-over'])).stderr).toBe('error: --start-over needs --checkpoint-dir\n')
  })

  it('the API refuses it too, unless startOver', async () => {
    const dir = folder('claimed-api')
    const { train } = await loadMnist({ dir: data })
    const model = createModel('lenet5')
    await model.fit(train, { epochs: 1, checkpointDir: dir })
    await expect(createModel('lenet5').fit(train, { epochs: 1, checkpointDir: dir })).rejects.toThrow(`${dir}: holds 1 checkpoint(s) of a lenet5 run`)
    await createModel('lenet5').fit(train, { epochs: 1, checkpointDir: dir, startOver: true })
    await expect(createModel('lenet5').fit(train, { epochs: 1, startOver: true })).rejects.toThrow(new TypeError('startOver needs checkpointDir'))
  })
})

describe('a save that fails at the end does not lose the model', () => {
  it('writes it to a fallback file and says where (exit 1)', async () => {
    const dir = folder('fallback')
    const target = join(dir, 'model.safetensors')
    let blocked = false
    const r = await runCli(['train', '--model', 'lenet5', '--data', data, '--epochs', '30', '--log-every', '1', '--json', '--save', target], {
      // Once training runs (the target was checked), a folder takes the file's place.
      onStdout: () => {
        if (!blocked) {
          blocked = true
          mkdirSync(target)
        }
      },
    })
    expect(r.code).toBe(1)
    const match = /could not save the model to (\S+) \((.*)\); saved it to (\S+\.safetensors) instead/.exec(r.stdout + r.stderr)
    expect(match?.[1]).toBe(target)
    expect(match?.[2]).toContain('is a directory')
    const fallback = match?.[3] as string
    expect((await Model.load(fallback)).epochsTrained).toBe(30)
  })
})

/**
 * Whether this process may mount a tmpfs in a mount namespace of its own
 * (root in most containers and CI here); the file-system tests need it.
 */
const canMount = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs ${JSON.stringify(fixtures.root)}`]).status === 0

/**
 * Runs the CLI with a fresh tmpfs (mount options `options`) on `dir`, in a
 * mount namespace that ends with the process: nothing to unmount. Its
 * stdout ends with a line `left: FILES` listing what the CLI left there.
 */
function cliOnTmpfs(options: string, dir: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // After the CLI, list what it left on the tmpfs (which ends with the namespace).
  const script = 'mount -t tmpfs -o "$0" tmpfs "$1" || exit 99; dir=$1; shift 2; "$@"; status=$?; echo "left: $(ls -A "$dir")"; exit $status'
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-m', 'sh', '-c', script, options, dir, process.execPath, CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

describe.skipIf(!canMount)('full and read-only file systems (a tmpfs in a private mount namespace)', () => {
  it('a read-only folder is refused before training, with exit 2', async () => {
    const dir = folder('read-only')
    const r = await cliOnTmpfs('ro', dir, [...QUICK, '--save', join(dir, 'model.safetensors')])
    expect(r).toEqual({
      code: 2,
      stdout: 'left: \n',
      stderr: `error: --save ${join(dir, 'model.safetensors')}: cannot create a file in ${dir}: Read-only file system (os error 30)\n`,
    })
  })

  it('a disk that fills up: the model goes to the fallback file, the report error names the path, no temp files stay', async () => {
    const dir = folder('full')
    const r = await cliOnTmpfs('size=16k', dir, [...QUICK, '--test-limit', '64', '--save', join(dir, 'model.safetensors'), '--report', join(dir, 'r.html')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`could not save the model to ${join(dir, 'model.safetensors')} (${join(dir, 'model.safetensors')}: No space left on device (os error 28)); saved it to `)
    expect(r.stderr).toContain(`error: ${join(dir, 'r.html')}: No space left on device (os error 28)\n`)
    expect(r.stdout).toMatch(/\nleft: \n$/)
    const fallback = /saved it to (\S+\.safetensors) instead/.exec(r.stderr)?.[1] as string
    expect((await Model.load(fallback)).name).toBe('lenet5')
  })
})

describe('sizes that would exhaust memory', () => {
  it('predict takes 20,000 raw images in a 64 MB JS heap (bytes cross as bytes)', async () => {
    const model = await savedModel()
    const script = `
      const { Model } = await import(${JSON.stringify(INDEX)})
      const m = await Model.load(${JSON.stringify(model)})
      const images = new Uint8Array(20000 * 784)
      for (let i = 0; i < images.length; i++) images[i] = (i * 7) % 256
      const { labels } = await m.predict(images)
      console.log(labels.length)`
    const out = await runScript(script, ['--max-old-space-size=64'])
    expect(out.stderr).toBe('')
    expect(out).toMatchObject({ code: 0, stdout: '20000\n' })
  })

  it('bytes and unit floats predict alike', async () => {
    const m = await Model.load(await savedModel())
    const { images } = mnistSample(50, 't10k')
    const fromBytes = await m.predict(images)
    const fromFloats = await m.predict(Float32Array.from(images, (x) => x / 255))
    expect(fromBytes.labels).toEqual(fromFloats.labels)
    fromBytes.probabilities.forEach((p, i) => expect(Math.abs(p - (fromFloats.probabilities[i] as number))).toBeLessThan(1e-6))
  })

  it('batch sizes above maxBatchSize() are refused before allocating: exit 2 or RangeError', async () => {
    expect(maxBatchSize()).toBe(1024)
    for (const size of ['1025', '1000000', '100000000', '4294967295']) {
      for (const command of ['bench', 'train']) {
        const r = await run([command, '--batch-size', size])
        expect(r).toEqual({ code: 2, stdout: '', stderr: `error: --batch-size must be an integer in [1, 1024] (got ${size})\n` })
      }
    }
    const { test } = await loadMnist({ dir: data })
    await expect(benchmark({ model: 'lenet5', batchSize: 1_000_000 })).rejects.toThrow(RangeError)
    await expect(createModel('lenet5').evaluate(test, { batchSize: 1025 })).rejects.toThrow('batchSize must be an integer in [1, 1024] (got 1025)')
    await expect(createModel('lenet5').fit(test, { batchSize: 2048 })).rejects.toThrow(RangeError)
  })
})

describe('none of it prints a stack or a panic', () => {
  it('was checked above; here the leftovers: no stale temp files beside saves', async () => {
    const dir = folder('stale')
    const stale = join(dir, '.model.safetensors.99999999.tmp')
    writeFileSync(stale, 'half a file')
    const r = await run([...QUICK, '--save', join(dir, 'model.safetensors')])
    expect(r.code).toBe(0)
    expect(r.stderr).not.toMatch(STACK_OR_PANIC)
    expect(existsSync(stale)).toBe(false)
    expect(readdirSync(dir)).toEqual(['model.safetensors'])
  })
})
