/**
 * The messages between the page (`page.ts`) and the engine worker
 * (`engine-worker.ts`), which runs the WebAssembly build of the addon off
 * the page's thread, and those that hand the engine its threads' workers
 * (`engine-threads.ts`, `thread-worker.ts`).
 * @module
 */

/** A model's file and the name that stands for it in messages. */
export interface ModelFile {
  bytes: ArrayBuffer
  name: string
}

/** What the page asks of the engine. */
export type EngineRequest =
  /** Make `file` the model the drawing panel predicts with. */
  | { type: 'load'; file: ModelFile }
  /** Classify the digit in a PNG (the drawing pad), with the loaded model. */
  | { type: 'predict'; id: number; png: ArrayBuffer }
  /**
   * Check a model description file (docs/model-description.md) as
   * `train --model-file` does, and that it takes MNIST's 1×28×28 images:
   * answered by `described` or `description-refused` with the same `id`.
   */
  | { type: 'describe'; id: number; file: File }
  /** Train a fresh model on the first `trainCount` training images. */
  | { type: 'train'; settings: TrainSettings }
  /** Stop training after the current batch. */
  | { type: 'stop' }
  /** Predict with the model trained in the tab from now on. */
  | { type: 'use-trained' }

/** The model a run in the tab trains. */
export type ModelChoice =
  /**
   * A zoo model (one of `ready`'s `models`). `depth`: the depth field as
   * typed, for a model that takes one, read as the CLI reads `--depth`;
   * left out, the model's default.
   */
  | { kind: 'zoo'; name: string; depth?: string }
  /** A description of one's own: its canonical JSON, from `described`, and the file it came from. */
  | { kind: 'description'; json: string; fileName: string }

/** What a training run in the tab uses. */
export interface TrainSettings {
  model: ModelChoice
  trainCount: number
  testCount: number
  epochs: number
  batchSize: number
  /** `sgd`, `adam` or `adamw`. */
  optimizer: string
  lr: number
  seed: number
}

/** A model the tab can train. */
export interface ZooModel {
  name: string
  about: string
  /** The depths it takes (the core catalog's rule); null for a model of fixed depth. */
  depth: { min: number; max: number; default: number } | null
}

/** A description the engine checked and the tab can train. */
export interface OwnModel {
  /** The description in canonical form, what a run's {@link ModelChoice} sends back. */
  json: string
  /** Its `name`, which the trained file and its download are called by. */
  name: string
  params: number
  /** Its class scores (MNIST needs at least 10: a run checks that on the data). */
  classes: number
  fileName: string
}

/** The three likeliest labels. */
export interface TopPrediction {
  label: number
  probability: number
}

/** What the engine tells the page. */
export type EngineReply =
  /**
   * `models`: the zoo's models that take MNIST's 1×28×28 images;
   * `defaultModel`: the one selected first, the core catalog's default.
   */
  | { type: 'ready'; threads: number; models: ZooModel[]; defaultModel: string }
  | { type: 'loaded'; name: string; model: string; params: number; testAccuracy: number | null; epochs: number }
  | { type: 'prediction'; id: number; top: TopPrediction[] }
  /** The pad holds no digit (blank, a speck): nothing is classified. */
  | { type: 'no-digit'; id: number; reason: string }
  | { type: 'described'; id: number; model: OwnModel }
  /** The core's refusal of a description file, naming the file and the JSON path at fault. */
  | { type: 'description-refused'; id: number; message: string }
  /** A run refused before training: the setting at fault, and the message of the API and the CLI. */
  | { type: 'refused'; field: 'depth' | 'description'; message: string }
  | { type: 'data'; trainCount: number; testCount: number }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; imagesPerSecond: number }
  | { type: 'epoch'; epoch: number; loss: number; testAccuracy: number; testLoss: number; seconds: number }
  /** Training ended (all epochs, or stopped); `file` is the model as a safetensors file. */
  | { type: 'trained'; stopped: boolean; epochs: number; testAccuracy: number | null; file: ArrayBuffer }
  | { type: 'error'; during: EngineRequest['type'] | 'start'; message: string }
  /** Before it loads: create `count` thread workers and send their ports ({@link ThreadPorts}). */
  | { type: 'need-threads'; count: number }
  /** The engine is done with the thread worker behind port `index`: terminate it. */
  | { type: 'end-thread'; index: number }

/**
 * The page's answer to `need-threads`: one port to each thread worker it
 * created, in order. Sent before the engine loads, so never an
 * {@link EngineRequest}.
 */
export interface ThreadPorts {
  type: 'threads'
  ports: MessagePort[]
}

/** What the page sends a thread worker first: its end of the engine's port. */
export interface ThreadPortMessage {
  threadPort: MessagePort
}

/** What a thread worker sends over its port when it fails: the engine reports it as the worker's error. */
export interface ThreadErrorMessage {
  threadError: string
}
