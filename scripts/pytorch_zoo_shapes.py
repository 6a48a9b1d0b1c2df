"""The zoo's PyTorch twins (scripts/pytorch_zoo.py, built for 1×28×28 inputs
and 10 classes) for any input shape C×H×W and any number of classes K, as a
folder of images needs. Import from a script in this folder:

  from pytorch_zoo_shapes import build_for
  net = build_for('resnet-original', channels=3, height=32, width=32, classes=10, depth=1)

What changes, and only where the shape asks for it (so build_for(name, 1, 28,
28, 10) is build(name), parameter for parameter and draw for draw of torch's
RNG):
  - the stem `conv1` takes C input channels (same kernel, stride, padding,
    output channels);
  - the first Linear layer takes as many features as reach it from C×H×W
    (googlenet `fc`, residual `fc`, lenet5 `fc1`; a ResNet's `fc` always
    gets 64 after its global average pool);
  - the last Linear layer (`fc`, lenet5 `fc3`) gives K class scores.
Replaced layers are freshly initialized by PyTorch's default init, in
registration order, after the whole zoo model was built; the parameter
names and their order stay those of build(). Everything else (widths,
kernels, pools, units) is the 28×28 design unchanged: an input too small for
it (googlenet and residual need about 16×16 or more) raises ValueError.
"""
import torch
from torch import nn

from pytorch_zoo import build


class _Probe(Exception):
    pass


def _replace(net, name, module):
    parent, _, leaf = name.rpartition('.')
    setattr(net.get_submodule(parent) if parent else net, leaf, module)


def build_for(name, channels=1, height=28, width=28, classes=10, depth=1):
    """A freshly initialized twin of zoo model `name` for channels×height×width
    inputs and `classes` class scores (torch's global RNG: seed it first)."""
    if not 1 <= channels <= 64 or height < 1 or width < 1 or classes < 1:
        raise ValueError(f'bad shape {channels}×{height}×{width}, {classes} classes')
    net = build(name, depth)
    convs = [(n, m) for n, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    linears = [(n, m) for n, m in net.named_modules() if isinstance(m, nn.Linear)]
    stem_name, stem = convs[0]
    if stem.in_channels != channels:
        _replace(net, stem_name, nn.Conv2d(channels, stem.out_channels, stem.kernel_size, stem.stride,
                                           stem.padding, bias=stem.bias is not None))

    # The features reaching the first Linear layer, from a forward pass that stops there.
    first_name, first = linears[0]
    seen = {}

    def hook(_module, inputs):
        seen['features'] = inputs[0].flatten(1).shape[1]
        raise _Probe

    handle = first.register_forward_pre_hook(hook)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(torch.zeros(1, channels, height, width))
    except _Probe:
        pass
    except RuntimeError as e:
        raise ValueError(f"model '{name}' cannot take {channels}×{height}×{width} inputs: {e}") from None
    finally:
        handle.remove()
        net.train(was_training)
    features = seen['features']

    last_name, last = linears[-1]
    if first_name == last_name:
        if first.in_features != features or first.out_features != classes:
            _replace(net, first_name, nn.Linear(features, classes))
        return net
    if first.in_features != features:
        _replace(net, first_name, nn.Linear(features, first.out_features))
    if last.out_features != classes:
        _replace(net, last_name, nn.Linear(last.in_features, classes))
    return net
