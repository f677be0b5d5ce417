#!/usr/bin/env bash
# A door and its cloud in their own network namespaces, joined by one link that this script
# breaks in turn while a real edge-daemon (simulated hardware: exit-button visits and a
# corridor of denied strangers) keeps deciding and syncing:
#   partition  PARTITION_SECS (600) with every packet dropped silently
#   loss       LOSS_SECS (120) with LOSS (0.3) of the packets dropped, each way
#   latency    LATENCY_SECS (120) with DELAY_MS (800) ± JITTER_MS (200) each way
#   flapping   FLAP_TOTAL_SECS (120), the link down FLAP_SECS (3) then up FLAP_SECS, over again
# each after BASE_SECS (20) of a healthy link. After each it prints how long the cloud took,
# once the link healed, to hold every event written until then (the drain time); at the end
# what the door wrote against what the cloud stored (lost, duplicated, missing_seqs), and,
# for each phase, how many decisions the door wrote and the longest pause between two of
# them by the door's own clock, so a door that waited on the network would show.
#
#   bash scripts/chaos/network.sh
#   PARTITION_SECS=60 LOSS_SECS=30 LATENCY_SECS=30 FLAP_TOTAL_SECS=30 bash scripts/chaos/network.sh
#
# Needs root (ip netns). The link is scripts/chaos/impair.py: two TUN devices and a process
# that drops and delays IP packets between them, because the kernel here has no sch_netem
# (`tc qdisc … netem` answers "Specified qdisc kind is unknown"); where netem exists the
# figures should not differ, the TCP stacks on both sides being real. The daemon refuses
# plain TCP beyond loopback, so socat in the door's namespace carries its loopback
# connections (MQTT and HTTP) across the link. The cloud keeps SQLite (CLOUD_DB=postgres is
# not reachable from its namespace).
source "$(dirname "$0")/lib.sh"

PARTITION_SECS="${PARTITION_SECS:-600}"
LOSS_SECS="${LOSS_SECS:-120}"
LOSS="${LOSS:-0.3}"
LATENCY_SECS="${LATENCY_SECS:-120}"
DELAY_MS="${DELAY_MS:-800}"
JITTER_MS="${JITTER_MS:-200}"
FLAP_TOTAL_SECS="${FLAP_TOTAL_SECS:-120}"
FLAP_SECS="${FLAP_SECS:-3}"
BASE_SECS="${BASE_SECS:-20}"
DRAIN_LIMIT_SECS="${DRAIN_LIMIT_SECS:-900}"
CLOUD_DB=sqlite

command -v ip >/dev/null || apt-get install -y -qq iproute2 >/dev/null
command -v socat >/dev/null || apt-get install -y -qq socat >/dev/null
build_binaries
make_database

tag="$$"
CLOUD_NETNS="gbc-$tag"
EDGE_NETNS="gbe-$tag"
ip netns add "$CLOUD_NETNS"
ip netns add "$EDGE_NETNS"
cleanup_hooks+=("ip netns del $CLOUD_NETNS" "ip netns del $EDGE_NETNS")
control="$work/link.json"
echo '{"loss": 0, "delay_ms": 0, "jitter_ms": 0, "down": false}' >"$control"
python3 "$(dirname "$0")/impair.py" "gbc$tag" "gbe$tag" "$control" >"$work/impair.log" 2>&1 &
child_pids+=("$!")
for _ in $(seq 1 50); do grep -q ready "$work/impair.log" && break; sleep 0.1; done
ip link set "gbc$tag" netns "$CLOUD_NETNS"
ip link set "gbe$tag" netns "$EDGE_NETNS"
ip -n "$CLOUD_NETNS" addr add 10.77.0.1 peer 10.77.0.2 dev "gbc$tag"
ip -n "$EDGE_NETNS" addr add 10.77.0.2 peer 10.77.0.1 dev "gbe$tag"
for ns in "$CLOUD_NETNS" "$EDGE_NETNS"; do
  ip -n "$ns" link set lo up
done
ip -n "$CLOUD_NETNS" link set "gbc$tag" up
ip -n "$EDGE_NETNS" link set "gbe$tag" up

CLOUD_HOST=10.77.0.1
start_cloud "$CLOUD_NETNS"
fwd_http="$(free_port)"
fwd_mqtt="$(free_port)"
for pair in "$fwd_http:$CLOUD_HTTP" "$fwd_mqtt:$CLOUD_MQTT"; do
  ip netns exec "$EDGE_NETNS" socat "TCP-LISTEN:${pair%%:*},bind=127.0.0.1,reuseaddr,fork" \
    "TCP:10.77.0.1:${pair##*:},connect-timeout=10" 2>/dev/null &
  child_pids+=("$!")
