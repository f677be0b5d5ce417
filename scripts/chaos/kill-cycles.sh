#!/usr/bin/env bash
# KILLS SIGKILLs of a real edge-daemon at random moments (alive 0.15–1.5 s each time) while
# it decides (simulated exit-button visits and a corridor of strangers) and syncs to a cloud;
# with `PRAGMA integrity_check` of its SQLite store every CHECK_EVERY kills (100) and at the
# end, then a last run that drains the outbox, and the cloud's count: every seq stored once,
# `missing_seqs = 0`.
#
#   bash scripts/chaos/kill-cycles.sh            (KILLS=1000; CLOUD_DB=sqlite|postgres)
#
# The suite runs a short version (20 kills, a check after each):
# `cargo xtask test -- -p gerbang --test chaos kill_cycles`; its sync suite keeps its own 20
# kills on both databases and brokers (`--test sync sigkill`).
source "$(dirname "$0")/lib.sh"

KILLS="${KILLS:-1000}"
CHECK_EVERY="${CHECK_EVERY:-100}"
build_binaries
make_database
start_cloud
door="$work/door"
enroll_door kill-1 "$door" "http://127.0.0.1:$CLOUD_HTTP"

started="$(now_ms)"
bad_integrity=0
for i in $(seq 1 "$KILLS"); do
  # shellcheck disable=SC2046
  STRANGERS_PER_SEC=400 spawn_edge "$door" "mqtt://127.0.0.1:$CLOUD_MQTT" $(traffic_env)
  sleep "$(python3 -c "import random; print(random.uniform(0.15, 1.5))")"
  kill -9 "$EDGE_PID"
  wait "$EDGE_PID" 2>/dev/null || true
  if [ $((i % CHECK_EVERY)) = 0 ] || [ "$i" = "$KILLS" ]; then
    check="$(sqlite3 "$door/edge.db" 'PRAGMA integrity_check')"
    [ "$check" = ok ] || bad_integrity=$((bad_integrity + 1))
    read -r last pending < <(outbox "$door")
    echo "after $i kills: $last events written, $pending unconfirmed, integrity_check=$check"
  fi
done
killing="$(python3 -c "print(f'{($(now_ms) - $started) / 1000:.0f}')")"
integrity="$(sqlite3 "$door/edge.db" 'PRAGMA integrity_check')"
spawn_edge "$door" "mqtt://127.0.0.1:$CLOUD_MQTT" GERBANG_SIM__TRAFFIC=false
drain="$(wait_drained kill-1 "$door" 300)"
kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
result="$(verdict kill-1 "$door")"
echo "$KILLS SIGKILLs in ${killing} s ($CLOUD_DB); final integrity_check=$integrity" \
  "(failed checks on the way: $bad_integrity); $result; drained ${drain} s after the last start"
[ "$integrity" = ok ] && [ "$bad_integrity" = 0 ] && grep -q ' missing_seqs=0 lost=0 duplicated=0' <<<"$result"
