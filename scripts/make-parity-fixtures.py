"""Writes crates/googlenet-core/tests/fixtures/parity/{fixture}.safetensors:
for every zoo model (ResNets also at depth 2), the PyTorch twin's initial
weights (torch.manual_seed(0)) and its loss and gradients on the first 8
MNIST training images. The Rust tests load the weights into our model and
check loss, every gradient and the BatchNorm running statistics against
these, so CI needs no PyTorch. Run from the repository root after
`npm install`:

  pip install torch safetensors numpy
  python3 scripts/make-parity-fixtures.py

Tensors (float32, contiguous):
  param.{name}         initial parameters, in named_parameters order
  buffer.{name}        initial running_mean / running_var (BN models only)
  train.loss           [1], cross-entropy (mean) in training mode
  train.grad.{name}    its gradients
  train.buffer.{name}  running statistics after that one forward (BN models)
  eval.loss            [1], evaluation mode with the train.buffer statistics
  eval.grad.{name}     and the initial parameters (BN models only: the others
                       compute the same in both modes)
"""
import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save

from pyref import FIXTURES, images, labels
from pytorch_zoo import BN_MODELS, build

OUT = os.path.join(FIXTURES, 'parity')
# (fixture name, model, depth)
FIXTURES_TO_WRITE = [(name, name, 1) for name in ['googlenet', 'lenet5', 'residual', 'resnet-original', 'resnet-bn-after-add',
                                                  'resnet-relu-before-add', 'resnet-relu-only-preact', 'resnet-full-preact']]
FIXTURES_TO_WRITE += [(f'{name}-depth2', name, 2) for name in ['resnet-full-preact', 'resnet-original']]


def tensor(t):
    # A copy: BN's running statistics change in place on every training forward.
    return t.detach().to(torch.float32).contiguous().clone()


def buffers(net):
    # num_batches_tracked only matters for momentum=None; ours has no such counter.
    return {k: tensor(v) for k, v in net.named_buffers() if not k.endswith('num_batches_tracked')}


def loss_and_grads(net, x, y, prefix):
    """One forward and backward, no optimizer step: the parameters stay the initial ones."""
    net.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    out = {f'{prefix}.grad.{k}': tensor(p.grad) for k, p in net.named_parameters()}
    out[f'{prefix}.loss'] = tensor(loss).reshape(1)
    return loss.item(), out


def write(path, tensors, metadata):
    """save_file, with the JSON header's keys sorted: safetensors writes the
    metadata in hash order, so the bytes would change on every run and
    regenerating the fixtures would always show a diff."""
    blob = save(tensors, metadata)
    n = int.from_bytes(blob[:8], 'little')
    header = json.dumps(json.loads(blob[8:8 + n]), sort_keys=True, separators=(',', ':')).encode()
    header += b' ' * (-len(header) % 8)  # the data stays 8-byte aligned
    with open(path, 'wb') as f:
        f.write(len(header).to_bytes(8, 'little') + header + blob[8 + n:])


def main():
    os.makedirs(OUT, exist_ok=True)
    x, y = images('train-images-idx3-ubyte', 8), labels('train-labels-idx1-ubyte', 8)
    for fixture, name, depth in FIXTURES_TO_WRITE:
        torch.manual_seed(0)
        net = build(name, depth)
        has_bn = name in BN_MODELS
        tensors = {f'param.{k}': tensor(p) for k, p in net.named_parameters()}
        if has_bn:
            tensors.update({f'buffer.{k}': v for k, v in buffers(net).items()})
        net.train()
        train_loss, out = loss_and_grads(net, x, y, 'train')
        tensors.update(out)
        line = f'{fixture}: train loss {train_loss:.6f}'
        if has_bn:
            tensors.update({f'train.buffer.{k}': v for k, v in buffers(net).items()})
            net.eval()
            eval_loss, out = loss_and_grads(net, x, y, 'eval')
            tensors.update(out)
            line += f', eval loss {eval_loss:.6f}'
        path = os.path.join(OUT, f'{fixture}.safetensors')
        write(path, tensors, {'model': name, 'depth': str(depth), 'torch': torch.__version__})
        print(f'{line} ({len(tensors)} tensors, {os.path.getsize(path)} bytes)', flush=True)


if __name__ == '__main__':
    main()
