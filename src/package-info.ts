/**
 * This package's name and version, read from its package.json.
 * @internal
 * @module
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

interface PackageJson {
  name: string
  version: string
}

const pkg = createRequire(import.meta.url)('../package.json') as PackageJson

/** The package name. */
export const packageName: string = pkg.name

/** The package version. */
export const version: string = pkg.version

/** The folder holding package.json (this file is one level below it, in src/ or dist/). */
export const packageRoot: string = fileURLToPath(new URL('..', import.meta.url))
