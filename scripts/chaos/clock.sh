#!/usr/bin/env bash
# A door that boots in 1970: a real edge-daemon (simulated hardware and traffic) runs under
# libfaketime with its wall clock at 1970-01-01T00:00:00 (its monotonic clock untouched, as
# on a Pi without a real-time clock) for UNSYNCED_SECS while its events reach the cloud; then
# its clock jumps to the right time (as when NTP answers) and it runs SYNCED_SECS more.
# Prints how many events the cloud corrected from their boot's offset and the error of their
# corrected times against the moment each was really written, and checks nothing was lost
# or stored twice.
#
#   bash scripts/chaos/clock.sh                  (UNSYNCED_SECS=20 SYNCED_SECS=10)
#   CLOUD_DB=postgres bash scripts/chaos/clock.sh
#   TLS=1 bash scripts/chaos/clock.sh
#
# Installs faketime from Debian when it is missing. The cloud and the door talk over
# loopback (plain MQTT/HTTP, which the daemon allows only there). With TLS=1 the door reaches
# the cloud only over TLS, as in the field: a site CA and a certificate for 127.0.0.1 made
# by openssl when the script starts (so valid only from then on), served by socat as the
# TLS-terminating proxy packaging/INSTALL.md puts in front of the cloud's HTTP and MQTT
# ports, the daemon trusting the CA (`cloud.ca_file`). At 1970 every handshake must fail
# (the certificate is not yet valid): nothing reaches the cloud while the door goes on
# deciding; the script prints how long after the jump the first event arrived over TLS and
# when the cloud held everything written before the jump.
#
# The suite runs short versions of both: `cargo xtask test -- -p gerbang --test chaos clock`.
source "$(dirname "$0")/lib.sh"

UNSYNCED_SECS="${UNSYNCED_SECS:-20}"
SYNCED_SECS="${SYNCED_SECS:-10}"
TLS="${TLS:-0}"
FAKETIME_LIB="$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)"
if [ -z "$FAKETIME_LIB" ]; then
  apt-get install -y -qq faketime >/dev/null
  FAKETIME_LIB="$(ls /usr/lib/*/faketime/libfaketime.so.1 | head -1)"
fi

build_binaries
make_database
start_cloud
door="$work/door"
if [ "$TLS" = 1 ]; then
  command -v socat >/dev/null || apt-get install -y -qq socat >/dev/null
  tls="$work/tls"
  mkdir -p "$tls"
  # The site CA and the cloud's certificate, neither valid before this moment.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=Gerbang chaos site CA" -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tls/cloud.key" -out "$tls/cloud.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls/ext"
  openssl x509 -req -in "$tls/cloud.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 2 -extfile "$tls/ext" -out "$tls/cloud.pem" 2>/dev/null
  echo "cloud certificate $(openssl x509 -in "$tls/cloud.pem" -noout -startdate)"
  tls_http="$(free_port)"
  tls_mqtt="$(free_port)"
  for pair in "$tls_http:$CLOUD_HTTP" "$tls_mqtt:$CLOUD_MQTT"; do
    socat "OPENSSL-LISTEN:${pair%%:*},bind=127.0.0.1,reuseaddr,fork,cert=$tls/cloud.pem,key=$tls/cloud.key,verify=0" \
      "TCP:127.0.0.1:${pair##*:}" 2>/dev/null &
    child_pids+=("$!")
  done
  sleep 0.3
  door_cloud="https://127.0.0.1:$tls_http"
  door_mqtt="mqtts://127.0.0.1:$tls_mqtt"
  door_env=(GERBANG_CLOUD__URL="$door_cloud" GERBANG_CLOUD__CA_FILE="$tls/ca.pem")
  # The broker's refused handshakes are logged at debug level ("Broker unreachable.").
  EDGE_LOG="${EDGE_LOG:-warn,edge_daemon=info,edge_daemon::sync=debug}"
else
  door_cloud="http://127.0.0.1:$CLOUD_HTTP"
  door_mqtt="mqtt://127.0.0.1:$CLOUD_MQTT"
  door_env=()
fi
# Enrolled with the clock right, as an installer does (over TLS too, with TLS=1).
EDGE_WRAP="env ${door_env[*]}" enroll_door clock-1 "$door" "$door_cloud"

# libfaketime re-reads this file on every call: "@1970-01-01 00:00:00" starts the clock at
# the epoch when the daemon starts and lets it run; "+0" is the real time.
echo "@1970-01-01 00:00:00" >"$work/faketime"
started_ms="$(now_ms)"
# shellcheck disable=SC2046
EDGE_WRAP="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$work/faketime FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_FAKE_MONOTONIC=1" \
  STRANGERS_PER_SEC="${STRANGERS_PER_SEC:-20}" \
  spawn_edge "$door" "$door_mqtt" "${door_env[@]}" $(traffic_env)
