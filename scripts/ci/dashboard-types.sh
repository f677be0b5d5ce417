#!/usr/bin/env bash
# Type-checks the dashboard's ES modules (`// @ts-check` with JSDoc types): the shell's core
# in cloud-api/src/dashboard/assets and every domain's cloud-api/domains/*/dashboard.js.
# TypeScript (npm, pinned in cloud-api/src/dashboard/package-lock.json) only checks: nothing
# is built, the browser loads the files as they are. Fails on any type error.
set -euo pipefail
cd "$(dirname "$0")/../.."

npm ci --no-audit --no-fund --prefix cloud-api/src/dashboard
cd cloud-api/src/dashboard
npx --no-install tsc --version
npx --no-install tsc --noEmit -p tsconfig.json
echo "dashboard types: ok"
