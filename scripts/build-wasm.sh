#!/usr/bin/env bash
# Builds the addon for WebAssembly (wasm32-wasip1-threads), the fallback of
# platforms with no native binary and the engine of a browser tab:
#
#   npm run build:wasm
#
# writes googlenet-native.wasm32-wasi.wasm and napi-rs's loaders beside
# index.js (googlenet-native.wasi.cjs and wasi-worker.mjs for Node.js,
# googlenet-native.wasi-browser.js and wasi-worker-browser.mjs for
# browsers), then bundles the page of `serve` into dist-web/ (npm run
# build:web). NAPI_RS_FORCE_WASI=error makes Node load it instead of the
# native addon. Installs the Rust target if missing (rustup).
set -euo pipefail
cd "$(dirname "$0")/.."

target=wasm32-wasip1-threads
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
# simd128: 128-bit vectors, which every browser and Node 16+ run; the
# engine's portable kernels (plain 8-float arrays) vectorize to them.
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+simd128"
npx napi build --release --platform --target "$target" \
  --manifest-path crates/googlenet-node/Cargo.toml --package-json-path package.json \
  --output-dir . --esm --js index.js --dts index.d.ts
# The page of `serve` bundles the browser loader just generated.
npm run build:web
