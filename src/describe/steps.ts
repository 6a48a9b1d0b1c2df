/**
 * What the builder accepts wherever it takes steps ({@link Steps}), and how
 * it turns that into the canonical JSON: names from keys, sequences as
 * arrays, nothing nested that adds nothing.
 * @module
 */
import type { Step } from './types.js'

/**
 * Steps named by the keys of an object, in key order: `{ conv1: conv2d(…),
 * pool1: maxPool({ kernel: 2 }) }` is the step `conv1` then the step
 * `pool1`, as PyTorch names a module's children. A value that is itself an
 * array or an object of named steps becomes a `sequential` step of that
 * name, which adds a level to the names inside it (`{ layer1: { conv1: … } }`
 * names the conv `layer1.conv1`).
 *
 * Keys may hold dots (`'layer1.0'`). An object with more than one key may not
 * have an integer-like key (`'0'`, `'12'`): JavaScript puts those first,
 * whatever order they were written in, so the builder refuses them with a
 * `TypeError`. Write such steps as an array of one-key objects instead:
 * `[{ '0': conv2d(…) }, { '1': batchNorm() }]`.
 */
export interface NamedSteps {
  // `undefined` only so that TypeScript's widening of an array of objects with
  // different keys (`[{ conv1: … }, relu(), { conv2: … }]`, typed with optional
  // `undefined` fields) type-checks; a key holding `undefined` is a TypeError.
  readonly [name: string]: Steps | undefined
}

/**
 * What the builder takes wherever it takes steps:
 * - a step (`conv2d(…)`, `concat(…)`, or a step object written by hand);
 * - an object of named steps ({@link NamedSteps});
 * - an array of any of these, mixed: a sequence. Each object of named steps
 *   contributes its entries, in order, and each nested array its steps
 *   (an unnamed sequence adds no level of names).
 *
 * @example
 * ```ts
 * const block = (channels: number): Steps => [
 *   { conv1: conv2d({ outChannels: channels, kernel: 3, padding: 1 }), bn1: batchNorm() },
 *   relu(),
 *   { conv2: conv2d({ outChannels: channels, kernel: 3, padding: 1 }), bn2: batchNorm() },
 * ]
 * ```
 */
export type Steps = Step | NamedSteps | readonly Steps[]

/**
 * The steps of a sequence, in order: nested arrays spliced in, each object
 * of named steps replaced by its entries, named. Step objects are kept as
 * they are (apart from a name given by a key). `where` names the place for
 * errors, e.g. `concat: branches[1]`.
 * @throws TypeError for a value that is not a step, an array or an object of
 *   named steps; for an integer-like key among several; for a key naming a
 *   step that already has a name
 */
export function sequenceOf(input: unknown, where: string): Step[] {
  return sequenceWithin(input, where, new Set())
}

/**
 * {@link sequenceOf} for an array or object met inside the ones in
 * `enclosing`: meeting one of those again is a cycle, which would recurse
 * forever.
 */
function sequenceWithin(input: unknown, where: string, enclosing: ReadonlySet<object>): Step[] {
  const out: Step[] = []
  collect(input, where, out, enclosing)
  return out
}

/**
 * The steps as one step, in the most compact form: a sequence of exactly
 * one step is that step; otherwise an array (see {@link sequenceOf}).
 */
export function stepOf(input: unknown, where: string): Step {
  const steps = sequenceOf(input, where)
  return steps.length === 1 ? (steps[0] as Step) : steps
}

function collect(input: unknown, where: string, out: Step[], enclosing: ReadonlySet<object>): void {
  if (isStepObject(input)) {
    out.push(input)
    return
  }
  if (!Array.isArray(input) && !isNamedSteps(input)) throw notSteps(input, where)
  if (enclosing.has(input)) throw new TypeError(`${where}: holds itself (an array or object of steps inside itself): steps must form a tree`)
  const inside = new Set(enclosing).add(input)
  if (Array.isArray(input)) {
    input.forEach((item, i) => collect(item, `${where}[${i}]`, out, inside))
  } else {
    for (const key of keysInOrder(input, where)) out.push(named(key, input[key], `${where}.${key}`, inside))
  }
}

/** `value` named `key`: a step object gets the name; an array or object of named steps becomes a named `sequential`. */
function named(key: string, value: unknown, where: string, enclosing: ReadonlySet<object>): Step {
  if (Array.isArray(value) || isNamedSteps(value)) {
    return { type: 'sequential', name: key, steps: sequenceWithin(value, where, enclosing) }
  }
  if (!isStepObject(value)) throw notSteps(value, where)
  const { type, name, ...fields } = value as { type: string; name?: unknown }
  if (name !== undefined) {
    throw new TypeError(
      `${where}: this ${type} step is already named ${JSON.stringify(name)} and cannot also be named ${JSON.stringify(key)}: ` +
        'name a step once, by the key that holds it',
    )
  }
  return { type, name: key, ...fields } as Step
}

/** The keys of an object of named steps, in the order they were written. */
function keysInOrder(input: object, where: string): string[] {
  const keys = Object.keys(input)
  const integer = keys.find(isIntegerLike)
  if (keys.length > 1 && integer !== undefined) {
    throw new TypeError(
      `${where}: the key ${JSON.stringify(integer)} is integer-like, and JavaScript lists such keys first whatever order ` +
        `they were written in, so these steps' order would be lost: write them as an array of named steps instead, ` +
        `one key each, e.g. [{ '0': conv2d(…) }, { '1': batchNorm() }]`,
    )
  }
  return keys
}

/** Whether JavaScript orders `key` before string keys: an array index, 0 to 2^32 − 2, written canonically. */
function isIntegerLike(key: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < 2 ** 32 - 1
}

/** A step object: any object with a string `type` (the core checks the rest). */
function isStepObject(value: unknown): value is Exclude<Step, readonly Step[]> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string'
}

/** An object of named steps: a plain object (not an array, a class instance or a step). */
function isNamedSteps(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || isStepObject(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function notSteps(value: unknown, where: string): TypeError {
  return new TypeError(
    `${where}: expected a step (such as conv2d({ outChannels: 10, kernel: 5 })), an array of steps, or an object of named steps ` +
      `({ conv1: conv2d(…) }); got ${shown(value)}`,
  )
}

/** A short account of a value for an error message. */
export function shown(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'function') return 'a function (call it: relu(), not relu)'
  if (typeof value !== 'object') return `${typeof value} ${String(value)}`
  const proto: unknown = Object.getPrototypeOf(value)
  const name = (proto as { constructor?: { name?: unknown } } | null)?.constructor?.name
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object that is not a plain object'
}
