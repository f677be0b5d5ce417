#!/usr/bin/env bash
# Builds the amd64 .deb packages (edge-daemon, gerbang-cloud) with cargo-deb and puts them
# through a whole life on this machine: install, checks (files, user, groups, units enabled,
# hardening score, doctor), upgrade to a newer revision (config edits and state kept), purge
# (everything gone). systemd need not be PID 1: the maintainer scripts only enable units
# (symlinks) and start them where /run/systemd/system exists.
#
# Usage: scripts/deb/test-amd64.sh     (as root; installs cargo-deb from crates.io once)
# Env:   CARGO_TARGET_DIR  as for any cargo build (default: target/)
#        GERBANG_DEB_OUT   where the .deb files go (default: $CARGO_TARGET_DIR/debian)
#        GERBANG_DEB_SKIP_BUILD=1  reuse the .deb files already in GERBANG_DEB_OUT
#        GERBANG_DEB_NO_BUILD=1    package the release binaries already built (no cargo build)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${GERBANG_DEB_OUT:-$TARGET_DIR/debian}
VERSION=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="edge-daemon"))')
ARCH=$(dpkg --print-architecture)
PACKAGES=(edge-daemon gerbang-cloud)

say() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
check() { local what=$1; shift; if "$@"; then echo "ok   $what"; else fail "$what"; fi; }
t0=$(date +%s)

[[ $(id -u) == 0 ]] || fail "run as root (it installs and purges packages)"
for p in "${PACKAGES[@]}"; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
        fail "$p is already installed here; purge it first (this script purges what it installs)"
    fi
done

