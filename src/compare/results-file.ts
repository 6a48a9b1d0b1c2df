/**
 * Results files: one JSON line per finished run ({@link RunRecord}),
 * appended as each run finishes, so that a stopped comparison loses
 * nothing it finished; read back to resume one, or to merge the files
 * of several shards.
 * @module
 */
import { appendFileSync, existsSync, readFileSync, truncateSync } from 'node:fs'
import type { RunRecord, StoredRun } from './types.js'

/** A results file's runs, and whether its last line was cut short (a process killed while writing it). */
export interface ResultsFile {
  runs: StoredRun[]
  /** Bytes of complete lines: a torn last line lies beyond. */
  completeBytes: number
  torn: boolean
}

/** What a line of a results file must hold, and of which type. */
const FIELDS: ReadonlyArray<[keyof RunRecord, string]> = [
  ['model', 'string'],
  ['seed', 'number'],
  ['testAccuracy', 'number'],
  ['description', 'object'],
  ['params', 'number'],
  ['macs', 'number'],
  ['settings', 'object'],
  ['data', 'object'],
  ['sweep', 'object'],
  ['history', 'object'],
  ['machine', 'object'],
]

/**
 * A line's run.
 * @throws Error saying what is wrong with it, prefixed by `where`
 */
function parseRun(line: string, where: string): RunRecord {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    throw new Error(`${where}: not a JSON line (${(error as Error).message})`)
  }
  if (typeof value !== 'object' || value === null || (value as { type?: unknown }).type !== 'run') {
    throw new Error(`${where}: not a run of a comparison (a results file holds {"type":"run",…} lines)`)
  }
  const record = value as Record<string, unknown>
  if (record.version !== 1) throw new Error(`${where}: format version ${JSON.stringify(record.version)} is not one this version reads (1)`)
  for (const [field, type] of FIELDS) {
    if (typeof record[field] !== type || record[field] === null) throw new Error(`${where}: lacks the ${type} '${field}'`)
  }
  const run = value as RunRecord
  if (!Array.isArray(run.history) || run.history.length === 0) throw new Error(`${where}: 'history' holds no epoch`)
  if (!Array.isArray(run.sweep.models) || !Array.isArray(run.sweep.seeds)) throw new Error(`${where}: 'sweep' lacks its models and seeds`)
  return run
}

/**
 * Reads `path`'s runs. A last line without its newline is a run cut short
 * by a killed process: left out (`torn`), to be trained again.
 * @throws Error naming the file and line of anything else that is not a run
 */
export function readResultsFile(path: string): ResultsFile {
  const text = readFileSync(path, 'utf8')
  const end = text.lastIndexOf('\n') + 1
  const runs: StoredRun[] = []
  text
    .slice(0, end)
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return
      const where = `${path}:${i + 1}`
      runs.push({ record: parseRun(line, where), where })
    })
  return { runs, completeBytes: Buffer.byteLength(text.slice(0, end)), torn: text.slice(end).trim() !== '' }
}

/** {@link readResultsFile}, or no runs where `path` does not exist yet. */
export function readResultsIfAny(path: string): ResultsFile {
  return existsSync(path) ? readResultsFile(path) : { runs: [], completeBytes: 0, torn: false }
}

/** Cuts a torn last line off `path`, so that the next run appended starts a line of its own. */
export function dropTornLine(path: string, file: ResultsFile): void {
  if (file.torn) truncateSync(path, file.completeBytes)
}

/** Appends `record` as one line, in one write. */
export function appendRun(path: string, record: RunRecord): void {
  appendFileSync(path, `${JSON.stringify(record)}\n`)
}

/** JSON with keys sorted, so that two objects compare by their content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  )
}

/** The parts of two runs that must agree for them to be compared, first difference named; null when they agree. */
export function settingsDifference(a: RunRecord, b: RunRecord): string | null {
  const { source: _a, ...dataA } = a.data
  const { source: _b, ...dataB } = b.data
  const parts: Array<[string, unknown, unknown]> = [
    ...Object.keys({ ...a.settings, ...b.settings }).map(
      (key): [string, unknown, unknown] => [key, a.settings[key as keyof typeof a.settings], b.settings[key as keyof typeof b.settings]],
    ),
    ...Object.keys({ ...dataA, ...dataB }).map(
      (key): [string, unknown, unknown] => [`data ${key}`, dataA[key as keyof typeof dataA], dataB[key as keyof typeof dataB]],
    ),
  ]
  for (const [name, x, y] of parts) {
    if (canonical(x) !== canonical(y)) return `${name}: ${canonical(x)} against ${canonical(y)}`
  }
  return null
}

/**
 * Checks that `runs` belong to one comparison: the same settings and data,
 * each model name one description, each (model, seed) once (a run found
 * twice with the same result, as after merging a file with itself, is kept
 * once).
 * @returns the runs, without repeats
 * @throws RangeError naming the two places that disagree
 */
export function checkOneComparison(runs: readonly StoredRun[]): StoredRun[] {
  const first = runs[0]
  const kept = new Map<string, StoredRun>()
  const descriptions = new Map<string, StoredRun>()
  for (const run of runs) {
    if (first !== undefined && run !== first) {
      const difference = settingsDifference(first.record, run.record)
      if (difference !== null) throw new RangeError(`${run.where} was run with other settings than ${first.where} (${difference})`)
    }
    const named = descriptions.get(run.record.model)
    if (named !== undefined && canonical(named.record.description) !== canonical(run.record.description)) {
      throw new RangeError(`${run.where} and ${named.where} give model '${run.record.model}' two different descriptions`)
    }
    descriptions.set(run.record.model, named ?? run)
    const key = `${run.record.model}\u0000${run.record.seed}`
    const same = kept.get(key)
    if (same === undefined) {
      kept.set(key, run)
    } else if (canonical(resultOf(same.record)) !== canonical(resultOf(run.record))) {
      throw new RangeError(`${run.where} and ${same.where} hold two different results of ${run.record.model} seed ${run.record.seed}`)
    }
  }
  return [...kept.values()]
}

/** What a run found (not when or where): its per-epoch losses and accuracies. */
function resultOf(record: RunRecord): unknown {
  return record.history.map((e) => [e.loss, e.testAccuracy, e.testLoss])
}
