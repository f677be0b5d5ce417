#!/usr/bin/env bash
# Several cloud-api replicas behind HAProxy, on one PostgreSQL, one Redis, Mosquitto's shared
# subscriptions and SeaweedFS, all on loopback; a fleet of simulated doors
# (cloud-api/examples/fleet.rs) streams through them. Three runs, each printing its figures:
#   1. one replica          — ingest events/s and CPU per event
#   2. two replicas         — the same
#   3. two replicas, one killed with SIGKILL a third of the way in — every event confirmed,
#      every door's missing_seqs = 0, nothing stored twice, and how long confirmation stalled.
#
#   bash scripts/scale/replicas.sh            (DEVICES=1000 EVENTS=30 INTERVAL_MS=1000)
#
# Installs HAProxy from Debian when it is missing; starts the services with
# scripts/ci/services.sh; builds the release binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."

DEVICES="${DEVICES:-1000}"
EVENTS="${EVENTS:-30}"
INTERVAL_MS="${INTERVAL_MS:-1000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}"
PG="${GERBANG_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
ADMIN_EMAIL=scale@gerbang.test
ADMIN_PASSWORD=scale-password-123

command -v haproxy >/dev/null || { apt-get install -y -qq haproxy >/dev/null; }
bash scripts/ci/services.sh >/dev/null
cargo build --release --quiet --workspace --features cloud-api/testkit --bin cloud-api --example fleet
BIN="$CARGO_TARGET_DIR/release/cloud-api"
FLEET="$CARGO_TARGET_DIR/release/examples/fleet"

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
base_of() { echo "${PG%/*}"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One run: $1 replicas, $2 = "kill" to SIGKILL the first a third of the way in.
run() {
  local replicas="$1" chaos="${2:-}"
  local db="gerbang_scale_$$_$RANDOM" group="gerbang-scale-$RANDOM" bucket="gerbang-scale-$RANDOM"
  psql -q "$PG" -c "CREATE DATABASE $db" >/dev/null
  curl -sf -X PUT "http://127.0.0.1:8333/$bucket" >/dev/null
  local lb; lb="$(free_port)"
  local ports=() rpids=()
  for i in $(seq 1 "$replicas"); do
    local port; port="$(free_port)"
    mkdir -p "$work/$db-$i"
    GERBANG_DATABASE_URL="$(base_of)/$db" GERBANG_HTTP_ADDR="127.0.0.1:$port" \
      GERBANG_PUBLIC_URL="http://127.0.0.1:$lb" GERBANG_DATA_DIR="$work/$db-$i" \
      GERBANG_MQTT_URL=mqtt://127.0.0.1:1883 GERBANG_MQTT_SHARE_GROUP="$group" \
      GERBANG_REDIS_URL=redis://127.0.0.1:6379 \
      GERBANG_OBJECT_STORE_BUCKET="$bucket" GERBANG_OBJECT_STORE_ENDPOINT=http://127.0.0.1:8333 \
      GERBANG_ADMIN_EMAIL="$ADMIN_EMAIL" GERBANG_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
      GERBANG_SECURITY_AUTH_IP_BURST=100000 GERBANG_SECURITY_ACCOUNT_BURST=100000 RUST_LOG=warn \
      "$BIN" >"$work/$db-$i.log" 2>&1 &
    rpids+=("$!"); pids+=("$!"); ports+=("$port")
  done
  {
    printf 'defaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n'
    printf 'frontend gerbang\n  bind 127.0.0.1:%s\n  default_backend replicas\n' "$lb"
    printf 'backend replicas\n  balance roundrobin\n  option httpchk GET /health\n'
    for i in "${!ports[@]}"; do printf '  server r%s 127.0.0.1:%s check inter 1s fall 2 rise 1\n' "$i" "${ports[$i]}"; done
  } >"$work/haproxy-$db.cfg"
  haproxy -f "$work/haproxy-$db.cfg" >"$work/haproxy-$db.log" 2>&1 &
  pids+=("$!")
  for port in "${ports[@]}"; do
    for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
  done
  for _ in $(seq 1 20); do curl -sf "http://127.0.0.1:$lb/health" >/dev/null && break; sleep 0.5; done

  local before=0
  for pid in "${rpids[@]}"; do before=$((before + $(cpu_ticks "$pid"))); done
  GERBANG_ADMIN_EMAIL="$ADMIN_EMAIL" GERBANG_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$FLEET" --base "http://127.0.0.1:$lb" --mqtt mqtt://127.0.0.1:1883 \
    --devices "$DEVICES" --events "$EVENTS" --interval-ms "$INTERVAL_MS" --resend-ms 10000 \
    >"$work/fleet-$db.txt" 2>"$work/fleet-$db.err" &
  local fleet=$!
  if [ "$chaos" = kill ]; then
    # A third of the way into the stream (enrolment first).
    for _ in $(seq 1 600); do grep -q 'devices enrolled' "$work/fleet-$db.err" 2>/dev/null && break; sleep 0.5; done
    sleep "$(python3 -c "print($EVENTS * $INTERVAL_MS / 3000)")"
    kill -9 "${rpids[0]}"
  fi
  wait "$fleet" || true
  local after=0
  for pid in "${rpids[@]}"; do
    [ -e "/proc/$pid/stat" ] && after=$((after + $(cpu_ticks "$pid")))
  done
  local line; line="$(cat "$work/fleet-$db.txt")"
  # Every door's sync record, through the survivor.
  local token; token="$(curl -sf "http://127.0.0.1:${ports[-1]}/api/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')"
  local sync; sync="$(curl -sf "http://127.0.0.1:${ports[-1]}/api/devices" -H "authorization: Bearer $token" | python3 -c '
import json, sys
devices = [d for d in json.load(sys.stdin)["devices"] if d["id"].startswith("load-")]
missing = sum(d["missing_seqs"] for d in devices)
stored = sum(d["events_stored"] for d in devices)
print(f"doors={len(devices)} stored={stored} missing_seqs={missing}")')"
  local dupes; dupes="$(psql -qtA "$(base_of)/$db" -c "SELECT COUNT(*) - COUNT(DISTINCT (device_id, seq)) FROM events")"
  echo "replicas=$replicas${chaos:+ (one killed)} $line $sync stored_twice=$dupes cpu_ms_total=$(( (after - before) * 10 ))"
  for pid in "${rpids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${rpids[@]}" 2>/dev/null || true
  psql -q "$PG" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null || true
}

echo "fleet: $DEVICES doors x $EVENTS events, one every ${INTERVAL_MS} ms each"
run 1
run 2
run 2 kill
