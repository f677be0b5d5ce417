#!/usr/bin/env bash
# Gerbang against the seeds' own stack, in one run on this machine, on PostgreSQL: three
# authenticated reads, each served by the release `cloud-api` (serve_for_bench) and by
# scripts/bench/peers/express (Express 4 + pg + jsonwebtoken, two cluster workers), driven
# by the same wrk settings in turn, alternating. Prints each pair and the ratio; for meals,
# Gerbang once more with a query string new on every request (benches/http/uncached.lua),
# so that no order list kept in memory is reused: what a read costs from the database.
#   door:  GET /api/door/status?device_id=door-0 (seed 000)
#   meals: GET /meals/api/orders?page=1&limit=20 as an administrator, 910 orders (seed 003)
#   sakip: GET /sakip/api/v1/performance/data for one OPD-month of 1,000 indicators (seed 002)
#
#   bash scripts/bench/peer.sh          (DURATION=10s CONNECTIONS=32 THREADS=2 ROUNDS=2
#                                        READS="door meals sakip")
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-2}"
READS="${READS:-door meals sakip}"
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

# The data: the bench administrator's meals profile (made on first use), a department, a
# shift and 910 orders over 91 days; one OPD of SAKIP's benchmark data set.
curl -fsS -H "Authorization: Bearer $GERBANG_TOKEN" "http://127.0.0.1:$GERBANG_PORT/meals/api/orders" >/dev/null
psql -q -v ON_ERROR_STOP=1 "$DB_URL" <<'SQL'
INSERT INTO meals_departments (name) VALUES ('Produksi');
INSERT INTO meals_shifts (name, start_time, end_time) VALUES ('Shift 1', '07:00', '15:00');
INSERT INTO meals_orders (code, employee_id, department_id, shift_id, quantity, order_date, status, requires_approval, created_at)
  SELECT 'PM-' || to_char(d, 'YYYYMMDD') || '-' || lpad(n::text, 3, '0'),
         (SELECT min(id) FROM meals_employees), (SELECT min(id) FROM meals_departments),
         (SELECT min(id) FROM meals_shifts), 1 + n % 5, to_char(d, 'YYYY-MM-DD'),
         (ARRAY['MENUNGGU','IN_PROGRESS','READY','ON_DELIVERY','COMPLETE'])[1 + n % 5],
         false, d + n * interval '1 minute'
    FROM generate_series(timestamptz '2026-09-01', timestamptz '2026-11-30', interval '1 day') d,
         generate_series(1, 10) n;
SQL
grep -v '^--' scripts/bench/sakip-data.sql | sed 's/{opds}/1/g' | psql -q -v ON_ERROR_STOP=1 "$DB_URL"

declare -A PATHS=(
  [door]="/api/door/status?device_id=door-0"
  [meals]="/meals/api/orders?page=1&limit=20"
  [sakip]="/sakip/api/v1/performance/data?year=2025&opd_id=1&month=6"
)
# Each read answers on both before anything is timed; the answers' sizes are printed.
for read in $READS; do
  g_bytes="$(curl -fsS -H "Authorization: Bearer $GERBANG_TOKEN" "http://127.0.0.1:$GERBANG_PORT${PATHS[$read]}" | wc -c)"
  p_bytes="$(curl -fsS -H "Authorization: Bearer $PEER_TOKEN" "http://127.0.0.1:$PEER_PORT${PATHS[$read]}" | wc -c)"
  echo "$read: ${PATHS[$read]} answers $g_bytes bytes (gerbang), $p_bytes bytes (express)"
done

# wrk's requests/s and p99 (ms) for one server.
measure() { # token, url[, wrk script]
  ACCESS_TOKEN="$1" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s "${3:-cloud-api/benches/http/me.lua}" "$2" | awk '
      /Requests\/sec/ { rps = $2 }
      $1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; p99 = v }
      END { printf "%.0f %.2f\n", rps, p99 }'
}

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, alternating; PostgreSQL, bearer tokens"
for read in $READS; do
  for round in $(seq 1 "$ROUNDS"); do
    read -r g_rps g_p99 < <(measure "$GERBANG_TOKEN" "http://127.0.0.1:$GERBANG_PORT${PATHS[$read]}")
    read -r p_rps p_p99 < <(measure "$PEER_TOKEN" "http://127.0.0.1:$PEER_PORT${PATHS[$read]}")
    ratio="$(python3 -c "print(f'{$g_rps / max($p_rps, 1):.1f}')")"
    line="$read round $round: gerbang $g_rps req/s p99 ${g_p99} ms | express+pg (2 workers) $p_rps req/s p99 ${p_p99} ms | ratio ${ratio}x"
    if [ "$read" = meals ]; then
      # Order lists are kept per query string: a new one on every request reuses nothing.
      read -r u_rps u_p99 < <(measure "$GERBANG_TOKEN" "http://127.0.0.1:$GERBANG_PORT${PATHS[$read]}" cloud-api/benches/http/uncached.lua)
      line="$line | gerbang reusing no answer $u_rps req/s p99 ${u_p99} ms ($(python3 -c "print(f'{$u_rps / max($p_rps, 1):.1f}')")x)"
    fi
    echo "$line"
  done
done
