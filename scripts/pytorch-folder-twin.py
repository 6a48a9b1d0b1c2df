"""The PyTorch twin of training one of googlenet-native's zoo models on a
folder of images (ImageFolder layout: ROOT/train/<class>/<images> and
ROOT/test/<class>/<images>), to compare accuracy and speed with ours. Needs
torch, torchvision, numpy and Pillow; not part of CI.

  - data: torchvision datasets.ImageFolder(ROOT/train) and (ROOT/test) with
    transforms.ToTensor() then transforms.Normalize(mean, std). Classes are
    the sorted folder names (ImageFolder's numbering); the test folder must
    have the same ones. mean and std are per channel over every pixel of the
    training split (after ToTensor, so in 0–1; std is the population one),
    rounded to 4 decimals, and printed.
  - channels: torchvision's default loader makes every image RGB; this twin
    instead keeps greyscale greyscale. --channels auto (default) looks at the
    first training image: modes L, 1, I, I;16, LA → 1 channel ('L'), any
    other → 3 ('RGB'); every image is converted to that. --channels 1 or 3
    forces it. All images must have one size (the model is built for it).
  - model: the zoo twin of scripts/pytorch_zoo.py, built for C×H×W inputs and
    K classes by scripts/pytorch_zoo_shapes.py (build_for), after
    torch.manual_seed(--seed).
  - recipe (scripts/pytorch_reference.py's): SGD lr 0.01, momentum 0.5,
    batch 64, cross-entropy, a fresh shuffle each epoch (DataLoader
    shuffle=True on torch's global RNG, so --seed fixes it), test accuracy
    after each epoch in eval() mode.
  - loading: per epoch through a DataLoader with --workers processes
    (default 0: decode in the training process; PNGs are decoded again each
    epoch, as the tutorial way does). --preload decodes and normalizes every
    image once into one tensor and slices batches from it (with the same
    shuffle), which leaves the PNG decoding out of the epoch times.

Run from the repository root:
  python3 scripts/pytorch-folder-twin.py ROOT --model resnet-original [--depth 1]
      [--epochs 1] [--seed 0] [--threads 2] [--workers 0] [--preload]
      [--channels auto|1|3] [--max-batches N]

Prints JSON lines: first {"stats": …} (classes, shape, mean, std, seconds of
the statistics pass), then one per epoch {"epoch", "train_s", "train_img_s",
"train_cpu_s" (CPU seconds of the process, all
threads: less sensitive than train_s to other work on the machine), "test_s",
"accuracy", "loss" (mean training loss of the epoch), "loadavg" (1-minute
load average at the epoch's end)}, then a final
{"summary": true, …} with every epoch's accuracy and seconds and the
versions, threads and CPU.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset
from torchvision import datasets, transforms
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_zoo import NAMES  # noqa: E402
from pytorch_zoo_shapes import build_for  # noqa: E402
from machine_info import cpu_model, loadavg  # noqa: E402

GREY_MODES = ('L', '1', 'I', 'I;16', 'LA')


def loader_for(mode):
    def load(path):
        with open(path, 'rb') as f:
            return Image.open(f).convert(mode)
    return load


def channel_stats(dataset, workers):
    """Per-channel mean and population std of ToTensor() images, in float64."""
    total = total_sq = None
    count = 0
    for x, _ in DataLoader(dataset, batch_size=512, num_workers=workers):
        x = x.double()
        s, sq = x.sum((0, 2, 3)), (x * x).sum((0, 2, 3))
        total = s if total is None else total + s
        total_sq = sq if total_sq is None else total_sq + sq
        count += x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(0).sqrt()
    return [round(float(v), 4) for v in mean], [round(float(v), 4) for v in std]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('root', help='folder with train/ and test/ in ImageFolder layout')
    ap.add_argument('--model', default='googlenet', choices=NAMES)
    ap.add_argument('--depth', type=int, default=1, help='units per stage (resnet models only)')
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    ap.add_argument('--workers', type=int, default=0, help='DataLoader worker processes (default 0)')
    ap.add_argument('--preload', action='store_true', help='decode every image once, before training')
    ap.add_argument('--channels', default='auto', choices=['auto', '1', '3'])
    ap.add_argument('--max-batches', type=int, default=0, help='stop each epoch after N batches (0 = all)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train_dir, test_dir = os.path.join(a.root, 'train'), os.path.join(a.root, 'test')
    for d in (train_dir, test_dir):
        if not os.path.isdir(d):
            ap.error(f'{d} is not a folder (the twin needs ROOT/train and ROOT/test)')

    # Greyscale or RGB, from the first training image unless told.
    probe = datasets.ImageFolder(train_dir)
    if a.channels == 'auto':
        with Image.open(probe.samples[0][0]) as img:
            mode = 'L' if img.mode in GREY_MODES else 'RGB'
    else:
        mode = 'L' if a.channels == '1' else 'RGB'
    load = loader_for(mode)

    started = time.perf_counter()
    mean, std = channel_stats(datasets.ImageFolder(train_dir, loader=load, transform=transforms.ToTensor()),
                              a.workers)
    stats_s = time.perf_counter() - started
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    train = datasets.ImageFolder(train_dir, loader=load, transform=tf)
    test = datasets.ImageFolder(test_dir, loader=load, transform=tf)
    if test.classes != train.classes:
        sys.exit(f'test classes {test.classes} differ from train classes {train.classes}')
    shape = tuple(train[0][0].shape)
    print(json.dumps({'stats': True, 'root': os.path.abspath(a.root), 'classes': train.classes,
                      'train_images': len(train), 'test_images': len(test), 'shape': shape, 'mode': mode,
                      'mean': mean, 'std': std, 'stats_s': round(stats_s, 2)}), flush=True)

    classes = train.classes
    torch.manual_seed(a.seed)
    net = build_for(a.model, shape[0], shape[1], shape[2], len(classes), a.depth)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    preload_s = None
    if a.preload:
        t0 = time.perf_counter()

        def whole(ds):
            xs, ys = zip(*DataLoader(ds, batch_size=512, num_workers=a.workers))
            return TensorDataset(torch.cat(xs), torch.cat(ys))
        train, test = whole(train), whole(test)
        preload_s = round(time.perf_counter() - t0, 2)
        print(json.dumps({'preload_s': preload_s}), flush=True)
    workers = 0 if a.preload else a.workers
    train_loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=workers,
                              persistent_workers=workers > 0)
    test_loader = DataLoader(test, batch_size=64, shuffle=False, num_workers=workers,
                             persistent_workers=workers > 0)

    epochs = []
    for epoch in range(a.epochs):
        net.train()
        t0, c0 = time.perf_counter(), time.process_time()
        seen, loss_sum = 0, 0.0
        for bi, (x, y) in enumerate(train_loader):
            if a.max_batches and bi >= a.max_batches:
                break
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            seen += y.shape[0]
            loss_sum += loss.item() * y.shape[0]
        train_s, train_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        net.eval()
        t0 = time.perf_counter()
        correct = total = 0
        with torch.no_grad():
            for x, y in test_loader:
                correct += int((net(x).argmax(1) == y).sum())
                total += y.shape[0]
        test_s = time.perf_counter() - t0
        r = {'epoch': epoch + 1, 'train_s': round(train_s, 2), 'train_img_s': round(seen / train_s, 1),
             'train_cpu_s': round(train_cpu_s, 2), 'test_s': round(test_s, 2), 'accuracy': correct / total,
             'loss': round(loss_sum / seen, 4), 'loadavg': loadavg()}
        epochs.append(r)
        print(json.dumps(r), flush=True)
    print(json.dumps({'summary': True, 'model': a.model, 'depth': a.depth, 'seed': a.seed,
                      'root': os.path.abspath(a.root), 'classes': len(classes), 'shape': shape,
                      'mean': mean, 'std': std,
                      'params': sum(p.numel() for p in net.parameters()),
                      'workers': a.workers, 'preload': a.preload, 'preload_s': preload_s,
                      'accuracy': [r['accuracy'] for r in epochs], 'train_s': [r['train_s'] for r in epochs],
                      'train_cpu_s': [r['train_cpu_s'] for r in epochs],
                      'test_s': [r['test_s'] for r in epochs], 'stats_s': round(stats_s, 2),
                      'torch': torch.__version__, 'torchvision': torchvision.__version__,
                      'numpy': np.__version__, 'threads': torch.get_num_threads(),
                      'cpu_capability': torch.backends.cpu.get_cpu_capability(), 'cpu': cpu_model()}),
          flush=True)


if __name__ == '__main__':
    main()
