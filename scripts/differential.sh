#!/usr/bin/env bash
# The differential test, longer than CI runs it: random model descriptions
# checked engine against candle (logits, a batch against its images one at
# a time, one training step's gradients) and against ONNX Runtime (their
# ONNX export), on the same seeded generator as `npm test`.
#
#   npm run differential -- [--cases N] [--seed S]
#
# Defaults: 20,000 cases, seed 1. A failure names the case, the seed and
# the description's JSON (which `train --model-file` reads). Needs the
# addon and dist/ built (npm install) for the ONNX leg.
set -euo pipefail
cd "$(dirname "$0")/.."

cases=20000
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) cases="${2:?--cases needs a number}"; shift 2 ;;
    --seed) seed="${2:?--seed needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "differential: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$cases" =~ ^[1-9][0-9]*$ ]] || { echo "differential: --cases must be a whole number ≥ 1 (got '$cases')" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "differential: --seed must be a whole number (got '$seed')" >&2; exit 2; }

dir="$(mktemp -d -t googlenet-differential-XXXXXX)"
trap 'rm -rf "$dir"' EXIT
echo "== engine against candle: $cases descriptions, seed $seed"
DIFFERENTIAL_CASES="$cases" DIFFERENTIAL_SEED="$seed" DIFFERENTIAL_ONNX_DIR="$dir" \
  cargo test --release --target x86_64-unknown-linux-gnu -p googlenet-core --test suite -- differential:: --nocapture
echo "== ONNX Runtime against candle: the same descriptions' exports"
DIFFERENTIAL_ONNX_DIR="$dir" npx vitest run --project native test/differential-onnx.test.ts
