#!/usr/bin/env bash
# The dashboard's browser suite needs Debian's Chromium and playwright-core (npm) in
# gerbang/tests/browser. Installs both; gerbang/tests/browser.rs then runs the scenarios.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null; then
  echo "Chromium: installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi
echo "Chromium: $(chromium --version 2>/dev/null | head -n1)"

npm ci --no-audit --no-fund --prefix gerbang/tests/browser
