"""The ResNet family of googlenet-native (docs/models.md) in PyTorch, to
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
import torch.nn.functional as F

from pyref import images, labels
from pytorch_zoo import STEPS, ResNet

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
