#!/usr/bin/env bash
# Regenerates crates/googlenet-core/src/onnx/proto.rs, the prost types of
# the vendored ONNX schema (crates/googlenet-core/proto/onnx.proto, from the
# onnx package on PyPI). Not part of the build: the output is committed, so
# the package builds without protoc or this generator. Run it after
# replacing onnx.proto, and commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --manifest-path scripts/onnx-proto/Cargo.toml -- \
  crates/googlenet-core/proto/onnx.proto crates/googlenet-core/src/onnx/proto.rs
rustfmt --edition 2021 crates/googlenet-core/src/onnx/proto.rs
echo "wrote crates/googlenet-core/src/onnx/proto.rs"