cleanup() {
    local code=$?
    if ((code != 0)); then
        echo "cleaning up after a failure (exit $code)" >&2
        dpkg --purge "${PACKAGES[@]}" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

# 1. Build.
if [[ ${GERBANG_DEB_SKIP_BUILD:-0} != 1 ]]; then
    if ! cargo deb --version >/dev/null 2>&1; then
        say "installing cargo-deb from crates.io"
        cargo install --locked cargo-deb
    fi
    # One directory per revision: cargo-deb replaces an older .deb of the same package
    # in its output directory.
    mkdir -p "$OUT/r1" "$OUT/r2"
    say "building the packages (revision 1, then revision 2 of the same build for the upgrade)"
    tb=$(date +%s)
    # GERBANG_DEB_NO_BUILD=1 packages the release binaries already in the target directory
    # (e.g. from `cargo build --release --workspace --bins`) instead of building them again.
    first=()
    [[ ${GERBANG_DEB_NO_BUILD:-0} == 1 ]] && first=(--no-build)
    cargo deb -p edge-daemon --output "$OUT/r1" --deb-revision 1 "${first[@]}"
    cargo deb -p cloud-api --output "$OUT/r1" --deb-revision 1 "${first[@]}"
    cargo deb -p edge-daemon --output "$OUT/r2" --deb-revision 2 --no-build
    cargo deb -p cloud-api --output "$OUT/r2" --deb-revision 2 --no-build
    echo "built in $(($(date +%s) - tb))s"
fi
deb() { echo "$OUT/r${2}/${1}_${VERSION}-${2}_${ARCH}.deb"; }
for p in "${PACKAGES[@]}"; do for r in 1 2; do [[ -f $(deb "$p" "$r") ]] || fail "missing $(deb "$p" "$r")"; done; done
ls -l "$OUT"/r1/*.deb "$OUT"/r2/*.deb

say "package contents"
dpkg-deb --contents "$(deb edge-daemon 1)"
dpkg-deb --contents "$(deb gerbang-cloud 1)"
dpkg-deb --field "$(deb edge-daemon 1)" Package Version Depends

# 2. Install.
say "installing revision 1"
apt-get install -y -q "$(deb edge-daemon 1)" "$(deb gerbang-cloud 1)"

say "checking the installation"
unit_dir=/lib/systemd/system
check "binaries" test -x /usr/bin/edge-daemon -a -x /usr/bin/cloud-api
check "edge-daemon --version" sh -c "/usr/bin/edge-daemon --version | grep -q '^edge-daemon $VERSION'"
check "units installed" test -f $unit_dir/edge-daemon.service -a -f $unit_dir/cloud-api.service
check "units enabled" test -L /etc/systemd/system/multi-user.target.wants/edge-daemon.service \
    -a -L /etc/systemd/system/multi-user.target.wants/cloud-api.service
check "config in /etc/gerbang" test -f /etc/gerbang/edge.toml -a -f /etc/gerbang/cloud.env
check "cloud.env is 0600" test "$(stat -c %a /etc/gerbang/cloud.env)" = 600
check "edge.toml is a conffile" sh -c "dpkg-query -W -f='\${Conffiles}' edge-daemon | grep -q /etc/gerbang/edge.toml"
check "system user gerbang" sh -c 'getent passwd gerbang | grep -q ":/var/lib/gerbang:/usr/sbin/nologin$"'
check "gerbang is a system uid" test "$(id -u gerbang)" -lt 1000
for g in gpio i2c video; do check "gerbang in group $g" sh -c "id -nG gerbang | tr ' ' '\n' | grep -qx $g"; done
check "state dir gerbang:gerbang 0700" test "$(stat -c '%U:%G %a' /var/lib/gerbang)" = "gerbang:gerbang 700"
check "cloud state dir" test "$(stat -c '%U:%G %a' /var/lib/gerbang/cloud)" = "gerbang:gerbang 700"
check "units verify" systemd-analyze verify $unit_dir/edge-daemon.service $unit_dir/cloud-api.service
for u in edge-daemon cloud-api; do
    score=$(systemd-analyze security --offline=yes $unit_dir/$u.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    check "$u exposure $score <= 2.5" python3 -c "import sys; sys.exit(0 if float('$score') <= 2.5 else 1)"
done
set +e
doctor=$(runuser -u gerbang -- /usr/bin/edge-daemon --config /etc/gerbang/edge.toml doctor 2>&1)
code=$?
set -e
echo "$doctor"
check "doctor exits 1 before enrolment" test "$code" = 1
check "doctor: data dir writable by gerbang" grep -q '✓ data-dir' <<<"$doctor"
check "doctor: asks for enrolment" grep -q '✗ credentials' <<<"$doctor"

# 3. Upgrade: a local config edit and the door's state must survive.
say "upgrading to revision 2"
echo "# local edit $(date +%s)" >>/etc/gerbang/edge.toml
edit=$(tail -n1 /etc/gerbang/edge.toml)
echo '{"marker": true}' >/var/lib/gerbang/credentials.json
chown gerbang:gerbang /var/lib/gerbang/credentials.json
chmod 600 /var/lib/gerbang/credentials.json
DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o Dpkg::Options::=--force-confold \
    "$(deb edge-daemon 2)" "$(deb gerbang-cloud 2)"
for p in "${PACKAGES[@]}"; do
    check "$p is ${VERSION}-2" test "$(dpkg-query -W -f='${Version}' "$p")" = "${VERSION}-2"
done
check "config edit kept" grep -qxF "$edit" /etc/gerbang/edge.toml
check "state kept" grep -q marker /var/lib/gerbang/credentials.json
check "still enabled" test -L /etc/systemd/system/multi-user.target.wants/edge-daemon.service

# 4. Purge.
say "purging"
apt-get purge -y -q "${PACKAGES[@]}"
check "binaries gone" test ! -e /usr/bin/edge-daemon -a ! -e /usr/bin/cloud-api
check "units gone" test ! -e $unit_dir/edge-daemon.service -a ! -e $unit_dir/cloud-api.service
check "enablement gone" test ! -e /etc/systemd/system/multi-user.target.wants/edge-daemon.service \
    -a ! -e /etc/systemd/system/multi-user.target.wants/cloud-api.service
check "config gone" test ! -e /etc/gerbang
check "state gone" test ! -e /var/lib/gerbang
check "user gone" sh -c '! getent passwd gerbang >/dev/null'
check "dpkg forgot them" sh -c "! dpkg-query -W ${PACKAGES[*]} 2>/dev/null | grep -q ."

trap - EXIT
say "all package checks passed in $(($(date +%s) - t0))s"
