#!/usr/bin/env bash
# Builds the CPU addon for an npm binary package against glibc 2.17, so
# it loads on older Linux distributions than the machine that builds it
# (a plain build here needs glibc 2.34). cargo-zigbuild links with zig's
# glibc stubs of the requested version; both come from PyPI wheels into
# .zig/ (no system packages).
#
#   bash scripts/build-portable.sh [x64|arm64]     (x64 when left out)
#
# x64 (`npm run build:portable`): npm/linux-x64-gnu/googlenet-native.linux-x64-gnu.node,
# in target/portable. About 6 minutes on 2 cores.
# arm64 (`npm run build:portable:arm64`): cross-built for aarch64 (zig is
# the C compiler and linker too), npm/linux-arm64-gnu/googlenet-native.linux-arm64-gnu.node,
# in target/portable-arm64, so it never waits on the other target dirs'
# build lock. The kernels there are the portable ones (Isa::Baseline, no
# NEON code of our own; candle's own aarch64 code is in). About 7 minutes on 2 cores.
# `npm run pack:all` packs each one that was built.
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=${1:-x64}
case "$ARCH" in
  x64) TRIPLE=x86_64-unknown-linux-gnu; TARGET_DIR=target/portable ;;
  arm64) TRIPLE=aarch64-unknown-linux-gnu; TARGET_DIR=target/portable-arm64 ;;
  *) echo "usage: $0 [x64|arm64]" >&2; exit 2 ;;
esac
PLATFORM=linux-$ARCH-gnu

GLIBC=2.17
if [ ! -x .zig/bin/cargo-zigbuild ]; then
  python3 -m venv .zig
  .zig/bin/pip install --quiet ziglang==0.17.0 cargo-zigbuild==0.24.0
fi
if ! rustup target list --installed | grep -qx "$TRIPLE"; then
  rustup target add "$TRIPLE"
fi
PATH="$PWD/.zig/bin:$PATH" CARGO_TARGET_DIR=$TARGET_DIR \
  cargo zigbuild --release --target "$TRIPLE.$GLIBC" -p googlenet-node
cp "$TARGET_DIR/$TRIPLE/release/libgooglenet_node.so" "npm/$PLATFORM/googlenet-native.$PLATFORM.node"
echo "built npm/$PLATFORM/googlenet-native.$PLATFORM.node (glibc >= $GLIBC)"
