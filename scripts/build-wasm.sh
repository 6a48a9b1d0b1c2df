#!/usr/bin/env bash
# Builds the addon for WebAssembly (wasm32-wasip1-threads), the fallback of
# platforms with no native binary and the engine of a browser tab:
#
#   npm run build:wasm
#
# writes two modules and napi-rs's loaders beside index.js:
# googlenet-native.wasm32-wasi.wasm (simd128, which every browser and
# Node 16+ run) and googlenet-native.wasm32-wasi.relaxed-simd.wasm (the
# same with relaxed SIMD: its fused multiply-add; Chromium and Node 22+
# run it, Node 20 only with --experimental-wasm-relaxed-simd), and the
# loaders (googlenet-native.wasi.cjs and wasi-worker.mjs for Node.js,
# googlenet-native.wasi-browser.js and wasi-worker-browser.mjs for
# browsers); then bundles the page of `serve` into dist-web/ (npm run
# build:web). Both loaders pick the relaxed module where the engine
# validates relaxed SIMD (see docs/browser.md). NAPI_RS_FORCE_WASI=error
# makes Node load the WebAssembly build instead of the native addon.
# Installs the Rust target if missing (rustup).
set -euo pipefail
cd "$(dirname "$0")/.."

target=wasm32-wasip1-threads
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
# simd128: 128-bit vectors; the engine's kernels run them through its
# WebAssembly vector type (crates/googlenet-core/src/engine/lanes.rs).
flags="${RUSTFLAGS:-} -C target-feature=+simd128"
# `node [NODE FLAGS] napi build [OPTIONS]`: napi build compiles the module
# in this Node to check it.
build() {
  local node_flags=()
  while [ "$1" != -- ]; do node_flags+=("$1"); shift; done
  shift
  node "${node_flags[@]}" node_modules/@napi-rs/cli/dist/cli.js build --release --platform --target "$target" \
    --manifest-path crates/googlenet-node/Cargo.toml --package-json-path package.json --esm "$@"
}
RUSTFLAGS="$flags" build -- --output-dir . --js index.js --dts index.d.ts
# The relaxed-SIMD module, in a target folder of its own: other RUSTFLAGS
# rebuild every crate, and sharing one folder would rebuild both modules
# from scratch every time. Node 20's V8 compiles relaxed SIMD only with
# its flag (later ones may have dropped the flag, having shipped it).
relaxed_node=()
if node --experimental-wasm-relaxed-simd -e '' 2>/dev/null; then relaxed_node=(--experimental-wasm-relaxed-simd); fi
relaxed_out=target/wasm-relaxed-simd/out
rm -rf "$relaxed_out"
RUSTFLAGS="$flags -C target-feature=+relaxed-simd" CARGO_TARGET_DIR=target/wasm-relaxed-simd \
  build "${relaxed_node[@]}" -- --output-dir "$relaxed_out" --no-js
cp "$relaxed_out/googlenet-native.wasm32-wasi.wasm" googlenet-native.wasm32-wasi.relaxed-simd.wasm
# Its twin with function names, as napi build leaves for the simd128 one
# (Node's loader prefers it in a checkout: profiles name the functions).
if [ -f "$relaxed_out/googlenet-native.wasm32-wasi.debug.wasm" ]; then
  cp "$relaxed_out/googlenet-native.wasm32-wasi.debug.wasm" googlenet-native.wasm32-wasi.relaxed-simd.debug.wasm
else
  rm -f googlenet-native.wasm32-wasi.relaxed-simd.debug.wasm
fi
# Node's loader picks between the two (the browser's is bundled with its
# choice, tsup.web.config.ts).
node scripts/wasi-loader-choice.mjs googlenet-native.wasi.cjs
# The page of `serve` bundles the browser loader just generated.
npm run build:web
