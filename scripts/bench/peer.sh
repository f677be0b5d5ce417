#!/usr/bin/env bash
# Gerbang against the seeds' own stack, in one run on this machine: an authenticated
# GET /api/door/status on PostgreSQL, served by the release `cloud-api` (serve_for_bench) and
# by scripts/bench/peers/express (Express 4 + pg + jsonwebtoken, two cluster workers), each
# driven by the same wrk settings in turn. Prints both and the ratio.
#
#   bash scripts/bench/peer.sh          (DURATION=10s CONNECTIONS=32 THREADS=2 ROUNDS=2)
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-2}"
PG="${GERBANG_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"

command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
npm ci --no-audit --no-fund --silent --prefix scripts/bench/peers/express
cargo build --quiet --release --workspace --example serve_for_bench
BIN="$CARGO_TARGET_DIR/release/examples/serve_for_bench"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK="$(mktemp -d)"
DB="gerbang_peer_$$"
psql -q "$PG" -c "CREATE DATABASE $DB"
DB_URL="${PG%/*}/$DB"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$PG" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # file, pattern
  for _ in $(seq 1 150); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  echo "timed out waiting for $2 in $1" >&2; cat "$1" >&2; return 1
}

GERBANG_PORT="$(free_port)"
GERBANG_BENCH_DATABASE_URL="$DB_URL" GERBANG_BENCH_DOORS=1 RUST_LOG=warn \
  "$BIN" "127.0.0.1:$GERBANG_PORT" "$WORK/refresh.txt" 1 >"$WORK/gerbang.txt" 2>"$WORK/gerbang.log" &
pids+=("$!")
wait_for "$WORK/gerbang.txt" '^ready on'
GERBANG_TOKEN="$(sed -n 's/^ACCESS_TOKEN=//p' "$WORK/gerbang.txt")"

PEER_PORT="$(free_port)"
DATABASE_URL="$DB_URL" DEVICE_ID=door-0 PORT="$PEER_PORT" \
  node scripts/bench/peers/express/server.js >"$WORK/peer.txt" 2>"$WORK/peer.log" &
pids+=("$!")
wait_for "$WORK/peer.txt" '^ready'
PEER_TOKEN="$(sed -n 's/^TOKEN=//p' "$WORK/peer.txt")"

# Both answer the same door before anything is timed.
curl -fsS -H "Authorization: Bearer $GERBANG_TOKEN" "http://127.0.0.1:$GERBANG_PORT/api/door/status?device_id=door-0" >/dev/null
curl -fsS -H "Authorization: Bearer $PEER_TOKEN" "http://127.0.0.1:$PEER_PORT/api/door/status?device_id=door-0" >/dev/null

# wrk's requests/s and p99 (ms) for one server.
measure() { # token, url
  ACCESS_TOKEN="$1" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s cloud-api/benches/http/me.lua "$2" | awk '
      /Requests\/sec/ { rps = $2 }
      $1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; p99 = v }
      END { printf "%.0f %.2f\n", rps, p99 }'
}

echo "GET /api/door/status with a bearer token on PostgreSQL; wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, alternating"
for round in $(seq 1 "$ROUNDS"); do
  read -r g_rps g_p99 < <(measure "$GERBANG_TOKEN" "http://127.0.0.1:$GERBANG_PORT/api/door/status?device_id=door-0")
  read -r p_rps p_p99 < <(measure "$PEER_TOKEN" "http://127.0.0.1:$PEER_PORT/api/door/status?device_id=door-0")
  ratio="$(python3 -c "print(f'{$g_rps / max($p_rps, 1):.1f}')")"
  echo "round $round: gerbang $g_rps req/s p99 ${g_p99} ms | express+pg (2 workers) $p_rps req/s p99 ${p_p99} ms | ratio ${ratio}x"
done
