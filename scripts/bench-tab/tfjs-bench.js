// The TensorFlow.js side of scripts/bench-tab.mjs, in the page of this
// folder: the tutorial's GoogLeNet built with tf.layers, trained for one
// epoch on one backend with the recipe the tab uses (Adam, lr 0.001, softmax
// cross-entropy), timed batch by batch. bench-tab.mjs navigates the tab here
// once per backend and calls benchTfjs(settings).
const { tf } = globalThis

/** An IDX file from the bench server: its dimensions and its bytes after the header. */
async function fetchIdx(path) {
  const response = await fetch(path)
  if (!response.ok) throw new Error(`${path}: ${response.status} ${response.statusText}`)
  const bytes = new Uint8Array(await response.arrayBuffer())
  const view = new DataView(bytes.buffer)
  const dims = Array.from({ length: bytes[3] }, (_, d) => view.getUint32(4 + 4 * d))
  return { dims, data: bytes.subarray(4 + 4 * dims.length) }
}

/**
 * The first `count` images of a split as N×28×28×1 (TF.js's layers are
 * channels-last) normalized as ours and the reference normalize MNIST,
 * (x / 255 − 0.1307) / 0.3081, and their labels one-hot.
 */
async function mnist(split, count) {
  const [images, labels] = await Promise.all([fetchIdx(`/mnist/${split}-images?count=${count}`), fetchIdx(`/mnist/${split}-labels?count=${count}`)])
  const [n, height, width] = images.dims
  const pixels = Float32Array.from(images.data, (p) => (p / 255 - 0.1307) / 0.3081)
  return {
    n,
    x: tf.tensor4d(pixels, [n, height, width, 1]),
    labels: Int32Array.from(labels.data),
    y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(Int32Array.from(labels.data), 'int32'), 10), 'float32')),
  }
}

/**
 * scripts/pytorch_reference.py's Net (ours: `googlenet`, 97,298
 * parameters). Weights and biases start as PyTorch's and ours do,
 * U(±1/√fan_in), so the loss follows a comparable path.
 */
function googlenet(seed) {
  let nextSeed = seed
  const uniform = (fanIn) => tf.initializers.randomUniform({ minval: -1 / Math.sqrt(fanIn), maxval: 1 / Math.sqrt(fanIn), seed: nextSeed++ })
  // PyTorch's padding k // 2 at stride 1 is TF's 'same'; no padding is 'valid'.
  const conv = (x, name, filters, kernelSize, padding) => {
    const fanIn = x.shape[3] * kernelSize * kernelSize
    return tf.layers.conv2d({ name, filters, kernelSize, padding, kernelInitializer: uniform(fanIn), biasInitializer: uniform(fanIn) }).apply(x)
  }
  const inception = (x, name) => {
    const b1 = conv(x, `${name}.branch1x1`, 16, 1, 'valid')
    const b5 = conv(conv(x, `${name}.branch5x5_1`, 16, 1, 'valid'), `${name}.branch5x5_2`, 24, 5, 'same')
    const b3 = conv(conv(conv(x, `${name}.branch3x3_1`, 16, 1, 'valid'), `${name}.branch3x3_2`, 24, 3, 'same'), `${name}.branch3x3_3`, 24, 3, 'same')
    // avg_pool2d(3, stride 1, padding 1) counts the zero padding in every
    // window (count_include_pad), as ours does; TF's 'same' pooling would
    // leave it out at the borders. Zeros first, then a 'valid' pool, is PyTorch's.
    const padded = tf.layers.zeroPadding2d({ name: `${name}.pool_pad`, padding: 1 }).apply(x)
    const pooled = tf.layers.averagePooling2d({ name: `${name}.pool`, poolSize: 3, strides: 1, padding: 'valid' }).apply(padded)
    const bp = conv(pooled, `${name}.branch_pool`, 24, 1, 'valid')
    return tf.layers.concatenate({ name: `${name}.cat`, axis: -1 }).apply([b1, b5, b3, bp])
  }
  // Max-pool, then ReLU, as the reference's F.relu(self.mp(self.conv(x))).
  const convPoolRelu = (x, name, filters) => {
    const pooled = tf.layers.maxPooling2d({ name: `${name}.pool`, poolSize: 2 }).apply(conv(x, name, filters, 5, 'valid'))
    return tf.layers.activation({ name: `${name}.relu`, activation: 'relu' }).apply(pooled)
  }
  const input = tf.input({ shape: [28, 28, 1] })
  const incep1 = inception(convPoolRelu(input, 'conv1', 10), 'incep1')
  const incep2 = inception(convPoolRelu(incep1, 'conv2', 20), 'incep2')
  // 4×4×88 = 1408 features, flattened channels-last where PyTorch flattens
  // channels-first: the same linear layer over a permutation of its inputs.
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(incep2)
  const logits = tf.layers.dense({ name: 'fc', units: 10, kernelInitializer: uniform(1408), biasInitializer: uniform(1408) }).apply(flat)
  return tf.model({ inputs: input, outputs: logits, name: 'googlenet' })
}

/** A permutation of 0..n−1 from a seeded generator (mulberry32), so that every run shuffles alike. */
function shuffled(n, seed) {
  let state = seed >>> 0
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  const order = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}

