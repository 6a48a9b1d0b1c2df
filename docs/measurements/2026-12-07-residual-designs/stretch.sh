#!/usr/bin/env bash
# One stretch of the published experiment (docs/compare.md): the five
# residual units at depth 1, 5 seeds, 10 epochs, on MNIST and on
# Fashion-MNIST (Debian's dataset-fashion-mnist), side by side with one
# engine thread each. Run it again to go on: --resume skips the finished
# runs in the results files beside this script, and continues unfinished
# ones from their checkpoints (kept in $SCRATCH, outside the repository).
#
#   bash docs/measurements/2026-12-07-residual-designs/stretch.sh   # after npm install (which builds dist/)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cli="$here/../../../dist/cli.js"
scratch="${SCRATCH:-/tmp/residual-designs}"
fashion="${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}"
mkdir -p "$scratch"
# One thread per run, as in every stretch so far: a run's figures depend on its threads.
export GOOGLENET_NATIVE_THREADS=1
designs=(compare --models designs --depth 1 --seeds 5 --epochs 10 --resume)
echo "stretch started $(date -u +%FT%TZ)" >> "$here/stretches.log"
node "$cli" "${designs[@]}" --results "$here/mnist.jsonl" --checkpoint-dir "$scratch/ckpt-mnist" \
  > "$scratch/mnist.out" 2> "$scratch/mnist.err" &
node "$cli" "${designs[@]}" --data "$fashion" --results "$here/fashion-mnist.jsonl" --checkpoint-dir "$scratch/ckpt-fashion" \
  > "$scratch/fashion.out" 2> "$scratch/fashion.err" &
wait
echo "stretch ended $(date -u +%FT%TZ)" >> "$here/stretches.log"
