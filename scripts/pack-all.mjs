#!/usr/bin/env node
// `npm run pack:all -- OUTDIR`: packs what npm would publish, with `npm pack`,
// into OUTDIR:
//   - googlenet-native-linux-x64-gnu-VERSION.tgz: the platform package
//     (npm/linux-x64-gnu, with `os`, `cpu` and `libc`), holding the CPU
//     addon stripped of symbols: the glibc 2.17 build of
//     `npm run build:portable` when there is one, else the local build;
//   - googlenet-native-linux-arm64-gnu-VERSION.tgz: the same for Linux on
//     aarch64 (npm/linux-arm64-gnu), when `npm run build:portable:arm64`
//     has cross-built it (there is no local build to fall back on);
//   - googlenet-native-wasm32-wasi-VERSION.tgz: the WebAssembly build
//     (npm/wasm32-wasi; `npm run build:wasm`), the fallback where no native
//     binary fits, when it has been built;
//   - googlenet-native-VERSION.tgz: the main package (dist/, the napi loader,
//     README), whose package.json gains an exact `optionalDependencies`
//     entry on each platform package packed here, as `napi prepublish` would add.
// The repository's own package.json has no such entry: in a clone the
// addon is built from source by `npm install`, and `npm ci` cannot lock a
// package that is not published yet. Prints one JSON line describing the
// tarballs (`arm64` and `wasm` are null when not built). Build first
// (`npm run build`, and `npm run build:wasm` for the fallback).
import { execFileSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PLATFORM_DIR = join(ROOT, 'npm', 'linux-x64-gnu')
const BINARY = 'googlenet-native.linux-x64-gnu.node'
const ARM64_DIR = join(ROOT, 'npm', 'linux-arm64-gnu')
const ARM64_BINARY = 'googlenet-native.linux-arm64-gnu.node'
const WASM_DIR = join(ROOT, 'npm', 'wasm32-wasi')

function fail(message) {
  process.stderr.write(`pack:all: ${message}\n`)
  process.exit(1)
}

const outArg = process.argv[2]
if (!outArg) fail('usage: npm run pack:all -- OUTDIR')
const out = resolve(outArg)
mkdirSync(out, { recursive: true })

const main = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const platform = JSON.parse(readFileSync(join(PLATFORM_DIR, 'package.json'), 'utf8'))
if (platform.version !== main.version) fail(`npm/linux-x64-gnu is at ${platform.version}, the package at ${main.version}`)
const arm64 = JSON.parse(readFileSync(join(ARM64_DIR, 'package.json'), 'utf8'))
if (arm64.version !== main.version) fail(`npm/linux-arm64-gnu is at ${arm64.version}, the package at ${main.version}`)
// The portable build (glibc 2.17) when it was made, else this machine's.
const portable = existsSync(join(PLATFORM_DIR, BINARY))
const binary = portable ? join(PLATFORM_DIR, BINARY) : join(ROOT, BINARY)
for (const file of [binary, 'dist/index.js', 'dist/cli.js', 'index.js', 'index.d.ts']) {
  if (!existsSync(resolve(ROOT, file))) fail(`${file} is missing: run \`npm run build\` first`)
}

/** Runs `npm pack` in `dir`, returning the tarball's path in OUTDIR. */
function pack(dir) {
  const report = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }))
  return join(out, report[0].filename)
}

const staging = mkdtempSync(join(tmpdir(), 'googlenet-native-pack-'))
try {
  /** Stages a native platform package (manifest, README, the binary without symbols) and packs it. */
  function packNative(dir, name, file) {
    const stage = join(staging, name)
    mkdirSync(stage)
    for (const entry of ['package.json', 'README.md']) copyFileSync(join(dir, entry), join(stage, entry))
    copyFileSync(file, join(stage, basename(file)))
    // The cross-built arm64 binary comes from zig's linker without symbols
    // already, and this machine's strip reads only x86 files: strip only
    // what has a symbol table (readelf reads any ELF file).
    const staged = join(stage, basename(file))
    let symbols = true
    try {
      symbols = execFileSync('readelf', ['-S', '-W', staged], { encoding: 'utf8' }).includes('.symtab')
    } catch {}
    if (symbols) {
      try {
        execFileSync('strip', ['--strip-unneeded', staged])
      } catch {
        process.stderr.write(`pack:all: \`strip\` failed or is missing; packing ${basename(file)} with its symbols\n`)
      }
    }
    return pack(stage)
  }

  // The platform packages: x64 always, arm64 when it was cross-built.
  const platformTarball = packNative(PLATFORM_DIR, 'platform', binary)
  let arm64Tarball = null
  if (existsSync(join(ARM64_DIR, ARM64_BINARY))) {
    arm64Tarball = packNative(ARM64_DIR, 'arm64', join(ARM64_DIR, ARM64_BINARY))
  } else {
    process.stderr.write('pack:all: no linux-arm64-gnu build (npm run build:portable:arm64); packing without it\n')
  }

  // The WebAssembly package: napi-rs's loaders and the module, as its `files` list names them.
  const wasm = JSON.parse(readFileSync(join(WASM_DIR, 'package.json'), 'utf8'))
  if (wasm.version !== main.version) fail(`npm/wasm32-wasi is at ${wasm.version}, the package at ${main.version}`)
  let wasmTarball = null
  if (existsSync(join(ROOT, wasm.files[0]))) {
    const wasmStage = join(staging, 'wasm')
    mkdirSync(wasmStage)
    for (const file of ['package.json', 'README.md']) copyFileSync(join(WASM_DIR, file), join(wasmStage, file))
    for (const file of wasm.files) {
      if (!existsSync(join(ROOT, file))) fail(`${file} is missing: run \`npm run build:wasm\` again`)
      copyFileSync(join(ROOT, file), join(wasmStage, file))
    }
    wasmTarball = pack(wasmStage)
  } else {
    process.stderr.write('pack:all: no WebAssembly build (npm run build:wasm); packing without the fallback\n')
  }

  // The main package: what its `files` list names, and an exact optional dependency on the binary.
  const mainStage = join(staging, 'main')
  mkdirSync(mainStage)
  for (const entry of [...main.files, 'README.md']) cpSync(join(ROOT, entry), join(mainStage, entry), { recursive: true })
  const { scripts: _scripts, devDependencies: _dev, ...published } = main
  published.optionalDependencies = {
    ...main.optionalDependencies,
    [platform.name]: platform.version,
    ...(arm64Tarball ? { [arm64.name]: arm64.version } : {}),
    ...(wasmTarball ? { [wasm.name]: wasm.version } : {}),
  }
  writeFileSync(join(mainStage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`)
  const mainTarball = pack(mainStage)

  const describe = (path) => ({ file: path, name: basename(path), bytes: statSync(path).size })
  const built = portable ? 'portable' : 'local'
  const packed = {
    main: describe(mainTarball),
    platform: { ...describe(platformTarball), binary: built },
    arm64: arm64Tarball && { ...describe(arm64Tarball), binary: 'portable' },
    wasm: wasmTarball && describe(wasmTarball),
  }
  process.stdout.write(`${JSON.stringify(packed)}\n`)
} finally {
  rmSync(staging, { recursive: true, force: true })
}