/**
 * Makes `name` the backend, or throws why not. tf.setBackend answers false
 * and puts the reason on console.warn, so that is where it is read from.
 */
async function useBackend(name, threads) {
  if (name === 'wasm') {
    tf.wasm.setWasmPaths('/tfjs-wasm/')
    tf.wasm.setThreadsCount(threads)
  }
  const warnings = []
  const warn = console.warn
  console.warn = (...args) => warnings.push(args.map(String).join(' '))
  let ready
  try {
    ready = await tf.setBackend(name)
  } finally {
    console.warn = warn
  }
  if (!ready) throw new Error(warnings.join('\n') || `tf.setBackend('${name}') failed`)
  await tf.ready()
}

/** What the backend runs on: the wasm binary and its threads, webgl's renderer. */
async function backendDetails(name) {
  if (name === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
    const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')
    return { binary: threaded && simd ? 'threaded-simd' : simd ? 'simd' : 'plain', threads: tf.wasm.getThreadsCount(), crossOriginIsolated }
  }
  if (name === 'webgl') {
    const { gl } = tf.backend().gpgpu
    const info = gl.getExtension('WEBGL_debug_renderer_info')
    return { webglVersion: tf.env().get('WEBGL_VERSION'), renderer: gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER), float32: tf.env().get('WEBGL_RENDER_FLOAT32_ENABLED') }
  }
  return { threads: 1 }
}

/** Share of `data.n` images classified right, in forward passes of 256. */
function accuracy(model, data) {
  let correct = 0
  for (let start = 0; start < data.n; start += 256) {
    const size = Math.min(256, data.n - start)
    const predicted = tf.tidy(() => tf.argMax(model.predict(tf.slice(data.x, [start, 0, 0, 0], [size, -1, -1, -1])), -1).dataSync())
    for (let i = 0; i < size; i++) if (predicted[i] === data.labels[start + i]) correct++
  }
  return correct / data.n
}

/**
 * One epoch of googlenet on `backend`, on the first `images` training
 * images in batches of `batchSize`, then its accuracy on the first
 * `testImages` test images. Resolves to the timings, or to { ok: false,
 * stage, error } when the backend does not load ('load') or a step fails,
 * e.g. for want of a gradient kernel ('train'), with what did load.
 *
 * seconds runs from the first batch to the end of the last (what ours
 * reports as an epoch); steadyImagesPerSec leaves out the first
 * `warmupBatches`, where TF.js compiles its shaders and kernels. Every batch
 * is awaited to its loss, so the clock stops at work done, not queued.
 * Past `maxSeconds` of steady batches (0: no limit) the run stops after the
 * batch at hand: a slow backend is timed on fewer of the same images, in
 * the same order, and is not tested (a part of an epoch is not comparable).
 */
globalThis.benchTfjs = async ({ backend, images, testImages, batchSize, lr, warmupBatches, maxSeconds, seed }) => {
  let stage = 'load'
  let details = {}
  try {
    await useBackend(backend, navigator.hardwareConcurrency)
    details = await backendDetails(backend)
    const [train, test] = await Promise.all([mnist('train', images), mnist('test', testImages)])
    const model = googlenet(seed)
    details.params = model.countParams()
    // PyTorch's Adam defaults, which ours and the tab use (TF.js's own ε is 1e-7).
    model.compile({ optimizer: tf.train.adam(lr, 0.9, 0.999, 1e-8), loss: (labels, logits) => tf.losses.softmaxCrossEntropy(labels, logits) })
    stage = 'train'
    const order = shuffled(train.n, seed)
    const batchesPerEpoch = Math.ceil(train.n / batchSize)
    const ends = []
    let lossSum = 0
    let imagesTrained = 0
    const start = performance.now()
    for (let b = 0; b < batchesPerEpoch; b++) {
      const indices = tf.tensor1d(order.subarray(b * batchSize, (b + 1) * batchSize), 'int32')
      const [x, y] = [tf.gather(train.x, indices), tf.gather(train.y, indices)]
      lossSum += await model.trainOnBatch(x, y)
      imagesTrained += indices.size
      tf.dispose([indices, x, y])
      ends.push(performance.now())
      console.log(`${backend}: batch ${b + 1} of ${batchesPerEpoch}, ${((imagesTrained * 1000) / (ends[b] - start)).toFixed(1)} images/s so far`)
      if (maxSeconds > 0 && b >= warmupBatches && ends[b] - ends[warmupBatches - 1] >= maxSeconds * 1000) break
    }
    const batches = ends.length
    const seconds = (ends.at(-1) - start) / 1000
    stage = 'test'
    return {
      ok: true,
      tfjs: tf.version.tfjs,
      ...details,
      batches,
      batchesPerEpoch,
      seconds,
      imagesPerSec: imagesTrained / seconds,
      steadyImagesPerSec: (imagesTrained - warmupBatches * batchSize) / ((ends.at(-1) - ends[warmupBatches - 1]) / 1000),
      meanLoss: lossSum / batches,
      testAccuracy: batches === batchesPerEpoch ? accuracy(model, test) : null,
    }
  } catch (error) {
    return { ok: false, tfjs: tf.version.tfjs, ...details, stage, error: error instanceof Error ? error.message : String(error) }
  }
}