done
sleep 0.5
EDGE_WRAP="ip netns exec $EDGE_NETNS"
door="$work/door"
enroll_door net-1 "$door" "http://127.0.0.1:$fwd_http"
# shellcheck disable=SC2046
spawn_edge "$door" "mqtt://127.0.0.1:$fwd_mqtt" $(traffic_env)

link() { echo "$1" >"$control"; }
healthy() { link '{"loss": 0, "delay_ms": 0, "jitter_ms": 0, "down": false}'; }
phases=()
mark() { phases+=("$1 $(now_ms)"); }

# drain NAME: once the link is healthy again, the seconds until the cloud holds every seq
# the door had written when it healed.
drain() {
  local name="$1" healed target start
  read -r target _ < <(outbox "$door")
  start="$(now_ms)"
  while :; do
    local row; row="$(device_row net-1 || true)"
    if [ -n "$row" ] && [ "$(jq .contiguous_seq <<<"$row")" -ge "$target" ]; then
      healed="$(python3 -c "print(f'{($(now_ms) - $start) / 1000:.1f}')")"
      break
    fi
    if [ $(($(now_ms) - start)) -gt $((DRAIN_LIMIT_SECS * 1000)) ]; then
      healed="not drained after ${DRAIN_LIMIT_SECS}s"
      break
    fi
    sleep 0.25
  done
  read -r last pending < <(outbox "$door")
  echo "$name: healed with seq $target written; the cloud held all of it ${healed} s later"
}

sleep "$BASE_SECS"
mark "partition"
link '{"down": true}'
sleep "$PARTITION_SECS"
read -r _ backlog < <(outbox "$door")
echo "partition (${PARTITION_SECS}s): $backlog events waiting in the door's outbox at the end"
mark "healthy"
healthy
drain "partition"

sleep "$BASE_SECS"
mark "loss"
link "{\"loss\": $LOSS, \"delay_ms\": 0, \"jitter_ms\": 0, \"down\": false}"
sleep "$LOSS_SECS"
read -r _ backlog < <(outbox "$door")
echo "loss $LOSS each way (${LOSS_SECS}s): $backlog events unconfirmed at the end"
mark "healthy"
healthy
drain "loss"

sleep "$BASE_SECS"
mark "latency"
link "{\"loss\": 0, \"delay_ms\": $DELAY_MS, \"jitter_ms\": $JITTER_MS, \"down\": false}"
sleep "$LATENCY_SECS"
read -r _ backlog < <(outbox "$door")
echo "latency ${DELAY_MS}±${JITTER_MS} ms each way (${LATENCY_SECS}s): $backlog events unconfirmed at the end"
mark "healthy"
healthy
drain "latency"

sleep "$BASE_SECS"
mark "flapping"
end=$(($(now_ms) + FLAP_TOTAL_SECS * 1000))
while [ "$(now_ms)" -lt "$end" ]; do
  link '{"down": true}'
  sleep "$FLAP_SECS"
  healthy
  sleep "$FLAP_SECS"
done
read -r _ backlog < <(outbox "$door")
echo "flapping every ${FLAP_SECS}s (${FLAP_TOTAL_SECS}s): $backlog events unconfirmed at the end"
mark "healthy"
healthy
drain "flapping"
sleep "$BASE_SECS"
mark "end"

# The rest, with no new traffic, then what each side holds.
kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
spawn_edge "$door" "mqtt://127.0.0.1:$fwd_mqtt" GERBANG_SIM__TRAFFIC=false
final_drain="$(wait_drained net-1 "$door" "$DRAIN_LIMIT_SECS")"
kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
result="$(verdict net-1 "$door")"
echo "$result (final drain ${final_drain} s); link: $(cat "$control.stats")"

cloud_sql "SELECT ts, kind FROM events WHERE device_id = 'net-1' AND kind = 'access_decision' ORDER BY seq" |
  tr '|' '\t' >"$work/decisions.tsv"
python3 - "$work/decisions.tsv" "${phases[@]}" <<'EOF'
import sys
from datetime import datetime

path, *marks = sys.argv[1:]
marks = [(m.split()[0], int(m.split()[1])) for m in marks]

def ms(text):
    text = text.strip()
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff +00:00" (sea-orm's format).
    text = text.replace(" +", "+").replace(" -", "-")
    return int(datetime.fromisoformat(text).timestamp() * 1000)

times = [ms(line.split("\t")[0]) for line in open(path) if line.strip()]
print("phase       decisions  per s   longest pause between two (door's clock)")
for (name, start), (_, end) in zip(marks, marks[1:]):
    inside = [t for t in times if start <= t < end]
    gaps = [b - a for a, b in zip(inside, inside[1:])]
    secs = (end - start) / 1000
    print(f"{name:<11} {len(inside):>9}  {len(inside) / secs:6.1f}   {max(gaps) if gaps else '-'} ms")
EOF
grep -q ' lost=0 duplicated=0' <<<" $result" && grep -q 'missing_seqs=0' <<<"$result"
