"""PyTorch twins of every model in googlenet-native's zoo (MODEL_NAMES in
crates/googlenet-core/src/model/mod.rs), for parity fixtures and side-by-side
benchmarks. Each twin computes what ours computes, with the same parameter
names in the same order (named_parameters / state_dict), so weights, buffers
and gradients line up one to one. Import from a script in this folder:

  from pytorch_zoo import build
  net = build('resnet-full-preact', depth=2)
"""
import torch
from torch import nn
import torch.nn.functional as F

from pyref import ref

# Steps of a residual unit in He et al. 2016, Fig. 4 (UnitDesign::steps in resnet.rs).
STEPS = {
    'original': ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'add', 'relu'],
    'bn-after-add': ['conv1', 'bn1', 'relu', 'conv2', 'add', 'bn2', 'relu'],
    'relu-before-add': ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu', 'add'],
    'relu-only-preact': ['relu', 'conv1', 'bn1', 'relu', 'conv2', 'bn2', 'add'],
    'full-preact': ['bn1', 'relu', 'conv1', 'bn2', 'relu', 'conv2', 'add'],
}
# Pre-activation designs leave the last unit unactivated; the net adds what they skip.
PREACT = ('relu-only-preact', 'full-preact')

NAMES = ['googlenet', 'lenet5', 'residual', 'resnet'] + [f'resnet-{d}' for d in STEPS]
# Models with BatchNorm: their output depends on train() / eval().
BN_MODELS = ['resnet'] + [f'resnet-{d}' for d in STEPS]


class LeNet5(nn.Module):
    """lenet5.rs: max-pool THEN ReLU after each conv, as our Tracer::conv_pool does."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


class ResidualBlock(nn.Module):
    """residual.rs: y = relu(x + conv2(relu(conv1(x)))), 3×3 convs with padding 1."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class ResidualNet(nn.Module):
    """residual.rs / tutorial_net.rs. Registered conv1, conv2, rblock1, rblock2, fc
    (the tutorial's order, hence ours), not in the order they run."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.rblock1 = ResidualBlock(16)
        self.rblock2 = ResidualBlock(32)
        self.fc = nn.Linear(32 * 4 * 4, 10)

    def forward(self, x):
        x = self.rblock1(F.relu(F.max_pool2d(self.conv1(x), 2)))
        x = self.rblock2(F.relu(F.max_pool2d(self.conv2(x), 2)))
        return self.fc(x.flatten(1))


class Unit(nn.Module):
    """resnet.rs Unit: registered conv1, bn1, conv2, bn2, shortcut. Where the
    channels change, conv1 has stride 2 (ours: stride 1, subsampled; the same
    for 3×3 with padding 1) and the shortcut is a 1×1 stride-2 conv of the
    unit's raw input (also in full pre-activation)."""

    def __init__(self, design, c_in, c_out):
        super().__init__()
        self.steps = STEPS[design]
        stride = 1 if c_in == c_out else 2
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1)
        # Full pre-activation normalizes conv1's input, the others its output.
        self.bn1 = nn.BatchNorm2d(c_in if design == 'full-preact' else c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, 2) if c_in != c_out else None

    def forward(self, x):
        shortcut = x if self.shortcut is None else self.shortcut(x)
        y = x
        for step in self.steps:
            y = shortcut + y if step == 'add' else F.relu(y) if step == 'relu' else getattr(self, step)(y)
        return y


class ResNet(nn.Module):
    """resnet.rs ResNet: stem `conv1` (3×3, 1→16) and `bn1` (designs a–c), units
    `layer{stage}.{unit}` at 16, 32, 64 channels, `bn_final` (full-preact),
    global average pool, `fc` 64→10. `depth` is units per stage."""

    def __init__(self, design, depth=1):
        super().__init__()
        if not 1 <= depth <= 16:
            raise ValueError(f'ResNet depth must be 1 to 16 units per stage (got {depth})')
        self.design = design
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1)
        self.bn1 = None if design in PREACT else nn.BatchNorm2d(16)
        c_in = 16
        for stage, c_out in enumerate([16, 32, 64], 1):
            # A Sequential per stage gives the names layer{stage}.{unit}.
            units = []
            for _ in range(depth):
                units.append(Unit(design, c_in, c_out))
                c_in = c_out
            setattr(self, f'layer{stage}', nn.Sequential(*units))
        self.bn_final = nn.BatchNorm2d(64) if design == 'full-preact' else None
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv1(x)
        if self.bn1 is not None:
            x = F.relu(self.bn1(x))
        x = self.layer3(self.layer2(self.layer1(x)))
        if self.bn_final is not None:
            x = self.bn_final(x)
        if self.design in PREACT:
            x = F.relu(x)
        return self.fc(x.mean((2, 3)))


def build(name, depth=1):
    """A freshly initialized twin of our model `name` (torch's global RNG:
    seed it with torch.manual_seed first); `depth` counts for ResNets only."""
    if name == 'resnet':
        name = 'resnet-original'
    if name.startswith('resnet-') and name[len('resnet-'):] in STEPS:
        return ResNet(name[len('resnet-'):], depth)
    if depth != 1:
        raise ValueError(f"model '{name}' has a fixed depth; only the resnet models take one")
    if name == 'googlenet':
        return ref.Net()
    if name == 'lenet5':
        return LeNet5()
    if name == 'residual':
        return ResidualNet()
    raise ValueError(f"unknown model '{name}' (known: {', '.join(NAMES)})")
