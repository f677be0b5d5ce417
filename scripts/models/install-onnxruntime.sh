#!/usr/bin/env bash
# Installs the ONNX Runtime shared library from the `onnxruntime` wheel on PyPI and prints
# the absolute path of libonnxruntime.so.* on stdout (and nothing else there), so that
#   export ORT_DYLIB_PATH=$(bash scripts/models/install-onnxruntime.sh)
# works in CI. Target folder: $1, else $GERBANG_ORT_DIR, else ~/.cache/gerbang/onnxruntime.
set -euo pipefail
VERSION="${ORT_VERSION:-1.31.1}"
DEST="${1:-${GERBANG_ORT_DIR:-$HOME/.cache/gerbang/onnxruntime-$VERSION}}"
PY="${PYTHON:-python3}"

find_lib() {
    { find "$DEST" -path '*onnxruntime/capi/libonnxruntime.so.*' -type f 2>/dev/null || true; } | sort | head -n 1
}

lib="$(find_lib)"
if [ -z "$lib" ]; then
    mkdir -p "$DEST"
    # --no-deps: only the shared library is needed, not numpy or the Python bindings' deps.
    "$PY" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$DEST" \
        "onnxruntime==$VERSION" >&2
    lib="$(find_lib)"
fi
if [ -z "$lib" ]; then
    echo "install-onnxruntime: libonnxruntime.so.* not found under $DEST" >&2
    exit 1
fi
readlink -f "$lib"
