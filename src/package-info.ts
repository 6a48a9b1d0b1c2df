/**
 * This package's name and version, read from its package.json.
 * @internal
 * @module
 */
import { createRequire } from 'node:module'

interface PackageJson {
  name: string
  version: string
}

const pkg = createRequire(import.meta.url)('../package.json') as PackageJson

/** The package name. */
export const packageName: string = pkg.name

/** The package version. */
export const version: string = pkg.version
