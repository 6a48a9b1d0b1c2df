"""The ResNet family of googlenet-native (README, "Models") in PyTorch, to
compare the five unit designs of He et al. 2016 (Fig. 4) under the
reference recipe: batch 64, SGD lr 0.01, momentum 0.5, seed 0, test
accuracy after each epoch. One JSON line per design. Needs PyTorch; not
part of CI. Run from the repository root after `npm install`:

  python3 scripts/pytorch-resnet-designs.py [EPOCHS] [DESIGN ...]
"""
import json
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

from pyref import images, labels

STEPS = {
    'original': ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'add', 'relu'],
    'bn-after-add': ['conv1', 'bn1', 'relu', 'conv2', 'add', 'bn2', 'relu'],
    'relu-before-add': ['conv1', 'bn1', 'relu', 'conv2', 'bn2', 'relu', 'add'],
    'relu-only-preact': ['relu', 'conv1', 'bn1', 'relu', 'conv2', 'bn2', 'add'],
    'full-preact': ['bn1', 'relu', 'conv1', 'bn2', 'relu', 'conv2', 'add'],
}
PREACT = ('relu-only-preact', 'full-preact')


class Unit(nn.Module):
    def __init__(self, design, c_in, c_out):
        super().__init__()
        self.steps = STEPS[design]
        stride = 1 if c_in == c_out else 2
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1)
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
    def __init__(self, design, depth=1):
        super().__init__()
        self.design = design
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1)
        self.bn1 = None if design in PREACT else nn.BatchNorm2d(16)
        units, c_in = [], 16
        for stage, c_out in enumerate([16, 32, 64]):
            for u in range(depth):
                units.append(Unit(design, c_in, c_out))
                c_in = c_out
        self.units = nn.Sequential(*units)
        self.bn_final = nn.BatchNorm2d(64) if design == 'full-preact' else None
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.conv1(x)
        if self.bn1 is not None:
            x = F.relu(self.bn1(x))
        x = self.units(x)
        if self.bn_final is not None:
            x = self.bn_final(x)
        if self.design in PREACT:
            x = F.relu(x)
        return self.fc(x.mean((2, 3)))


train_x, train_y = images('train-images-idx3-ubyte'), labels('train-labels-idx1-ubyte')
test_x, test_y = images('t10k-images-idx3-ubyte'), labels('t10k-labels-idx1-ubyte')
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
for design in sys.argv[2:] or list(STEPS):
    torch.manual_seed(0)
    net = ResNet(design)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
    accuracy, started = [], time.perf_counter()
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(train_y))
        for i in range(0, len(train_y), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(net(train_x[idx]), train_y[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            accuracy.append(sum(int((net(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum()) for i in range(0, 10000, 1000)) / 10000)
    print(json.dumps({'design': design, 'params': sum(p.numel() for p in net.parameters()), 'accuracy': accuracy,
                      'seconds': round(time.perf_counter() - started, 1), 'torch': torch.__version__}), flush=True)
