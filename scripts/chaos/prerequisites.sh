#!/usr/bin/env bash
# What the chaos scripts need of this machine, by scenario: prints what is missing on one
# line and fails when anything is, or prints "ready" and succeeds. `cargo xtask test` asks it
# whether the chaos suite (gerbang/tests/chaos.rs) can run, and each test of that suite
# asks it for its own scenario; scripts/ci/chaos.sh installs the Debian packages named here.
#
#   bash scripts/chaos/prerequisites.sh                   (every scenario)
#   bash scripts/chaos/prerequisites.sh network clock-tls (kill-cycles, restarts, network,
#                                                          clock, clock-tls)
set -uo pipefail

missing=()
lack() {
  local what
  for what in "${missing[@]}"; do [ "$what" = "$1" ] && return; done
  missing+=("$1")
}
# need TOOL [PACKAGE]: TOOL on PATH, from Debian's PACKAGE.
need() { command -v "$1" >/dev/null 2>&1 || lack "$1${2:+ (apt-get install $2)}"; }
root() { [ "$(id -u)" = 0 ] || lack "root"; }
faketime() {
  compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || lack "libfaketime (apt-get install faketime)"
}

# What lib.sh uses in every scenario.
need curl curl
need jq jq
need sqlite3 sqlite3
need python3 python3

scenarios=("$@")
[ $# = 0 ] && scenarios=(kill-cycles restarts network clock clock-tls)
for scenario in "${scenarios[@]}"; do
  case "$scenario" in
    kill-cycles) ;;
    restarts)
      # A private PostgreSQL (initdb as the postgres user) and a private Mosquitto.
      root
      need runuser util-linux
      need mosquitto mosquitto
      if pg_ctl="$(command -v pg_ctl)"; then
        [ -x "$(dirname "$(readlink -f "$pg_ctl")")/initdb" ] || lack "initdb beside pg_ctl"
      else
        lack "pg_ctl (the PostgreSQL server)"
      fi
      id postgres >/dev/null 2>&1 || lack "a postgres user"
      ;;
    network)
      root
      need ip iproute2
      need socat socat
      if command -v ip >/dev/null 2>&1 && ! ip netns list >/dev/null 2>&1; then lack "ip netns"; fi
      [ -c /dev/net/tun ] || lack "/dev/net/tun"
      ;;
    clock) faketime ;;
    clock-tls)
      faketime
      need socat socat
      need openssl openssl
      ;;
    *)
      echo "unknown scenario $scenario" >&2
      exit 2
      ;;
  esac
done

if [ ${#missing[@]} = 0 ]; then
  echo ready
else
  (IFS=','; echo "missing:${missing[*]/#/ }")
fi
[ ${#missing[@]} = 0 ]
