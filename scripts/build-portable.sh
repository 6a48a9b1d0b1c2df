#!/usr/bin/env bash
# Builds the CPU addon for the npm binary package against glibc 2.17, so
# it loads on older Linux distributions than the machine that builds it
# (a plain build here needs glibc 2.34). cargo-zigbuild links with zig's
# glibc stubs of the requested version; both come from PyPI wheels into
# .zig/ (no system packages). The result goes to
# npm/linux-x64-gnu/googlenet-native.linux-x64-gnu.node, which
# `npm run pack:all` prefers to the local build. About 6 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

GLIBC=2.17
if [ ! -x .zig/bin/cargo-zigbuild ]; then
  python3 -m venv .zig
  .zig/bin/pip install --quiet ziglang==0.17.0 cargo-zigbuild==0.24.0
fi
PATH="$PWD/.zig/bin:$PATH" CARGO_TARGET_DIR=target/portable \
  cargo zigbuild --release --target "x86_64-unknown-linux-gnu.$GLIBC" -p googlenet-node
cp target/portable/x86_64-unknown-linux-gnu/release/libgooglenet_node.so npm/linux-x64-gnu/googlenet-native.linux-x64-gnu.node
echo "built npm/linux-x64-gnu/googlenet-native.linux-x64-gnu.node (glibc >= $GLIBC)"
