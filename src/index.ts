/**
 * googlenet-native: train and run GoogLeNet-style CNNs on MNIST-format data
 * from TypeScript, with a Rust (candle) core behind napi-rs.
 *
 * @example
 * ```ts
 * import { train, loadMnist, createModel } from 'googlenet-native'
 *
 * const { model, history } = await train({ epochs: 1 })
 * const { test } = await loadMnist()
 * console.log(await model.evaluate(test))
 * ```
 * @packageDocumentation
 */
export { benchmark, type BenchmarkOptions, type BenchmarkResult, type CpuIsa } from './bench.js'
export {
  compareModels,
  mergeResults,
  summarizeRuns,
  parseShard,
  COMPARE_EPOCHS,
  PAPER_FIGURES,
  RESIDUAL_DESIGNS,
  type CompareOptions,
  type CompareResult,
  type Comparison,
  type ModelComparison,
  type RunRecord,
  type RunSettings,
  type RunData,
  type MachineInfo,
  type ErrorTest,
  type PaperFigure,
  type Shard,
} from './compare/index.js'
export {
  bottleneckCost,
  convolutionCost,
  TUTORIAL_BOTTLENECK,
  type BottleneckCost,
  type BottleneckOptions,
  type ConvolutionShape,
} from './cost.js'
export { latestCheckpoint } from './checkpoint.js'
export { Dataset, type DatasetArrays, type ImageSizeOptions } from './dataset.js'
export { deviceInfo, type DeviceInfo } from './device.js'
export {
  avgPool,
  batchNorm,
  concat,
  conv2d,
  flatten,
  globalAvgPool,
  linear,
  maxPool,
  network,
  relu,
  residual,
  sequential,
  type AvgPoolOptions,
  type AvgPoolStep,
  type BatchNormStep,
  type CombinatorStep,
  type ConcatStep,
  type Conv2dOptions,
  type Conv2dStep,
  type FlattenStep,
  type GlobalAvgPoolStep,
  type LayerStep,
  type LinearOptions,
  type LinearStep,
  type MaxPoolOptions,
  type MaxPoolStep,
  type ModelDescription,
  type NetworkOptions,
  type NamedSteps,
  type ReluStep,
  type ResidualOptions,
  type ResidualStep,
  type SequentialStep,
  type Step,
  type Steps,
  type StepType,
} from './describe/index.js'
export { checkDescription, describeModel, descriptions, type ModelSource } from './describe/source.js'
export { abortError, isAbortError } from './errors.js'
export { decodeDigitImage, readDigitImage, type DigitImage } from './image.js'
export {
  summarize,
  traceShapes,
  TraceError,
  type LayerSummary,
  type ModelSummary,
  type TraceStep,
} from './insight.js'
export { defaultMnistDir, loadMnist, type LoadMnistOptions, type MnistData } from './mnist.js'
export { type IdxFiles, type LoadDataOptions, type LoadedData, loadData } from './data.js'
export { type FolderData, type FolderOptions, type FolderScan, type SkippedFile, scanFolder } from './folder.js'
export { type DepthRule, type ModelEntry, defaultModel, modelCatalog, modelNames, models } from './catalog.js'
export { Model, createModel } from './model.js'
export { onnxFormat, type OnnxFormat } from './onnx.js'
export {
  BENCH_DEFAULTS,
  FIT_DEFAULTS,
  MAX_COUNT,
  MAX_SEED,
  fitDefaultsFor,
  isOptionError,
  maxBatchSize,
  type BenchDefaults,
  type FitDefaults,
  type OptionError,
} from './options.js'
export { OPTION_SCHEMA, type OptionCommand, type OptionSpec } from './generated/options.js'
export { version } from './package-info.js'
export { renderReport, writeReport } from './report/render.js'
export type { ReportInput, ReportLossWindow, ReportMisclassified } from './report/types.js'
export { train, type TrainOptions, type TrainResult } from './train.js'
export type {
  BatchProgressEvent,
  BenchSettings,
  CompareSettings,
  DataSettings,
  EvaluateSettings,
  ModelSettings,
  PredictSettings,
  CheckpointInfo,
  ClassAccuracy,
  DetailedEvaluation,
  Device,
  EpochProgressEvent,
  EpochRecord,
  EvaluateOptions,
  EvaluationResult,
  DigitPrediction,
  FilePrediction,
  FitOptions,
  FitRecipe,
  FitSettings,
  FolderSettings,
  ImageFit,
  ModelName,
  NoDigitPrediction,
  OptimizerName,
  ScheduleName,
  ModelOptions,
  ParameterInfo,
  PredictFileOptions,
  PredictOptions,
  Prediction,
  ProgressEvent,
  TrainingHistory,
  WindowProgressEvent,
} from './types.js'
