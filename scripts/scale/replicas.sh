#!/usr/bin/env bash
# Several cloud-api replicas behind HAProxy, on one PostgreSQL, one Redis and SeaweedFS, with
# the devices' broker either Mosquitto's shared subscriptions (BROKER=mosquitto, the default)
# or a three-node NATS cluster with JetStream whose MQTT listeners sit behind HAProxy too
# and whose logins go through the replicas' auth callout (BROKER=nats), all on loopback; a fleet of simulated doors (cloud-api/examples/fleet.rs)
# streams through them while a dashboard's socket.io-client on the last replica measures
# device → dashboard latency. Three runs, each printing its figures:
#   1. one replica          — ingest events/s and CPU per event
#   2. two replicas         — the same
#   3. two replicas, one killed with SIGKILL a third of the way in (and, with NATS, one NATS
#      node SIGKILLed two thirds of the way in) — every event confirmed, every door's
#      missing_seqs = 0, nothing stored twice, and the recovery from each kill: how long
#      after it every event then in flight was confirmed.
#
#   bash scripts/scale/replicas.sh            (DEVICES=1000 EVENTS=30 INTERVAL_MS=1000)
#   BROKER=nats bash scripts/scale/replicas.sh
#   RUNS="2 2-kill" BROKER=nats bash scripts/scale/replicas.sh   (some of the runs)
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
BROKER="${BROKER:-mosquitto}"
RUNS="${RUNS:-1 2 2-kill}"

command -v haproxy >/dev/null || { apt-get install -y -qq haproxy >/dev/null; }
bash scripts/ci/services.sh >/dev/null
# BUILD=0 runs the release binaries already built.
[ "${BUILD:-1}" = 0 ] || cargo build --release --quiet --workspace --features cloud-api/testkit --bin cloud-api --example fleet
BIN="$CARGO_TARGET_DIR/release/cloud-api"
FLEET="$CARGO_TARGET_DIR/release/examples/fleet"
NATS_SERVER="$CARGO_TARGET_DIR/../nats/venv/bin/nats-server"
SOCKETIO="cloud-api/tests/socketio"
[ -d "$SOCKETIO/node_modules/socket.io-client" ] || npm ci --no-audit --no-fund --prefix "$SOCKETIO" >/dev/null

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The NATS cluster (BROKER=nats): three nodes with JetStream and MQTT, routed together, and
# HAProxy in TCP mode in front of their MQTT listeners — what a door's one broker address
# points at, so a door whose node dies reconnects to another.
nats_pids=()
nats_urls=""
mqtt_url="mqtt://127.0.0.1:1883"
if [ "$BROKER" = nats ]; then
  # Every door logs in through the replicas' auth callout and is confined to its own
  # subjects, as in production; the cloud has a user of its own.
  issuer="$("$BIN" nats-issuer --seed-file "$work/issuer.seed")"
  cloud_password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
  # The MQTT listener makes a JetStream consumer for every QoS 1 subscription: a door's
  # commands, gallery and receipts. They only ever carry what the cloud publishes with core
  # NATS, so they hold nothing worth three copies on disk; NATS_MQTT_CONSUMERS=default keeps
  # the server's defaults (replicated like the streams, on file) to compare.
  mqtt_consumers=", consumer_replicas: 1, consumer_memory_storage: true"
  [ "${NATS_MQTT_CONSUMERS:-lean}" = default ] && mqtt_consumers=""
  declare -a nc nr nm
  for i in 0 1 2; do nc[$i]="$(free_port)"; nr[$i]="$(free_port)"; nm[$i]="$(free_port)"; done
  routes="nats://127.0.0.1:${nr[0]}, nats://127.0.0.1:${nr[1]}, nats://127.0.0.1:${nr[2]}"
  for i in 0 1 2; do
    mkdir -p "$work/nats-$i"
    cat >"$work/nats-$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${nc[$i]}
jetstream { store_dir: "$work/nats-$i" }
cluster { name: gerbang-scale, listen: 127.0.0.1:${nr[$i]}, routes: [$routes] }
mqtt { listen: 127.0.0.1:${nm[$i]}${mqtt_consumers} }
authorization {
  users: [ { user: gerbang-cloud, password: "$cloud_password" } ]
  auth_callout { issuer: $issuer, auth_users: [ gerbang-cloud ] }
}
CONF
    "$NATS_SERVER" -c "$work/nats-$i.conf" >"$work/nats-$i.log" 2>&1 &
    nats_pids+=("$!"); pids+=("$!")
  done
  nats_urls="nats://127.0.0.1:${nc[0]},nats://127.0.0.1:${nc[1]},nats://127.0.0.1:${nc[2]}"
  mqtt_lb="$(free_port)"
  {
    printf 'defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 120s\n  timeout server 120s\n'
    printf 'frontend mqtt\n  bind 127.0.0.1:%s\n  default_backend nats\n' "$mqtt_lb"
    printf 'backend nats\n  balance leastconn\n'
    for i in 0 1 2; do printf '  server n%s 127.0.0.1:%s check inter 1s fall 1 rise 2\n' "$i" "${nm[$i]}"; done
  } >"$work/haproxy-mqtt.cfg"
  haproxy -f "$work/haproxy-mqtt.cfg" >"$work/haproxy-mqtt.log" 2>&1 &
  pids+=("$!")
  mqtt_url="mqtt://127.0.0.1:$mqtt_lb"
  sleep 3
