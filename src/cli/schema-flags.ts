/**
 * The flags of the options the core declares (`train`'s recipe, `bench`'s
 * settings): made from the generated schema, with its help and defaults,
 * read from commander's raw strings, and checked by the core, whose
 * refusal names the flag by the option's name.
 * @module
 */
import { type Command, Option } from 'commander'
import type { OptionSpec } from '../generated/options.js'
import { decimalNumber, wholeNumber } from '../numerals.js'
import { checkOptions, isOptionError, optionSpec, optionsOf } from '../options.js'
import { choicesFromAddon, defaultTextFromAddon } from './addon-help.js'
import type { RawFlags } from './flags.js'
import { UsageError } from './usage-error.js'

/** Which runs it applies to, as help's prefix (`sgd: `, `step schedule: `). */
function appliesHelp(spec: OptionSpec): string {
  if (spec.optimizers !== null) return `${spec.optimizers.join(', ')}: `
  if (spec.schedules !== null) return `${spec.schedules.join(', ')} schedule: `
  return spec.needsWarmup ? 'with --warmup-epochs: ' : ''
}

/** The commander option of `spec`: its flag, value name, help, default and choices (shown, not applied). */
export function schemaOption(spec: OptionSpec): Option {
  const flags = spec.kind === 'flag' ? spec.flag : `${spec.flag} <${spec.placeholder}>`
  let option = new Option(flags, `${appliesHelp(spec)}${spec.doc}`)
  const text = spec.defaultText?.replace(/^'(.*)'$/, '$1')
  if (text !== undefined && spec.kind !== 'flag') option = defaultTextFromAddon(option, () => text)
  if (spec.choices !== null) {
    const choices = [...spec.choices]
    option = choicesFromAddon(option, () => choices)
  }
  return option
}

/** `--device`, with the devices the core declares (commander checks the choice). */
export function deviceOption(): Option {
  const spec = optionSpec('model', 'device')
  return new Option(`${spec.flag} <${spec.placeholder}>`, spec.doc).choices(spec.choices ?? []).default(spec.default)
}

/** Adds a flag for each option `of` declares to `command`; returns it. */
export function addSchemaOptions(command: Command, of: OptionSpec['command']): Command {
  for (const spec of optionsOf(of)) command.addOption(schemaOption(spec))
  return command
}

/** The flags of `of`'s options that were given, read from their text: the values for the core, and the text for messages. */
export interface GivenFlags {
  values: Record<string, number | boolean | string>
  texts: Record<string, string>
}

/**
 * Reads the flags of `of`'s options that `raw` holds: whole numbers in
 * plain decimal digits and fractions in decimal notation (text that is
 * neither reads as NaN, which the core refuses, quoting the text), flags
 * as booleans, names as given.
 */
export function readSchemaFlags(raw: RawFlags, of: OptionSpec['command']): GivenFlags {
  const given: GivenFlags = { values: {}, texts: {} }
  for (const spec of optionsOf(of)) {
    const value = raw[spec.name]
    if (value === undefined) continue
    if (typeof value === 'string') {
      given.texts[spec.name] = value === '' ? '""' : value
      if (spec.kind === 'whole') given.values[spec.name] = wholeNumber(value)
      else if (spec.kind === 'decimal') given.values[spec.name] = decimalNumber(value)
      else given.values[spec.name] = value
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      given.values[spec.name] = value
    }
  }
  return given
}

/**
 * The flags of `of`'s options that were given, read and checked by the
 * core (each alone; what they mean together is checked where they are used).
 * @throws UsageError naming the first bad flag
 */
export function schemaFlags(raw: RawFlags, of: OptionSpec['command']): Record<string, number | boolean | string> {
  const { values, texts } = readSchemaFlags(raw, of)
  checkedFlags(of, texts, () => checkOptions(of, values))
  return values
}

/**
 * Runs a check the core makes of option values; its refusal becomes a
 * usage error naming the flag, with the text the user typed:
 * `--lr must be a finite number > 0 (got abc)`. A refusal of no single
 * option keeps the core's message; a check that could not run (the addon
 * failed to load) is no usage error.
 * @throws UsageError
 */
export function checkedFlags<T>(of: OptionSpec['command'], texts: Readonly<Record<string, string>>, check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (isOptionError(error)) {
      const spec = optionsOf(of).find((s) => s.name === error.option)
      // A number as the user typed it (`abc`, `0x10`); a name as the core quotes it.
      const typed = spec?.kind === 'whole' || spec?.kind === 'decimal' ? texts[error.option] : undefined
      const got = typed ?? error.got
      throw new UsageError(`${spec?.flag ?? error.option} ${error.rule}${got === undefined || error.got === undefined ? '' : ` (got ${got})`}`)
    }
    if (error instanceof RangeError || error instanceof TypeError) throw new UsageError(error.message)
    throw error
  }
}
