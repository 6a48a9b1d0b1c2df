"""Writes two fixtures for the checkpoint tests, so CI needs no PyTorch:

- crates/googlenet-core/tests/fixtures/pytorch_state_dict.safetensors: the
  PyTorch reference model after 200 SGD steps of the reference recipe
  (torch.manual_seed(0)), saved exactly as users do:
  safetensors.torch.save_file(model.state_dict(), path).
- .../pytorch_state_dict_expected.safetensors: what PyTorch computes with
  it: the logits of the first 16 test images, and the number of the first
  1,000 test images it classifies correctly.

Run from the repository root after `npm install`:

  pip install torch safetensors numpy
  python3 scripts/make-checkpoint-fixture.py
"""
import os

import torch
from safetensors.torch import save_file

from pyref import FIXTURES, images, labels, ref

torch.manual_seed(0)
net = ref.Net()
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
train_x, train_y = images('train-images-idx3-ubyte', 200 * 64), labels('train-labels-idx1-ubyte', 200 * 64)
for i in range(0, len(train_y), 64):
    opt.zero_grad()
    torch.nn.functional.cross_entropy(net(train_x[i:i + 64]), train_y[i:i + 64]).backward()
    opt.step()
net.eval()
test_x, test_y = images('t10k-images-idx3-ubyte', 1000), labels('t10k-labels-idx1-ubyte', 1000)
with torch.no_grad():
    logits = net(test_x)
correct = int((logits.argmax(1) == test_y).sum())
save_file(net.state_dict(), os.path.join(FIXTURES, 'pytorch_state_dict.safetensors'))
save_file({'logits': logits[:16].contiguous(), 'correct': torch.tensor([correct], dtype=torch.int64)},
          os.path.join(FIXTURES, 'pytorch_state_dict_expected.safetensors'))
print(f'wrote the fixtures: {correct}/1000 correct, torch {torch.__version__}')