fi
base_of() { echo "${PG%/*}"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# One run: $1 replicas, $2 = "kill" to SIGKILL the first a third of the way in.
run() {
  local replicas="$1" chaos="${2:-}" kills=""
  local db="gerbang_scale_$$_$RANDOM" group="gerbang-scale-$RANDOM" bucket="gerbang-scale-$RANDOM"
  psql -q "$PG" -c "CREATE DATABASE $db" >/dev/null
  curl -sf -X PUT "http://127.0.0.1:8333/$bucket" >/dev/null
  local lb; lb="$(free_port)"
  local ports=() rpids=()
  local broker_env="GERBANG_MQTT_URL=mqtt://127.0.0.1:1883 GERBANG_MQTT_SHARE_GROUP=$group"
  if [ "$BROKER" = nats ]; then
    broker_env="GERBANG_NATS_URL=$nats_urls GERBANG_NATS_REPLICAS=3 GERBANG_NATS_ACK_WAIT_SECS=5 GERBANG_MQTT_PUBLIC_URL=$mqtt_url"
    broker_env="$broker_env GERBANG_NATS_USERNAME=gerbang-cloud GERBANG_NATS_PASSWORD=$cloud_password"
    broker_env="$broker_env GERBANG_NATS_AUTH_CALLOUT_SEED=$(cat "$work/issuer.seed")"
  fi
  for i in $(seq 1 "$replicas"); do
    local port; port="$(free_port)"
    mkdir -p "$work/$db-$i"
    # shellcheck disable=SC2086
    env $broker_env GERBANG_DATABASE_URL="$(base_of)/$db" GERBANG_HTTP_ADDR="127.0.0.1:$port" \
      GERBANG_PUBLIC_URL="http://127.0.0.1:$lb" GERBANG_DATA_DIR="$work/$db-$i" \
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

  # A dashboard on the last replica: device → dashboard latency of every event pushed.
  local admin; admin="$(curl -sf "http://127.0.0.1:${ports[-1]}/api/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')"
  node scripts/scale/dashboard-latency.mjs "http://127.0.0.1:${ports[-1]}" "$admin" >"$work/dash-$db.txt" 2>&1 &
  local dash=$!
  local before=0 broker_before=0
  for pid in "${rpids[@]}"; do before=$((before + $(cpu_ticks "$pid"))); done
  for pid in "${nats_pids[@]}"; do
    [ -e "/proc/$pid/stat" ] && broker_before=$((broker_before + $(cpu_ticks "$pid")))
  done
  GERBANG_ADMIN_EMAIL="$ADMIN_EMAIL" GERBANG_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    "$FLEET" --base "http://127.0.0.1:$lb" --mqtt "$mqtt_url" \
    --devices "$DEVICES" --events "$EVENTS" --interval-ms "$INTERVAL_MS" --resend-ms 10000 \
    --confirmations "$work/confirmations-$db.csv" \
    >"$work/fleet-$db.txt" 2>"$work/fleet-$db.err" &
  local fleet=$!
  if [ "$chaos" = kill ]; then
    # A third of the way into the stream (enrolment first).
    for _ in $(seq 1 600); do grep -q 'devices enrolled' "$work/fleet-$db.err" 2>/dev/null && break; sleep 0.5; done
    sleep "$(python3 -c "print($EVENTS * $INTERVAL_MS / 3000)")"
    kill -9 "${rpids[0]}"
    kills="replica=$(date +%s%3N)"
    if [ "$BROKER" = nats ]; then
      sleep "$(python3 -c "print($EVENTS * $INTERVAL_MS / 3000)")"
      kill -9 "${nats_pids[0]}"
      kills="$kills nats_node=$(date +%s%3N)"
    fi
  fi
  wait "$fleet" || true
  sleep 1
  kill -INT "$dash" 2>/dev/null || true
  wait "$dash" 2>/dev/null || true
  local after=0 broker_after=0
  for pid in "${rpids[@]}"; do
    [ -e "/proc/$pid/stat" ] && after=$((after + $(cpu_ticks "$pid")))
  done
  for pid in "${nats_pids[@]}"; do
    [ -e "/proc/$pid/stat" ] && broker_after=$((broker_after + $(cpu_ticks "$pid")))
  done
  local broker_cpu=""
  [ "$BROKER" = nats ] && broker_cpu="nats_cpu_ms_total=$(( (broker_after - broker_before) * 10 ))"
  local line; line="$(cat "$work/fleet-$db.txt")"
  # Recovery from each kill: how long after it every event then in flight (sent before it,
  # or within the second after, and not yet confirmed) was confirmed.
  local recovery=""
  if [ -n "$kills" ]; then
    recovery="$(python3 - "$work/confirmations-$db.csv" $kills <<'PY'
import csv, sys
rows = [(int(r["sent_ms"]), int(r["confirmed_ms"])) for r in csv.DictReader(open(sys.argv[1]))]
out = []
for kill in sys.argv[2:]:
    what, at = kill.split("=")
    at = int(at)
    hit = [c - at for s, c in rows if s <= at + 1000 and c > at]
    out.append(f"recovered_after_{what}_kill_s={max(hit) / 1000:.1f}" if hit else f"recovered_after_{what}_kill_s=none_in_flight")
print(" ".join(out))
PY
)"
  fi
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
  echo "broker=$BROKER replicas=$replicas${chaos:+ (one killed)} $line $sync stored_twice=$dupes cpu_ms_total=$(( (after - before) * 10 )) $broker_cpu $(tail -1 "$work/dash-$db.txt") $recovery"
  for pid in "${rpids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${rpids[@]}" 2>/dev/null || true
  psql -q "$PG" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null || true
}

echo "fleet: $DEVICES doors x $EVENTS events, one every ${INTERVAL_MS} ms each, broker $BROKER"
for one in $RUNS; do
  case "$one" in
    *-kill) run "${one%-kill}" kill ;;
    *) run "$one" ;;
  esac
done
