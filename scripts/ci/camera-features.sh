#!/usr/bin/env bash
# The real camera backends of `hal` compile: `nokhwa` (USB/V4L2; bindgen needs libclang) and
# `opencv` (RTSP and video files; libopencv-dev, clang, libclang-dev), each alone and both
# together (edge-daemon's `nokhwa` and `opencv` features forward to these).
# Installs the Debian -dev packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

PACKAGES=(libopencv-dev clang libclang-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "camera features: installing ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

start=$(date +%s)
for features in nokhwa opencv nokhwa,opencv; do
  echo "camera features: cargo check -p hal --features $features"
  cargo check --quiet -p hal --features "$features"
done
echo "camera features: all compile ($(($(date +%s) - start)) s)"