sleep "$UNSYNCED_SECS"
before="$(cloud_sql "SELECT COUNT(*) FROM events WHERE device_id = 'clock-1' AND clock_synced = false")"
echo "$UNSYNCED_SECS s at 1970: $before unsynchronised events stored by the cloud so far"
read -r at_jump _ < <(outbox "$door")
echo "+0" >"$work/faketime"
jumped_ms="$(now_ms)"
if [ "$TLS" = 1 ]; then
  refused="$(grep -ciE 'NotValidYet|not valid yet|not yet valid' "$door/daemon.log" || true)"
  echo "at 1970 over TLS: the door wrote $at_jump events, the cloud received $before;" \
    "$refused log lines of the daemon name the certificate as not yet valid"
  # After the jump: the first event the cloud receives (the first handshake that passed),
  # then the moment it holds every seq written before the jump.
  first_sync="" caught_up=""
  limit_ms=$((jumped_ms + 120000))
  while [ -z "$caught_up" ] && [ "$(now_ms)" -lt "$limit_ms" ]; do
    if [ -z "$first_sync" ] &&
      [ "$(cloud_sql "SELECT COUNT(*) FROM events WHERE device_id = 'clock-1'")" != 0 ]; then
      first_sync="$(python3 -c "print(f'{($(now_ms) - $jumped_ms) / 1000:.1f}')")"
    fi
    if [ -n "$first_sync" ] &&
      [ "$(device_row clock-1 | jq .contiguous_seq)" -ge "$at_jump" ]; then
      caught_up="$(python3 -c "print(f'{($(now_ms) - $jumped_ms) / 1000:.1f}')")"
    fi
    sleep 0.1
  done
  echo "after the jump: first event over TLS ${first_sync:-never} s later;" \
    "all $at_jump events written at 1970 held by the cloud ${caught_up:-never} s later"
  [ -n "$caught_up" ] && [ "$before" = 0 ] && [ "$refused" -gt 0 ] || { echo FAILED; exit 1; }
  rest=$((jumped_ms + SYNCED_SECS * 1000 - $(now_ms)))
  [ "$rest" -gt 0 ] && sleep "$(python3 -c "print($rest / 1000)")"
else
  sleep "$SYNCED_SECS"
fi
kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
# The rest of the outbox, with no new traffic and the clock right.
spawn_edge "$door" "$door_mqtt" "${door_env[@]}" GERBANG_SIM__TRAFFIC=false
drain="$(wait_drained clock-1 "$door" 120)"
kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true

cloud_sql "SELECT seq, ts, device_ts, clock_synced FROM events WHERE device_id = 'clock-1' ORDER BY seq" |
  tr '|' '\t' >"$work/times.tsv"
logged_1970="$(cloud_sql "SELECT COUNT(*) FROM access_logs WHERE device_id = 'clock-1' AND ts_ms < 1735689600000")"
python3 - "$work/times.tsv" "$started_ms" "$jumped_ms" "$logged_1970" "$drain" "$(verdict clock-1 "$door")" <<'EOF'
import sys
from datetime import datetime, timezone

path, started_ms, jumped_ms, logged_1970, drain, verdict = sys.argv[1:]
started_ms, jumped_ms = int(started_ms), int(jumped_ms)

def ms(text):
    text = text.strip().replace(" +", "+").replace(" -", "-").replace("Z", "+00:00")
    if text[-3] != ":" and text[-5] in "+-":
        text = text[:-2] + ":" + text[-2:]
    if len(text) > 6 and text[-3] == ":" and text[-6] in "+-" and text.count(":") == 3 and text[-9] == ":":
        pass
    if "+" not in text[10:] and "-" not in text[10:]:
        text += "+00:00"
    t = datetime.fromisoformat(text.replace(" ", "T", 1))
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return int(t.timestamp() * 1000)

unsynced = corrected = 0
errors = []
for line in open(path):
    seq, ts, device_ts, synced = line.rstrip("\n").split("\t")
    if synced in ("1", "t", "true"):
        continue
    unsynced += 1
    if not device_ts:
        continue
    corrected += 1
    # The device's clock read 1970 + the time since it started: the moment it really
    # wrote the event is that much after the daemon was started.
    really = started_ms + ms(device_ts)
    errors.append(ms(ts) - really)
errors.sort()
print(f"unsynchronised events: {unsynced}, corrected by the cloud: {corrected}, "
      f"left uncorrected: {unsynced - corrected}")
if errors:
    mean = sum(errors) / len(errors)
    print(f"error of the corrected times (corrected - really written): min {errors[0]} ms, "
          f"median {errors[len(errors) // 2]} ms, mean {mean:.0f} ms, max {errors[-1]} ms "
          f"(includes the daemon's start-up before its monotonic origin)")
print(f"access-log rows still dated before 2025: {logged_1970}")
print(f"{verdict}; drained {drain} s after the restart")
ok = unsynced > 0 and corrected == unsynced and logged_1970 == "0" and " lost=0 " in f" {verdict} " \
    and "duplicated=0" in verdict and (not errors or max(abs(e) for e in errors) < 2000)
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
EOF
