"""The fixture of tests/suite/colour_parity.rs: a zoo model made for colour
images (resnet-original, 3×32×32, 10 classes; its PyTorch twin from
scripts/pytorch_zoo_shapes.py) and one SGD step of the reference recipe
(lr 0.01, momentum 0.5, batch norm in training) on 16 seeded random colour
images, normalized per channel. The file holds the inputs, the initial
parameters and buffers, the loss and the parameters and buffers after the
step, so the test checks the whole colour path (planar channels, the
per-channel normalization, a 3-channel first convolution, the step) against
PyTorch. Run from the repository root (needs torch, numpy, safetensors):

  python3 scripts/make-colour-parity-fixture.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_zoo_shapes import build_for  # noqa: E402

OUT = 'crates/googlenet-core/tests/fixtures/colour_parity.safetensors'
SHAPE = (3, 32, 32)
COUNT = 16
# Per-channel statistics, as a model made for colour data keeps them.
MEAN = [0.4976, 0.5159, 0.518]
STD = [0.2669, 0.2849, 0.2922]


def main():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(COUNT, *SHAPE), dtype=np.uint8)
    labels = rng.integers(0, 10, size=COUNT).astype(np.int64)
    net = build_for('resnet-original', *SHAPE, classes=10, depth=1)
    before = {k: v.clone() for k, v in net.state_dict().items() if v.dtype.is_floating_point}
    x = (torch.tensor(images, dtype=torch.float32) / 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    loss = F.cross_entropy(net(x), torch.tensor(labels))
    loss.backward()
    opt.step()
    after = {k: v.clone() for k, v in net.state_dict().items() if v.dtype.is_floating_point}
    tensors = {'images': torch.tensor(images), 'labels': torch.tensor(labels), 'loss': loss.detach().reshape(1),
               'mean': torch.tensor(MEAN), 'std': torch.tensor(STD)}
    tensors.update({f'before.{k}': v.contiguous() for k, v in before.items()})
    tensors.update({f'after.{k}': v.contiguous() for k, v in after.items()})
    save_file(tensors, OUT, metadata={'torch': torch.__version__, 'script': 'scripts/make-colour-parity-fixture.py'})
    print(f'wrote {OUT}: loss {loss.item():.6f}')


if __name__ == '__main__':
    main()
