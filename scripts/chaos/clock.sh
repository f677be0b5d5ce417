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
#
# Installs faketime from Debian when it is missing. The cloud and the door talk over
# loopback (plain MQTT/HTTP, which the daemon allows only there).
source "$(dirname "$0")/lib.sh"

UNSYNCED_SECS="${UNSYNCED_SECS:-20}"
SYNCED_SECS="${SYNCED_SECS:-10}"
FAKETIME_LIB="$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1 || true)"
if [ -z "$FAKETIME_LIB" ]; then
  apt-get install -y -qq faketime >/dev/null
  FAKETIME_LIB="$(ls /usr/lib/*/faketime/libfaketime.so.1 | head -1)"
fi

build_binaries
make_database
start_cloud
door="$work/door"
enroll_door clock-1 "$door" "http://127.0.0.1:$CLOUD_HTTP"

# libfaketime re-reads this file on every call: "@1970-01-01 00:00:00" starts the clock at
# the epoch when the daemon starts and lets it run; "+0" is the real time.
echo "@1970-01-01 00:00:00" >"$work/faketime"
started_ms="$(now_ms)"
# shellcheck disable=SC2046
EDGE_WRAP="env LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$work/faketime FAKETIME_NO_CACHE=1 DONT_FAKE_MONOTONIC=1 FAKETIME_DONT_FAKE_MONOTONIC=1" \
  STRANGERS_PER_SEC="${STRANGERS_PER_SEC:-20}" \
  spawn_edge "$door" "mqtt://127.0.0.1:$CLOUD_MQTT" $(traffic_env)
sleep "$UNSYNCED_SECS"
before="$(cloud_sql "SELECT COUNT(*) FROM events WHERE device_id = 'clock-1' AND clock_synced = false")"
echo "$UNSYNCED_SECS s at 1970: $before unsynchronised events stored by the cloud so far"
echo "+0" >"$work/faketime"
jumped_ms="$(now_ms)"
sleep "$SYNCED_SECS"
kill -TERM "$EDGE_PID"
wait "$EDGE_PID" 2>/dev/null || true
# The rest of the outbox, with no new traffic and the clock right.
spawn_edge "$door" "mqtt://127.0.0.1:$CLOUD_MQTT" GERBANG_SIM__TRAFFIC=false
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
