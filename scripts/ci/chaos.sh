#!/usr/bin/env bash
# The chaos suite (gerbang/tests/chaos.rs, scripts/chaos/) needs a few Debian tools beside
# the services: libfaketime, socat, openssl, iproute2, sqlite3, jq, curl. Installs those
# that are missing, then says what scripts/chaos/prerequisites.sh still finds missing
# (root, PostgreSQL's and Mosquitto's server binaries and /dev/net/tun are not installed here).
set -uo pipefail
cd "$(dirname "$0")/../.."

packages=()
[ -n "$(compgen -G '/usr/lib/*/faketime/libfaketime.so.1')" ] || packages+=(faketime)
for pair in socat:socat openssl:openssl ip:iproute2 sqlite3:sqlite3 jq:jq curl:curl; do
  command -v "${pair%%:*}" >/dev/null || packages+=("${pair##*:}")
done
if [ ${#packages[@]} -gt 0 ]; then
  echo "chaos suite: installing ${packages[*]} from Debian"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null
fi
echo "chaos suite: $(bash scripts/chaos/prerequisites.sh)"
