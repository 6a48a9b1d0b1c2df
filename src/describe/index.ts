/**
 * The model-description builder: typed functions that write the JSON format
 * of `docs/model-description.md`. The Rust core reads and checks that
 * format; this folder only shapes it.
 * @module
 */
export { concat, network, residual, sequential } from './combinators.js'
export type { NetworkOptions, ResidualOptions } from './combinators.js'
export { avgPool, batchNorm, conv2d, flatten, globalAvgPool, linear, maxPool, relu } from './layers.js'
export type { AvgPoolOptions, Conv2dOptions, LinearOptions, MaxPoolOptions } from './layers.js'
export type { NamedSteps, Steps } from './steps.js'
export type {
  AvgPoolStep,
  BatchNormStep,
  CombinatorStep,
  ConcatStep,
  Conv2dStep,
  FlattenStep,
  GlobalAvgPoolStep,
  LayerStep,
  LinearStep,
  MaxPoolStep,
  ModelDescription,
  ReluStep,
  ResidualStep,
  SequentialStep,
  Step,
  StepType,
} from './types.js'
