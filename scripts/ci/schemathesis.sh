#!/usr/bin/env bash
# Property-based API fuzzing: schemathesis (PyPI, in a venv) generates requests from the
# cloud's own /openapi.json and fails on any 5xx. The cloud is the `serve_for_bench` example
# (fresh SQLite in a temp dir, embedded broker, sign-in limits lifted, the admin
# bench@gerbang.test) on a free loopback port; every request carries the admin's bearer
# token (from the auth provider in schemathesis_hooks.py), so the guarded routes are exercised
# past their guards, and the hooks there fill in, for valid cases, what no schema can say. A real edge-daemon on
# simulated hardware is enrolled and online, so the door commands are answered by a door.
#
#   bash scripts/ci/schemathesis.sh            # ~1–3 minutes once built
#   ST_MAX_EXAMPLES=50 bash scripts/ci/schemathesis.sh   # deeper
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}"
VENV="${ST_VENV:-$CARGO_TARGET_DIR/schemathesis-venv}"
ST_VERSION="4.32.5"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-15}"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

# The workspace's examples, not `-p cloud-api` alone: a single-package build resolves
# dependency features differently and would compile most dependencies a second time; this
# way it shares every dependency with the test build CI runs next.
cargo build --quiet --workspace --examples --bins
BIN="$CARGO_TARGET_DIR/debug/examples/serve_for_bench"
EDGE="$CARGO_TARGET_DIR/debug/edge-daemon"
[ -x "$BIN" ] || { echo "the serve_for_bench example was not built" >&2; exit 1; }
[ -x "$EDGE" ] || { echo "the edge-daemon was not built" >&2; exit 1; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
WORK="$(mktemp -d)"
LOG="$WORK/cloud.log"
"$BIN" "127.0.0.1:$PORT" "$WORK/refresh.txt" 1 >"$WORK/out.txt" 2>"$LOG" &
CLOUD_PID=$!
DOOR_PID=
cleanup() {
  [ -n "$DOOR_PID" ] && { kill -TERM "$DOOR_PID" 2>/dev/null || true; wait "$DOOR_PID" 2>/dev/null || true; }
  kill -INT "$CLOUD_PID" 2>/dev/null || true
  wait "$CLOUD_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  grep -q '^ready on' "$WORK/out.txt" 2>/dev/null && break
  if ! kill -0 "$CLOUD_PID" 2>/dev/null; then
    echo "the cloud did not start:" >&2
    cat "$LOG" >&2
    exit 1
  fi
  sleep 0.2
done
TOKEN="$(sed -n 's/^ACCESS_TOKEN=//p' "$WORK/out.txt")"
if [ -z "$TOKEN" ]; then
  echo "no access token from the cloud" >&2
  cat "$LOG" >&2
  exit 1
fi

# A door for the door commands (`POST /api/door/control`, `/api/devices/{id}/commands`,
# `PUT /api/door/settings`), which only an enrolled door that is online can answer: the real
# edge-daemon on simulated hardware, enrolled with a code as an installer would.
ST_DOOR=st-door
CODE="$(curl -sf "http://127.0.0.1:$PORT/api/devices" -H "authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' \
  -d "{\"site\":\"schemathesis\",\"device_id\":\"$ST_DOOR\",\"name\":\"Schemathesis door\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])')"
mkdir -p "$WORK/door"
GERBANG_DATA_DIR="$WORK/door" "$EDGE" enroll --cloud "http://127.0.0.1:$PORT" --code "$CODE" >/dev/null
GERBANG_DATA_DIR="$WORK/door" GERBANG_KIOSK__LISTEN=127.0.0.1:0 RUST_LOG=warn \
  "$EDGE" run >/dev/null 2>"$WORK/door.log" &
DOOR_PID=$!
for attempt in $(seq 1 150); do
  curl -sf "http://127.0.0.1:$PORT/api/devices" -H "authorization: Bearer $TOKEN" |
    python3 -c 'import json, sys; sys.exit(0 if any(d["id"] == sys.argv[1] and d["online"] for d in json.load(sys.stdin)["devices"]) else 1)' "$ST_DOOR" &&
    break
  if [ "$attempt" = 150 ] || ! kill -0 "$DOOR_PID" 2>/dev/null; then
    echo "the schemathesis door did not come online:" >&2
    cat "$WORK/door.log" >&2
    exit 1
  fi
  sleep 0.2
done
export ST_DOOR

# What no schema can say (the admin's password, rows that must exist, a face photo) the hooks
# fill in for positive cases, through the API as this admin: scripts/ci/schemathesis_hooks.py.
export SCHEMATHESIS_HOOKS="$PWD/scripts/ci/schemathesis_hooks.py"
export ST_URL="http://127.0.0.1:$PORT"
export ST_ADMIN_EMAIL="$(sed -n 's/^ADMIN_EMAIL=//p' "$WORK/out.txt")"
export ST_ADMIN_PASSWORD="$(sed -n 's/^ADMIN_PASSWORD=//p' "$WORK/out.txt")"

# Operations that may end the admin's own sessions (a password reset, role or status change
# of the meals user the admin is, a logout): run after everything else, so the token stays
# good for the rest of the run.
SESSION_ENDERS='/(reset-password|role|logout)$|^/meals/api/users/[{]id[}]/status$'
# One worker: with two, Hypothesis describes strategies from two threads at once, and
# Python 3.11's `ast.parse` is not safe for that ("AST constructor recursion depth mismatch",
# a Runtime Error that failed 2 of 5 runs); one takes about as long (~1 minute).
ST=("$VENV/bin/schemathesis" run "http://127.0.0.1:$PORT/openapi.json"
  --url "http://127.0.0.1:$PORT"
  --checks not_a_server_error
  --max-examples "$MAX_EXAMPLES"
  --request-timeout 15
  --workers 1
  --seed 20261122
  --no-color)

status=0
# Every phase, named so none is dropped silently: the schema's examples, coverage of its
# boundaries, fuzzing, then the stateful phase, which follows the document's OpenAPI links
# (and the ones schemathesis infers) from what a create returned to the reads, updates and
# deletes of that very resource.
timeout 480 "${ST[@]}" --phases examples,coverage,fuzzing,stateful \
  --exclude-path-regex "$SESSION_ENDERS" || status=$?
timeout 120 "${ST[@]}" --phases examples,coverage,fuzzing \
  --include-path-regex "$SESSION_ENDERS" || status=$?

if grep -q 'Request failed' "$LOG"; then
  echo "--- 500s the cloud logged:" >&2
  grep -A2 'Request failed' "$LOG" | head -40 >&2
fi
exit "$status"
