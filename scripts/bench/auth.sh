#!/usr/bin/env bash
# Auth and read benchmark on loopback with wrk (Debian package `wrk`), release build
# (PROFILE=dev for the test build):
# login (Argon2id on every request), refresh rotation (one session per connection), and an
# authenticated GET /api/door/status. Prints wrk's summary with the latency distribution.
#
#   bash scripts/bench/auth.sh                 # 10 s per run
#   DURATION=30s CONNECTIONS=64 bash scripts/bench/auth.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
SESSIONS=4

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# PROFILE=dev measures the test build instead (dependencies at opt-level 2, this crate not).
PROFILE="${PROFILE:-release}"
# --workspace: the same feature resolution as the other bench and test builds (no second
# dependency build; `-p cloud-api` would resolve features differently).
cargo build --quiet --profile "$PROFILE" --workspace --example serve_for_bench
case "$PROFILE" in dev) OUT=debug ;; *) OUT="$PROFILE" ;; esac
BIN="$CARGO_TARGET_DIR/$OUT/examples/serve_for_bench"

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
WORK="$(mktemp -d)"
GERBANG_BENCH_DOORS=1 RUST_LOG=warn "$BIN" "127.0.0.1:$PORT" "$WORK/refresh.txt" "$SESSIONS" \
  >"$WORK/out.txt" 2>"$WORK/cloud.log" &
CLOUD_PID=$!
trap 'kill -INT $CLOUD_PID 2>/dev/null || true; wait $CLOUD_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  grep -q '^ready on' "$WORK/out.txt" 2>/dev/null && break
  kill -0 "$CLOUD_PID" 2>/dev/null || { cat "$WORK/cloud.log" >&2; exit 1; }
  sleep 0.2
done
ACCESS_TOKEN="$(sed -n 's/^ACCESS_TOKEN=//p' "$WORK/out.txt")"
export ACCESS_TOKEN REFRESH_FILE="$WORK/refresh.txt"
BASE="http://127.0.0.1:$PORT"
LUA=cloud-api/benches/http

echo "== Argon2id parameters: $(sed -n 's/^ARGON2=//p' "$WORK/out.txt")"
echo "== GET /api/door/status (JWT + door status), $CONNECTIONS connections"
curl -fsS -H "Authorization: Bearer $ACCESS_TOKEN" "$BASE/api/door/status" >/dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA/me.lua" "$BASE/api/door/status"
echo "== POST /api/auth/login (Argon2id per request), 4 connections"
wrk -t2 -c4 -d"$DURATION" --latency -s "$LUA/login.lua" "$BASE/api/auth/login"
echo "== POST /api/auth/refresh (rotation), $SESSIONS sessions"
wrk -t"$SESSIONS" -c"$SESSIONS" -d"$DURATION" --latency -s "$LUA/refresh.lua" "$BASE/api/auth/refresh"
