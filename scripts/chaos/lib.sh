# Shared by the chaos scripts (sourced, not run): builds the binaries, starts a cloud on free
# ports with its own SQLite (or PostgreSQL) database and data directory, enrols a simulated
# door and starts real `edge-daemon` processes, and reads what each side holds. Everything it
# starts is stopped when the script exits; nothing of the machine's shared services is touched.
#
# Environment: CARGO_TARGET_DIR (where the debug binaries are built), CHAOS_BIN_DIR (binaries
# built already), CLOUD_DB=sqlite|postgres (postgres: a fresh database on
# GERBANG_TEST_POSTGRES, dropped at exit), KEEP_WORK=1 (keep the logs and stores).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}"
ADMIN_EMAIL=chaos@gerbang.test
ADMIN_PASSWORD=chaos-password-123
CLOUD_DB="${CLOUD_DB:-sqlite}"
PG="${GERBANG_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"

work="$(mktemp -d /tmp/gerbang-chaos.XXXXXX)"
child_pids=()
cleanup_hooks=()
cleanup() {
  local status=$?
  # Last registered, first run (a database is dropped before its server stops).
  local i
  for ((i = ${#cleanup_hooks[@]} - 1; i >= 0; i--)); do eval "${cleanup_hooks[$i]}" || true; done
  for pid in "${child_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP_WORK:-0}" = 1 ] || [ "$status" != 0 ]; then
    echo "(work directory kept: $work)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# The debug binaries (the workspace's, so the build shares every dependency with the test
# build); CHAOS_BIN_DIR=DIR uses the cloud-api and edge-daemon already in DIR instead.
build_binaries() {
  if [ -n "${CHAOS_BIN_DIR:-}" ]; then
    CLOUD_BIN="$CHAOS_BIN_DIR/cloud-api"
    EDGE_BIN="$CHAOS_BIN_DIR/edge-daemon"
    return
  fi
  cargo build --quiet --workspace --bins
  CLOUD_BIN="$CARGO_TARGET_DIR/debug/cloud-api"
  EDGE_BIN="$CARGO_TARGET_DIR/debug/edge-daemon"
}

# The database the cloud will use: GERBANG_DATABASE_URL for start_cloud.
make_database() {
  if [ "$CLOUD_DB" = postgres ]; then
    local db="gerbang_chaos_$$_$RANDOM"
    psql -q "$PG" -c "CREATE DATABASE $db" >/dev/null
    CLOUD_DATABASE_URL="${PG%/*}/$db"
    cleanup_hooks+=("psql -q '$PG' -c 'DROP DATABASE IF EXISTS $db WITH (FORCE)' >/dev/null")
  else
    mkdir -p "$work/cloud"
    CLOUD_DATABASE_URL="sqlite://$work/cloud/gerbang.db?mode=rwc"
  fi
}

# start_cloud [NETNS]: the cloud on CLOUD_HTTP / CLOUD_MQTT (embedded broker unless
# CLOUD_MQTT_URL names an external one), bound to CLOUD_HOST (127.0.0.1); CLOUD_PID.
start_cloud() {
  local netns="${1:-}"
  local run=()
  [ -n "$netns" ] && run=(ip netns exec "$netns")
  CLOUD_HOST="${CLOUD_HOST:-127.0.0.1}"
  CLOUD_HTTP="${CLOUD_HTTP:-$(free_port)}"
  CLOUD_MQTT="${CLOUD_MQTT:-$(free_port)}"
  mkdir -p "$work/cloud"
  local external=()
  [ -n "${CLOUD_MQTT_URL:-}" ] && external=(GERBANG_MQTT_URL="$CLOUD_MQTT_URL")
  # Sign-in limits lifted: the script asks the API many times.
  env GERBANG_DATABASE_URL="$CLOUD_DATABASE_URL" GERBANG_DATA_DIR="$work/cloud" \
    GERBANG_SECURITY_AUTH_IP_BURST=100000 GERBANG_SECURITY_ACCOUNT_BURST=100000 \
    GERBANG_HTTP_ADDR="$CLOUD_HOST:$CLOUD_HTTP" GERBANG_MQTT_ADDR="$CLOUD_HOST:$CLOUD_MQTT" \
    "${external[@]}" \
    GERBANG_ADMIN_EMAIL="$ADMIN_EMAIL" GERBANG_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
    RUST_LOG="${CLOUD_LOG:-warn}" "${run[@]}" "$CLOUD_BIN" >>"$work/cloud.log" 2>&1 &
  CLOUD_PID=$!
  child_pids+=("$CLOUD_PID")
  for _ in $(seq 1 240); do
    if "${run[@]}" curl -sf "http://$CLOUD_HOST:$CLOUD_HTTP/health" >/dev/null; then
      login
      return 0
    fi
    kill -0 "$CLOUD_PID" 2>/dev/null || { tail -20 "$work/cloud.log" >&2; return 1; }
    sleep 0.25
  done
  echo "the cloud did not answer" >&2
  return 1
}

# login: the admin's token for `api` (call it in the script's own shell, not in `$(…)`).
login() {
  local run=()
  [ -n "${CLOUD_NETNS:-}" ] && run=(ip netns exec "$CLOUD_NETNS")
  ADMIN_TOKEN="$("${run[@]}" curl -sf "http://$CLOUD_HOST:$CLOUD_HTTP/api/auth/login" \
    -H 'content-type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | jq -r .accessToken)"
}

# api METHOD PATH [JSON]: the admin API; prints the body.
api() {
  local run=()
  [ -n "${CLOUD_NETNS:-}" ] && run=(ip netns exec "$CLOUD_NETNS")
  [ -n "${ADMIN_TOKEN:-}" ] || login
  local attempt
  for attempt in 1 2; do
    "${run[@]}" curl -sf -X "$1" "http://$CLOUD_HOST:$CLOUD_HTTP$2" \
      -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
      ${3:+-d "$3"} && return 0
    # An expired token (15 minutes) or a cloud just restarted: sign in again, once.
    [ "$attempt" = 1 ] && login
  done
  return 1
}

# enroll_door DEVICE DIR CLOUD_URL: a device made in the cloud, enrolled by the real CLI.
enroll_door() {
  local device="$1" dir="$2" url="$3"
  local code
  code="$(api POST /api/devices "{\"site\":\"chaos\",\"device_id\":\"$device\",\"name\":\"Chaos door\"}" | jq -r .code)"
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  GERBANG_DATA_DIR="$dir" ${EDGE_WRAP:-} "$EDGE_BIN" enroll --cloud "$url" --code "$code" >/dev/null
}

# spawn_edge DIR MQTT_URL [NAME=VALUE...]: a real edge-daemon with simulated hardware;
# EDGE_PID. Prefix with EDGE_WRAP (e.g. "ip netns exec gb-edge") to run it elsewhere.
spawn_edge() {
  local dir="$1" mqtt="$2"
  shift 2
  # shellcheck disable=SC2086
  env GERBANG_DATA_DIR="$dir" GERBANG_CLOUD__MQTT_URL="$mqtt" GERBANG_KIOSK__LISTEN=127.0.0.1:0 \
    RUST_LOG="${EDGE_LOG:-warn,edge_daemon=info}" "$@" ${EDGE_WRAP:-} "$EDGE_BIN" run \
    >/dev/null 2>>"$dir/daemon.log" &
  EDGE_PID=$!
  child_pids+=("$EDGE_PID")
}

# Heavy traffic: a person through the exit button every 0.5 s (simulated time ×20) and
# denied strangers at STRANGERS_PER_SEC (default 50).
traffic_env() {
  echo "GERBANG_SIM__STRANGERS=100000000 GERBANG_SIM__STRANGERS_PER_SEC=${STRANGERS_PER_SEC:-50}" \
    "GERBANG_SIM__VISIT_EVERY_SECS=0.5 GERBANG_SIM__SPEED=20 GERBANG_DOOR__DEBOUNCE_MS=5"
}

# outbox DIR: "LAST_SEQ PENDING" from the device's own store.
outbox() {
  sqlite3 -cmd '.timeout 5000' "file:$1/edge.db?mode=ro" \
    "SELECT (SELECT value FROM meta WHERE key = 'next_seq') - 1, (SELECT COUNT(*) FROM outbox)" | tr '|' ' '
}

# cloud_sql SQL: one value from the cloud's database.
cloud_sql() {
  if [ "$CLOUD_DB" = postgres ]; then
    psql -qtA "$CLOUD_DATABASE_URL" -c "$1"
  else
    sqlite3 -cmd '.timeout 5000' "$work/cloud/gerbang.db" "$1"
  fi
}

# device_row DEVICE: the cloud's record of a device (events_stored, last_seq, missing_seqs…).
device_row() { api GET /api/devices | jq -c ".devices[] | select(.id == \"$1\")"; }

# wait_drained DEVICE DIR LIMIT_SECS: until the device's outbox is empty and the cloud holds
# every seq it wrote; prints the seconds it took, or fails.
wait_drained() {
  local device="$1" dir="$2" limit="$3" start
  start="$(now_ms)"
  while :; do
    read -r last pending < <(outbox "$dir")
    local row; row="$(device_row "$device" || true)"
    if [ "$pending" = 0 ] && [ -n "$row" ] &&
      [ "$(jq .last_seq <<<"$row")" = "$last" ] && [ "$(jq .missing_seqs <<<"$row")" = 0 ] &&
      [ "$(jq .events_stored <<<"$row")" = "$last" ]; then
      python3 -c "print(f'{($(now_ms) - $start) / 1000:.1f}')"
      return 0
    fi
    if [ $(($(now_ms) - start)) -gt $((limit * 1000)) ]; then
      echo "not drained after ${limit}s: outbox last=$last pending=$pending cloud=$row" >&2
      return 1
    fi
    sleep 0.5
  done
}

# verdict DEVICE DIR: "written=N stored=N distinct=N missing_seqs=N lost=N duplicated=N".
verdict() {
  local device="$1" dir="$2"
  read -r last _ < <(outbox "$dir")
  local stored distinct missing
  stored="$(cloud_sql "SELECT COUNT(*) FROM events WHERE device_id = '$device'")"
  distinct="$(cloud_sql "SELECT COUNT(DISTINCT seq) FROM events WHERE device_id = '$device'")"
  missing="$(device_row "$device" | jq .missing_seqs)"
  echo "written=$last stored=$stored distinct=$distinct missing_seqs=$missing lost=$((last - distinct)) duplicated=$((stored - distinct))"
}
