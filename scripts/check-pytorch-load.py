"""Loads a model file written by googlenet-native (`train --save FILE` or
`model.save(FILE)`) into the PyTorch reference model with
`load_state_dict(..., strict=True)`, evaluates it on the 10,000 test images
and compares with the test accuracy recorded in the file's metadata. Needs
PyTorch; not part of CI. Run from the repository root:

  python3 scripts/check-pytorch-load.py model.safetensors [--write-expected OUT]

With --write-expected, PyTorch's logits of the first 16 test images and its
count of correct answers on the first 1,000 go to OUT (safetensors): the
fixture tests/fixtures/cli_model_pytorch_expected.safetensors, against which
a cargo test checks that our logits of the same file are PyTorch's.
"""
import sys

from safetensors.torch import save_file

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from pyref import images, labels, ref

path = sys.argv[1]
expected_out = sys.argv[sys.argv.index('--write-expected') + 1] if '--write-expected' in sys.argv else None
with safe_open(path, framework='pt') as f:
    meta = f.metadata() or {}
net = ref.Net()
net.load_state_dict(load_file(path), strict=True)
net.eval()
with torch.no_grad():
    correct = int((net(images('t10k-images-idx3-ubyte')).argmax(1) == labels('t10k-labels-idx1-ubyte')).sum())
if expected_out:
    with torch.no_grad():
        logits = net(images('t10k-images-idx3-ubyte', 16)).contiguous()
        first = int((net(images('t10k-images-idx3-ubyte', 1000)).argmax(1) == labels('t10k-labels-idx1-ubyte', 1000)).sum())
    save_file({'logits': logits, 'correct': torch.tensor([first], dtype=torch.int64)}, expected_out)
ours = float(meta['test_accuracy']) if 'test_accuracy' in meta else None
print(f'PyTorch {torch.__version__}: {correct}/10000 = {correct / 10000:.4f}; recorded by googlenet-native: {ours}')
sys.exit(0 if ours is None or abs(correct / 10000 - ours) <= 1e-4 else 1)
