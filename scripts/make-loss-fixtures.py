"""Writes the label-smoothing loss fixtures, so the Rust tests need no
PyTorch: crates/googlenet-core/tests/fixtures/label_smoothing/<case>.safetensors.

Each case is a batch of random logits (rows x classes) and labels run
through torch.nn.CrossEntropyLoss(label_smoothing=eps) with the mean over
the batch, as training uses it, and records:

- logits (f32), labels (i64);
- loss (f32, a scalar) and grad (f32, rows x classes): the loss and its
  gradient with respect to the logits, computed by torch in float32;
- loss64 and grad64 (f64): the same computed in float64 from the same
  (f32) logits, the closer reference for the Rust tests' tolerance;

and, in the metadata, label_smoothing (eps) and the torch version. The
shapes are 7x10 and 5x12 with standard normal logits, and 4x10 with logits
of magnitude ~100 (a probability far below f32's smallest normal, where a
log of a softmax would lose everything: only a log-sum-exp keeps it);
eps is 0, 0.1, 0.37 and 1.

Run from the repository root:

  pip install torch safetensors numpy
  python3 scripts/make-loss-fixtures.py
"""
import os

import torch
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), '..', 'crates', 'googlenet-core', 'tests', 'fixtures', 'label_smoothing')
# name: (rows, classes, logit scale)
SHAPES = {'7x10': (7, 10, 1.0), '5x12': (5, 12, 1.0), 'large_4x10': (4, 10, 100.0)}
EPSILONS = [0.0, 0.1, 0.37, 1.0]


def loss_and_grad(logits, labels, eps, dtype):
    x = logits.to(dtype).clone().requires_grad_(True)
    loss = torch.nn.CrossEntropyLoss(label_smoothing=eps)(x, labels)
    loss.backward()
    return loss.detach(), x.grad.detach()


def main():
    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(0)
    count = 0
    for shape, (rows, classes, scale) in SHAPES.items():
        logits = (torch.randn((rows, classes), generator=generator) * scale).to(torch.float32)
        labels = torch.randint(0, classes, (rows,), generator=generator, dtype=torch.int64)
        for eps in EPSILONS:
            loss, grad = loss_and_grad(logits, labels, eps, torch.float32)
            loss64, grad64 = loss_and_grad(logits, labels, eps, torch.float64)
            tensors = {
                'logits': logits.contiguous(),
                'labels': labels.contiguous(),
                'loss': loss.contiguous(),
                'grad': grad.contiguous(),
                'loss64': loss64.contiguous(),
                'grad64': grad64.contiguous(),
            }
            metadata = {'label_smoothing': repr(eps), 'torch': torch.__version__}
            save_file(tensors, os.path.join(OUT, f'{shape}_eps{eps}.safetensors'), metadata=metadata)
            count += 1
    print(f'wrote {count} fixtures to {os.path.normpath(OUT)} with torch {torch.__version__}')


if __name__ == '__main__':
    main()
