/**
 * The shape of one option as the core declares it, as the addon exports
 * it and `scripts/generate-options.mjs` writes it into
 * `src/generated/options.ts`.
 * @module
 */

import type { OptionCommand } from './generated/options.js'

/** One option as the core declares it; see {@link OPTION_SCHEMA}. */
export interface OptionSpec {
  /** Which command takes it: `fit` (also the `train` command), `bench`, `model`, `data`… */
  readonly command: OptionCommand
  /** Its name in the API, e.g. `weightDecay`. */
  readonly name: string
  /** Its CLI flag, e.g. `--weight-decay`. */
  readonly flag: string
  readonly kind: 'decimal' | 'whole' | 'flag' | 'choice'
  /** What a valid value is, as refusals word it after "must be". */
  readonly rule: string
  readonly min: number | null
  readonly minInclusive: boolean
  readonly max: number | null
  readonly maxInclusive: boolean
  readonly choices: readonly string[] | null
  /** The default, unless it depends on the optimizer (null: none). */
  readonly default: number | boolean | string | null
  /** Each optimizer's default, when it depends on the optimizer. */
  readonly defaultByOptimizer: Readonly<Record<string, number>> | null
  /** The default as help shows it, e.g. `0.01; 0.001 with adam and adamw` (null: none). */
  readonly defaultText: string | null
  /** The optimizers it applies to (null: any). */
  readonly optimizers: readonly string[] | null
  /** The schedules it applies to (null: any). */
  readonly schedules: readonly string[] | null
  /** Whether it needs a warm-up (`warmupEpochs` > 0). */
  readonly needsWarmup: boolean
  /** Part of the recipe a checkpoint keeps. */
  readonly recipe: boolean
  /** What help calls its value. */
  readonly placeholder: string
  /** One line on what it does. */
  readonly doc: string
}
