#!/usr/bin/env bash
# The cloud's parts restarted under a door's traffic: a private Mosquitto and a private
# PostgreSQL (started here on free ports, in the work directory: the machine's own services
# are never touched) serve a cloud-api process while a real edge-daemon decides and syncs.
#   1. Mosquitto stopped (SIGTERM) and started again, RESTARTS times
#   2. PostgreSQL restarted (`pg_ctl restart -m fast`), RESTARTS times
#   3. PostgreSQL stopped at once (`-m immediate`, as a crash) and started again
#   4. the cloud SIGKILLed while it ingests (events arrive at STRANGERS_PER_SEC, so a batch
#      is in flight at nearly any moment), RESTARTS times, and started again
# with HOLD_SECS (5) between a stop and its start and BETWEEN_SECS (10) of calm between
# rounds. Then the door drains and the script prints lost, duplicated and missing_seqs.
#
#   bash scripts/chaos/restarts.sh              (RESTARTS=3)
source "$(dirname "$0")/lib.sh"

RESTARTS="${RESTARTS:-3}"
HOLD_SECS="${HOLD_SECS:-5}"
BETWEEN_SECS="${BETWEEN_SECS:-10}"
STRANGERS_PER_SEC="${STRANGERS_PER_SEC:-200}"
export STRANGERS_PER_SEC
CLOUD_DB=postgres
PG_BIN="$(dirname "$(readlink -f "$(command -v pg_ctl)")")"

build_binaries

# PostgreSQL of our own (initdb refuses root: it runs as the postgres user).
pg_port="$(free_port)"
pgdata="$work/pg"
mkdir -p "$pgdata"
chown postgres "$work" "$pgdata"
chmod 755 "$work"
pg() { runuser -u postgres -- "$PG_BIN/$1" "${@:2}"; }
pg initdb -A trust -U postgres -D "$pgdata/data" >/dev/null
pg_start() {
  pg pg_ctl -D "$pgdata/data" -l "$pgdata/log" -w \
    -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1" start >/dev/null
}
pg_start
cleanup_hooks+=("runuser -u postgres -- $PG_BIN/pg_ctl -D $pgdata/data -m immediate stop >/dev/null 2>&1")
PG="postgres://postgres@127.0.0.1:$pg_port/postgres"
make_database

# Mosquitto of our own.
mq_port="$(free_port)"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mq_port" >"$work/mosquitto.conf"
mq_start() {
  mosquitto -c "$work/mosquitto.conf" >>"$work/mosquitto.log" 2>&1 &
  MQ_PID=$!
  child_pids+=("$MQ_PID")
  sleep 0.3
}
mq_start

CLOUD_MQTT_URL="mqtt://127.0.0.1:$mq_port"
start_cloud
door="$work/door"
enroll_door restart-1 "$door" "http://127.0.0.1:$CLOUD_HTTP"
# shellcheck disable=SC2046
spawn_edge "$door" "$CLOUD_MQTT_URL" GERBANG_CLOUD__URL="http://127.0.0.1:$CLOUD_HTTP" \
  GERBANG_SYNC__HTTP_FALLBACK_AFTER_SECS=2 GERBANG_SYNC__RESEND_AFTER_SECS=2 $(traffic_env)
sleep "$BETWEEN_SECS"

for i in $(seq 1 "$RESTARTS"); do
  kill -TERM "$MQ_PID"
  wait "$MQ_PID" 2>/dev/null || true
  sleep "$HOLD_SECS"
  mq_start
  echo "Mosquitto restart $i done"
  sleep "$BETWEEN_SECS"
done
for i in $(seq 1 "$RESTARTS"); do
  pg pg_ctl -D "$pgdata/data" -m fast -w -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1" restart >/dev/null
  echo "PostgreSQL restart $i (fast) done"
  sleep "$BETWEEN_SECS"
done
pg pg_ctl -D "$pgdata/data" -m immediate stop >/dev/null
sleep "$HOLD_SECS"
pg_start
echo "PostgreSQL crash (immediate stop) and start done"
sleep "$BETWEEN_SECS"
for i in $(seq 1 "$RESTARTS"); do
  sleep "$(python3 -c "import random; print(random.uniform(0, 2))")"
  before="$(cloud_sql "SELECT COUNT(*) FROM events")"
  kill -9 "$CLOUD_PID"
  wait "$CLOUD_PID" 2>/dev/null || true
  sleep "$HOLD_SECS"
  start_cloud
  echo "cloud SIGKILL $i done ($before events stored when it died)"
  sleep "$BETWEEN_SECS"
done

kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
spawn_edge "$door" "$CLOUD_MQTT_URL" GERBANG_CLOUD__URL="http://127.0.0.1:$CLOUD_HTTP" GERBANG_SIM__TRAFFIC=false
drain="$(wait_drained restart-1 "$door" 300)"
kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
result="$(verdict restart-1 "$door")"
echo "$RESTARTS Mosquitto restarts, $RESTARTS PostgreSQL restarts + 1 crash, $RESTARTS cloud SIGKILLs: $result; drained ${drain} s after the traffic stopped"
grep -q ' missing_seqs=0 lost=0 duplicated=0' <<<"$result"
