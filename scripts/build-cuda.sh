#!/usr/bin/env bash
# npm run build:cuda: the CUDA build of the addon, beside the CPU one, as
# googlenet-native.linux-x64-gnu.cuda.node (src/native.ts loads it first and
# falls back to the CPU build where it cannot load). Installs the CUDA 13.0
# build tools from PyPI into .cuda/ on first use; builds into target/cuda
# so the CPU build's artifacts stay as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/cuda-toolkit.sh)"
out=target/cuda/napi
napi build --release --platform --features cuda --target-dir target/cuda \
  --manifest-path crates/googlenet-node/Cargo.toml --package-json-path package.json \
  --output-dir "$out" --no-js --dts index.d.ts
mv "$out/googlenet-native.linux-x64-gnu.node" googlenet-native.linux-x64-gnu.cuda.node
# Same API as the CPU build: the exported declarations must not differ (the
# CPU build's index.d.ts also declares its JS loader's own export).
exports() { grep -E '^export ' "$1" | grep -v __napiBindingTarget; }
diff <(exports "$out/index.d.ts") <(exports index.d.ts) >&2 || { echo "build:cuda: the CUDA build's API differs from index.d.ts" >&2; exit 1; }
echo "built googlenet-native.linux-x64-gnu.cuda.node"
