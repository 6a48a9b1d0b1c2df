"""Writes crates/googlenet-core/tests/fixtures/pytorch_gradients.safetensors:
the PyTorch reference model's initial weights (torch.manual_seed(0)), and its
loss and gradients on the first 8 MNIST training images. The Rust test loads
the weights into our model and checks loss and every gradient against these,
so CI needs no PyTorch. Run from the repository root after `npm install`:

  pip install torch safetensors numpy
  python3 scripts/make-gradient-fixture.py
"""
import os

import torch
from safetensors.torch import save_file

from pyref import FIXTURES, images, labels, ref

OUT = os.path.join(FIXTURES, 'pytorch_gradients.safetensors')

torch.manual_seed(0)
net = ref.Net()
weights = {f'param.{k}': v.detach().clone() for k, v in net.state_dict().items()}
loss = torch.nn.functional.cross_entropy(net(images('train-images-idx3-ubyte', 8)), labels('train-labels-idx1-ubyte', 8))
loss.backward()
grads = {f'grad.{k}': p.grad.detach().clone() for k, p in net.named_parameters()}
save_file({**weights, **grads, 'loss': loss.detach().reshape(1)}, OUT)
print(f'wrote {OUT}: loss {loss.item():.6f}, torch {torch.__version__}')
