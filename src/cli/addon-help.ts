/**
 * Help for the flags whose default or choices live in the addon (the model
 * list, the reference recipe, the bench settings). commander shows what
 * `.default()` and `.choices()` were given when the program was built, and
 * building it must not load the addon (`--help` works where none loads);
 * these are read when help is printed instead, and left out of it when the
 * addon cannot be loaded.
 * @module
 */
import { Help, type HelpConfiguration, type Option } from 'commander'
import { defaultModel, modelCatalog, modelNames } from '../catalog.js'

/** What help shows of a flag, read from the addon. */
type Shown = { description?: string; defaultValue?: unknown; defaultValueDescription?: string; argChoices?: string[] }

const fromAddon = new WeakMap<Option, () => Shown>()

/** `option`, whose help shows `(default: …)` from `read()` (not applied: the command falls back to it itself). */
export function defaultFromAddon(option: Option, read: () => unknown): Option {
  fromAddon.set(option, () => ({ defaultValue: read() }))
  return option
}

/** `option`, whose help shows `(default: …)` with the text `read()` gives (defaults that depend on another flag). */
export function defaultTextFromAddon(option: Option, read: () => string): Option {
  fromAddon.set(option, () => ({ defaultValue: true, defaultValueDescription: read() }))
  return option
}

/** `option`, whose help lists the names `read()` gives (checked by the command, not by commander). */
export function choicesFromAddon(option: Option, read: () => string[]): Option {
  const before = fromAddon.get(option)
  fromAddon.set(option, () => ({ ...before?.(), argChoices: read() }))
  return option
}

/** `option`, a model name, whose help lists every name the catalog accepts and its default model (both applied by the command). */
export function modelChoices(option: Option): Option {
  fromAddon.set(option, () => ({ argChoices: [...modelNames], defaultValue: defaultModel() }))
  return option
}

/**
 * `option`, a depth, whose help gives the range and default of the models
 * that take one (when they share one rule, as the ResNets do).
 */
export function depthRange(option: Option): Option {
  fromAddon.set(option, () => {
    const rules = modelCatalog().flatMap((m) => (m.depth === null ? [] : [m.depth]))
    const [rule] = rules
    if (rule === undefined || rules.some((r) => r.min !== rule.min || r.max !== rule.max || r.default !== rule.default)) return {}
    return { description: `${option.description}: ${rule.min} to ${rule.max}`, defaultValue: rule.default }
  })
  return option
}

/** The help configuration that shows them; subcommands inherit it. */
export const addonHelp: HelpConfiguration = {
  optionDescription(this: Help, option: Option): string {
    const read = fromAddon.get(option)
    let shown = option
    if (read !== undefined) {
      try {
        shown = Object.assign(Object.create(option) as Option, read())
      } catch {
        // No addon: the help goes without what only it knows.
      }
    }
    return Help.prototype.optionDescription.call(this, shown)
  },
}
