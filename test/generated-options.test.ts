import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { FIT_DEFAULTS, OPTION_SCHEMA, fitDefaultsFor, isOptionError } from '../src/index.js'
import { nativeBinding } from '../src/native.js'

describe('the options generated from the core', () => {
  it('are not stale: src/generated/options.ts and the manual tables match the built addon', () => {
    // Throws (exit 1, naming the stale files) when they differ.
    execFileSync(process.execPath, ['scripts/generate-options.mjs', '--check'], { stdio: 'pipe' })
  })

  it('give the defaults the core resolves', () => {
    const resolved = fitDefaultsFor('sgd')
    for (const [name, value] of Object.entries(resolved)) {
      if (name in FIT_DEFAULTS) expect(FIT_DEFAULTS[name as keyof typeof FIT_DEFAULTS], name).toBe(value)
    }
    const adamw = fitDefaultsFor('adamw')
    const lr = OPTION_SCHEMA.find((s) => s.command === 'fit' && s.name === 'lr')
    expect(adamw.lr).toBe(lr?.defaultByOptimizer?.adamw)
  })

  it('refuse with the option, the rule and the value as fields', () => {
    let caught: unknown
    try {
      nativeBinding().resolveFitRecipe({ optimizer: 'adam', lr: -1 })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(RangeError)
    expect(isOptionError(caught)).toBe(true)
    expect(caught).toMatchObject({ option: 'lr', rule: 'must be a finite number > 0', got: '-1', message: 'lr must be a finite number > 0 (got -1)' })
    expect(() => nativeBinding().resolveFitRecipe({ optimizer: 'adam', momentum: 0.9 })).toThrow(
      expect.objectContaining({ option: 'momentum', rule: 'does not apply to the adam optimizer (only to sgd)' }),
    )
    expect(() => nativeBinding().resolveFitRecipe({ lr: '0.1' })).toThrow(TypeError)
    expect(() => nativeBinding().resolveFitRecipe({ learningRate: 0.1 })).toThrow(expect.objectContaining({ option: 'learningRate' }))
  })
})
