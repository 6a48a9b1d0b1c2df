#!/usr/bin/env bash
# The GPU check, on the GPU machine (see scripts/gpu-check-prepare.sh):
#  1. CUDA against the CPU: every custom op forward and backward, and the
#     whole model's loss and gradients;
#  2. the reference recipe (10 epochs) on the GPU, then inference and
#     training throughput at batch 64;
#  3. the PyTorch reference on the same GPU, --loader tensor and dataloader;
#  4. a summary: accuracy, seconds per epoch and the ratios to PyTorch.
# Writes everything under $OUT (or ./gpu-check-out) and exits non-zero if
# a check fails. Takes a few minutes on an H200.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-gpu-check-out}
epochs=${EPOCHS:-10}
mkdir -p "$out" /tmp/gpu-check/data
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
for f in .gpu-check/data/*.gz; do gunzip -c "$f" >"/tmp/gpu-check/data/$(basename "$f" .gz)"; done
gunzip -c .gpu-check/gpu_check.gz >/tmp/gpu-check/gpu_check && chmod +x /tmp/gpu-check/gpu_check
# The CUDA libraries the binary links (cuBLAS, cuRAND, the runtime) come
# with the machine's PyTorch wheels; the driver's libcuda is on the system.
libs=$(dirname "$(find / -name 'libcublas.so.13' -not -path '/proc/*' 2>/dev/null | head -n 1)")
export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
status=0
/tmp/gpu-check/gpu_check /tmp/gpu-check/data "$epochs" | tee "$out/ours.jsonl" || status=$?
for loader in tensor dataloader; do
  python3 .gpu-check/pytorch_reference.py --data /tmp/gpu-check/data --epochs "$epochs" --loader "$loader" \
    | tee "$out/pytorch-$loader.jsonl"
done
python3 - "$out" <<'PY' | tee "$out/summary.json"
import json, statistics, sys
out = sys.argv[1]
def rows(name):
    return [json.loads(l) for l in open(f"{out}/{name}.jsonl") if l.strip()]
ours = rows("ours")
checks = [r for r in ours if "check" in r]
epochs = [r for r in ours if r.get("type") == "epoch"]
bench = next((r for r in ours if r.get("type") == "bench" and r.get("model", "googlenet") == "googlenet"), {})
summary = {"checks": len(checks), "checksFailed": [r["check"] for r in checks if not r["ok"]],
           "benchByModel": {r["model"]: {k: r[k] for k in ("trainImagesPerSec", "inferImagesPerSec")}
                            for r in ours if r.get("type") == "bench" and "model" in r}}
if epochs:
    summary["ours"] = {"finalAccuracy": epochs[-1]["testAccuracy"],
                       "medianEpochSeconds": statistics.median(r["seconds"] for r in epochs),
                       "inferImagesPerSec": bench.get("inferImagesPerSec"),
                       "trainImagesPerSec": bench.get("trainImagesPerSec")}
for loader in ("tensor", "dataloader"):
    rs = [r for r in rows(f"pytorch-{loader}") if "epoch" in r]
    summary[f"pytorch_{loader}"] = {"finalAccuracy": rs[-1]["accuracy"],
                                    "medianEpochSeconds": statistics.median(r["train_s"] for r in rs),
                                    "medianTestImagesPerSec": statistics.median(r["test_img_s"] for r in rs)}
    if epochs:
        summary[f"epochTimeRatio_ours_over_{loader}"] = summary["ours"]["medianEpochSeconds"] / summary[f"pytorch_{loader}"]["medianEpochSeconds"]
print(json.dumps(summary, indent=1))
PY
exit $status
