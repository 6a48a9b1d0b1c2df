#!/usr/bin/env python3
"""Checks exported ONNX files with the ONNX project's own tools.

For each model in a folder written by scripts/onnx-check-prepare.mjs:
onnx.checker.check_model(full_check=True) (the schema, the opset's operator
definitions and shape inference), then Python's onnxruntime on the saved
test images, fed as the file's metadata says (mean, std), against the
logits googlenet-native computed for them: the largest difference must be
at most 1e-4 and the argmax the same on every image. CI runs it through
test/onnx-python.test.ts, with the versions .ci/run installs.

    python3 -m venv /tmp/onnxvenv && /tmp/onnxvenv/bin/pip install onnx onnxruntime numpy
    node scripts/onnx-check-prepare.mjs /tmp/onnx-check
    /tmp/onnxvenv/bin/python scripts/check-onnx.py /tmp/onnx-check

Exits 0 when every model passes, 1 otherwise.
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime

TOLERANCE = 1e-4


def check(folder: Path, entry: dict, pixels: np.ndarray) -> tuple[bool, str]:
    path = folder / entry["onnx"]
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    opsets = {o.domain: o.version for o in model.opset_import}

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    mean, std = float(meta["mean"]), float(meta["std"])
    labels = json.loads(meta["labels"])
    (images,) = session.get_inputs()
    (logits,) = session.get_outputs()
    if (images.name, logits.name) != ("images", "logits") or images.shape[0] != logits.shape[0]:
        return False, f"input/output {images.name}{images.shape} -> {logits.name}{logits.shape}"

    x = ((pixels.astype(np.float32) / 255.0 - mean) / std)[:, None, :, :]
    (theirs,) = session.run(["logits"], {"images": x})
    ours = np.fromfile(folder / entry["logits"], dtype="<f4").reshape(theirs.shape)
    diff = float(np.abs(theirs - ours).max())
    same = int((theirs.argmax(1) == ours.argmax(1)).sum())
    ok = diff <= TOLERANCE and same == len(ours) and len(labels) == ours.shape[1]
    return ok, (
        f"checker ok, opset {opsets.get('', '?')}, IR {model.ir_version}; "
        f"max |diff| {diff:.2e}, argmax agrees {same}/{len(ours)}, labels {labels[0]}..{labels[-1]}"
    )


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    manifest = json.loads((folder / "manifest.json").read_text())
    count, height, width = manifest["count"], manifest["height"], manifest["width"]
    pixels = np.fromfile(folder / manifest["images"], dtype=np.uint8).reshape(count, height, width)
    print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}; {count} test images")
    failed = 0
    for entry in manifest["models"]:
        try:
            ok, detail = check(folder, entry, pixels)
        except Exception as error:  # a checker or runtime refusal is this model's failure, not the script's
            ok, detail = False, f"{type(error).__name__}: {error}"
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {entry['name']}: {detail}")
    print(f"{len(manifest['models']) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
