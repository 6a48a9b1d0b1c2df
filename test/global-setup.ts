import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The suites run against the built addon and dist/: fail early, and clearly, when they are missing. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url))
  const missing: string[] = []
  for (const file of ['index.js', 'dist/index.js', 'dist/cli.js']) {
    if (!existsSync(join(root, file))) missing.push(file)
  }
  if (!readdirSync(root).some((f) => f.startsWith('googlenet-native.') && f.endsWith('.node'))) {
    missing.push('googlenet-native.*.node')
  }
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run "npm run build" (native addon and dist/) before the tests`)
  }
}
