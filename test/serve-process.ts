/** `googlenet-native serve` as a child process, for the tests of the page and its server. */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, ROOT, presentOrSkip } from './helpers.js'

/** The page and the WebAssembly build it runs: `npm run build:wasm` makes both. */
export const PAGE_BUILT = existsSync(join(ROOT, 'dist-web', 'index.html')) && existsSync(join(ROOT, 'googlenet-native.wasm32-wasi.wasm'))

/** Whether a suite of the page runs (see {@link presentOrSkip}). */
export function pageBuiltOrSkip(suite: string): boolean {
  return presentOrSkip(PAGE_BUILT, suite, 'dist-web/ and the WebAssembly build', 'npm run build:wasm builds both')
}

/** A running `serve`: its URL, its output so far, and how to stop it. */
export interface Served {
  url: string
  child: ChildProcess
  stderr(): string
  /** Sends `signal` (SIGINT by default, as Ctrl+C); resolves to the exit status. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

/** Where `serve` runs from: this checkout's CLI unless an installed one is named. */
export interface ServeFrom {
  cli?: string
  cwd?: string
  env?: NodeJS.ProcessEnv
}

/** Starts `serve --port 0` with `args`; resolves once it prints its URL. */
export function serve(args: string[] = [], from: ServeFrom = {}): Promise<Served> {
  const { cli = CLI, cwd = ROOT, env = process.env } = from
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const url = /http:\/\/\S+\//.exec(stdout)?.[0]
      if (url) {
        resolve({
          url,
          child,
          stderr: () => stderr,
          stop: (signal = 'SIGINT') => {
            child.kill(signal)
            return exited
          },
        })
      }
    })
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)))
  })
}
