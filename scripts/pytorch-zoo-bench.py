"""PyTorch's side of `googlenet-native bench` (crates/googlenet-core/src/train/
bench.rs): the PyTorch twin of a zoo model (pytorch_zoo.py) timed the same way.
Batches are taken consecutively from the MNIST training set (wrapping
around); `--warmup` untimed then `--batches` timed training steps (forward,
cross-entropy, backward, SGD lr 0.01 momentum 0.5, batch assembly included);
then eval mode, `--warmup` untimed and `--batches` timed inference batches
(forward and arg-max, under no_grad) on the same batches. The training set
is held normalized as one float tensor, PyTorch's best case (the reference's
--loader tensor). Prints one JSON line. Run from the repository root:

  python3 scripts/pytorch-zoo-bench.py --model resnet-original [--depth 1] [--batches 100]
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import torch
import torch.nn.functional as F

from pyref import DATA, ref
from pytorch_zoo import NAMES, build

ap = argparse.ArgumentParser()
ap.add_argument('--model', required=True, choices=NAMES)
ap.add_argument('--depth', type=int, default=1, help='residual units per stage (resnet models)')
ap.add_argument('--batches', type=int, default=100, help='batches timed, for training and again for inference')
ap.add_argument('--batch-size', type=int, default=64)
ap.add_argument('--warmup', type=int, default=5, help='untimed batches before each measurement')
a = ap.parse_args()

# Normalized in place: pyref.images' chained arithmetic would hold two float
# copies of the 188 MB set at once and inflate the peak RSS reported below.
images = torch.from_numpy(ref.read_idx(os.path.join(DATA, 'train-images-idx3-ubyte')).astype(np.float32)).unsqueeze(1)
images.div_(255.0).sub_(0.1307).div_(0.3081)
labels = torch.from_numpy(ref.read_idx(os.path.join(DATA, 'train-labels-idx1-ubyte')).astype(np.int64))

torch.manual_seed(0)
net = build(a.model, a.depth)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)


def batch(b):
    """Batch b: the images b·size … (b+1)·size − 1, modulo the set's length, copied as ours assembles each batch."""
    idx = torch.arange(b * a.batch_size, (b + 1) * a.batch_size) % len(labels)
    return images[idx], labels[idx]


def train(b):
    x, y = batch(b)
    opt.zero_grad()
    F.cross_entropy(net(x), y).backward()
    opt.step()


def infer(b):
    x, _ = batch(b)
    net(x).argmax(1)


def images_per_sec(step):
    """Warm-up batches 0 … warmup−1, then the timed ones after them, as bench.rs numbers them."""
    for b in range(a.warmup):
        step(b)
    started = time.perf_counter()
    for b in range(a.warmup, a.warmup + a.batches):
        step(b)
    return a.batches * a.batch_size / (time.perf_counter() - started)


net.train()
train_rate = images_per_sec(train)
net.eval()
with torch.no_grad():
    infer_rate = images_per_sec(infer)
print(json.dumps({'model': a.model, 'depth': a.depth, 'batchSize': a.batch_size, 'batches': a.batches,
                  'trainImagesPerSec': train_rate, 'inferImagesPerSec': infer_rate,
                  'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  'torch': torch.__version__, 'threads': torch.get_num_threads()}))
