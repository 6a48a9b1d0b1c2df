/**
 * The nodes of a model description: the JSON format of
 * `docs/model-description.md` (version 1), as TypeScript types.
 *
 * These types only give the format its shape. Every rule (ranges, defaults,
 * names, shapes, limits) is the Rust core's: it checks a description when a
 * model is built from it and names the offending place by its JSON path.
 * @module
 */

/**
 * A 2-D convolution: PyTorch's `Conv2d`, square kernel, with a bias.
 * Parameters `<name>.weight` (out × in × kernel × kernel) and `<name>.bias`;
 * the input channels come from the shape that reaches it.
 */
export interface Conv2dStep {
  /** Always `'conv2d'`. */
  readonly type: 'conv2d'
  /** PyTorch's module name, e.g. `'conv1'`. Required by the core (a layer with parameters); the builder sets it from a key. */
  readonly name?: string
  /** Output channels (filters): 1–4096. */
  readonly outChannels: number
  /** Kernel height and width: 1–15. */
  readonly kernel: number
  /** Step between windows: 1–15. Default 1. */
  readonly stride?: number
  /** Zeros added on every side: 0 to `kernel` − 1. Default 0. */
  readonly padding?: number
}

/**
 * A fully connected layer: PyTorch's `Linear`, with a bias. Parameters
 * `<name>.weight` (out × in) and `<name>.bias`; the input features come from
 * the shape that reaches it (a vector: put {@link FlattenStep} or
 * {@link GlobalAvgPoolStep} before it).
 */
export interface LinearStep {
  /** Always `'linear'`. */
  readonly type: 'linear'
  /** PyTorch's module name, e.g. `'fc'`. Required by the core (a layer with parameters); the builder sets it from a key. */
  readonly name?: string
  /** Output features: 1–65536 (10 for the last layer of an MNIST classifier). */
  readonly outFeatures: number
}

/**
 * Batch normalization over channels: PyTorch's `BatchNorm2d` (momentum 0.1,
 * eps 1e-5). Parameters `<name>.weight` (γ, starts at 1) and `<name>.bias`
 * (β, starts at 0); buffers `<name>.running_mean` and `<name>.running_var`.
 */
export interface BatchNormStep {
  /** Always `'batchNorm'`. */
  readonly type: 'batchNorm'
  /** PyTorch's module name, e.g. `'bn1'`. Required by the core (a layer with parameters); the builder sets it from a key. */
  readonly name?: string
}

/** max(0, x), element by element. No parameters. */
export interface ReluStep {
  /** Always `'relu'`. */
  readonly type: 'relu'
  /** Optional: shows the step's output under this name in summaries and traces. */
  readonly name?: string
}

/** The maximum over each window (no padding). No parameters. */
export interface MaxPoolStep {
  /** Always `'maxPool'`. */
  readonly type: 'maxPool'
  /** Optional, e.g. `'pool1'`: shows the step's output under this name in summaries and traces. */
  readonly name?: string
  /** Window height and width: 1–15. */
  readonly kernel: number
  /** Step between windows: 1–15. Default `kernel`. */
  readonly stride?: number
}

/**
 * The mean over each window; zero padding counts in the divisor (PyTorch's
 * default). No parameters. With padding, the core supports only kernel 3,
 * stride 1, padding 1 (the Inception module's pool branch).
 */
export interface AvgPoolStep {
  /** Always `'avgPool'`. */
  readonly type: 'avgPool'
  /** Optional: shows the step's output under this name in summaries and traces. */
  readonly name?: string
  /** Window height and width: 1–15. */
  readonly kernel: number
  /** Step between windows: 1–15. Default `kernel`. */
  readonly stride?: number
  /** Zeros added on every side: 0 to `kernel` / 2. Default 0. */
  readonly padding?: number
}

/** C × H × W to C features: each channel's mean. No parameters. */
export interface GlobalAvgPoolStep {
  /** Always `'globalAvgPool'`. */
  readonly type: 'globalAvgPool'
  /** Optional: shows the step's output under this name in summaries and traces. */
  readonly name?: string
}

/** C × H × W to C·H·W features, channel by channel (PyTorch's `view(n, -1)`). No parameters. */
export interface FlattenStep {
  /** Always `'flatten'`. */
  readonly type: 'flatten'
  /** Optional, e.g. `'flatten'`: shows the step's output under this name in summaries and traces. */
  readonly name?: string
}

/**
 * A named sequence: each step reads the one before. An unnamed sequence is
 * written as a plain array (the builder always does so); the object form
 * exists for the name, which adds a level to the names inside it
 * (`layer1` holding `conv1` gives `layer1.conv1.weight`).
 */
export interface SequentialStep {
  /** Always `'sequential'`. */
  readonly type: 'sequential'
  /** Optional: the prefix of every name inside (`layer1`, `layer1.0`). Without a name the sequence adds no level. */
  readonly name?: string
  /** The steps, in order; at least one. */
  readonly steps: readonly Step[]
}

/**
 * Every branch reads the same input; their outputs are stacked along the
 * channels, in order (they must have the same height and width). The
 * Inception module.
 */
export interface ConcatStep {
  /** Always `'concat'`. */
  readonly type: 'concat'
  /**
   * Optional: the prefix of every name inside (`incep1` holding a branch conv
   * `branch1x1` gives `incep1.branch1x1.weight`), and the name its output
   * shows under. Without a name it adds no level.
   */
  readonly name?: string
  /** The branches, at least 2; each a step (an array for a branch of several steps). Branches add no level of names. */
  readonly branches: readonly Step[]
}

/** body(x) + shortcut(x): a residual unit. Both outputs must have one shape. */
export interface ResidualStep {
  /** Always `'residual'`. */
  readonly type: 'residual'
  /** Optional: the prefix of every name inside (`layer1.0`). Without a name it adds no level. */
  readonly name?: string
  /** The residual branch. Its parameters are drawn before the shortcut's. */
  readonly body: Step
  /** The shortcut branch (e.g. a strided 1 × 1 convolution and batch norm). Default: the identity. */
  readonly shortcut?: Step
}

/** A step with no steps inside: a layer, pool, activation or reshape. */
export type LayerStep =
  | Conv2dStep
  | LinearStep
  | BatchNormStep
  | ReluStep
  | MaxPoolStep
  | AvgPoolStep
  | GlobalAvgPoolStep
  | FlattenStep

/** A step made of steps. */
export type CombinatorStep = SequentialStep | ConcatStep | ResidualStep

/**
 * One node of a description: a layer, a combinator, or an array, which is a
 * sequence (the same as an unnamed {@link SequentialStep}).
 */
export type Step = LayerStep | CombinatorStep | readonly Step[]

/** The `type` of every step object. */
export type StepType = Exclude<Step, readonly Step[]>['type']

/**
 * A whole model description, the JSON document that `train({ model })`,
 * `npx googlenet-native train --model-file` and a saved model's metadata
 * hold. Build one with {@link network}.
 */
export interface ModelDescription {
  /** Always `'googlenet-native/model'`. */
  readonly format: 'googlenet-native/model'
  /** The format's version: always `1`. */
  readonly version: 1
  /** What the model is called in summaries, files and progress: 1–64 characters of `A–Z a–z 0–9 _ - .`. */
  readonly name: string
  /** The images it takes: `[channels, height, width]` (channels 1–64, height and width 1–1024). MNIST's is `[1, 28, 28]`. */
  readonly input: readonly [channels: number, height: number, width: number]
  /**
   * The network: a step, usually an array (a sequence). The last step's
   * output must be a vector, whose length is the number of classes.
   */
  readonly layers: Step
}
