#!/usr/bin/env bash
# Builds edge-daemon for the Raspberry Pi (aarch64-unknown-linux-gnu) without Docker, with
# Debian's own Rust and cross linker, then runs the binary under qemu-user: `--version`, a
# `doctor` against an empty data directory, and `face identify` on real photos (tract).
#
# The rustup toolchain stays the default: Debian's cargo and rustc are called by full path.
# What is built is a snapshot of the last commit (git archive HEAD), so a half-edited
# working tree never leaks into a Pi binary and the shared Cargo.lock is never rewritten.
#
# Usage: scripts/cross/build-aarch64.sh            (as root: installs the toolchain once)
# Env:   GERBANG_CROSS_TARGET_DIR  target directory (default: target/debian-aarch64)
#        GERBANG_CROSS_PROFILE     cargo profile (default: release)
#        GERBANG_CROSS_SKIP_APT=1  do not touch apt (toolchain already there)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=aarch64-unknown-linux-gnu
TARGET_DIR=${GERBANG_CROSS_TARGET_DIR:-$ROOT/target/debian-aarch64}
PROFILE=${GERBANG_CROSS_PROFILE:-release}
DEB_CARGO=/usr/bin/cargo
DEB_RUSTC=/usr/bin/rustc
PACKAGES=(rustc-web cargo-web libstd-rust-web-dev:arm64 libc6:arm64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)

say() { printf '==> %s\n' "$*"; }

# 1. Toolchain (idempotent: nothing is fetched when everything is installed).
if [[ ${GERBANG_CROSS_SKIP_APT:-0} != 1 ]]; then
    apt_updated=0
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        say "adding the arm64 architecture"
        dpkg --add-architecture arm64
        apt-get update -q
        apt_updated=1
    fi
    missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        ((apt_updated)) || apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    else
        say "toolchain already installed"
    fi
fi
for tool in "$DEB_CARGO" "$DEB_RUSTC" aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

# 2. Is Debian's Rust new enough for this workspace?
ver() { "$1" --version | awk '{print $2}'; }
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }
deb_cargo=$(ver "$DEB_CARGO")
deb_rustc=$(ver "$DEB_RUSTC")
rust_version=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n1)
lock_version=$(git -C "$ROOT" show HEAD:Cargo.lock | sed -n 's/^version = \([0-9]*\)$/\1/p' | head -n1)
say "Debian cargo $deb_cargo, rustc $deb_rustc; workspace rust-version $rust_version, Cargo.lock v${lock_version:-?}"

# 3. A snapshot of HEAD in the target directory (same mtimes each time: incremental builds).
SRC=$TARGET_DIR/src
rm -rf "$SRC"
mkdir -p "$SRC"
git -C "$ROOT" archive --format=tar HEAD | tar -x -C "$SRC"

extra=()
if [[ -n $lock_version ]] && ((lock_version >= 4)) && ! version_ge "$deb_cargo" 1.78.0; then
    # Lockfile v4 needs cargo 1.78. For a registry-only lockfile v3 differs only in the
    # header, so rewrite it in the snapshot (never in the working tree).
    say "cargo $deb_cargo cannot read Cargo.lock v4: writing a v3 lockfile in the snapshot"
    sed -i 's/^version = 4$/version = 3/' "$SRC/Cargo.lock"
fi
if [[ -n $rust_version ]] && ! version_ge "$deb_rustc" "$rust_version"; then
    say "rustc $deb_rustc is older than rust-version $rust_version: building with --ignore-rust-version (may still fail)"
    extra+=(--ignore-rust-version)
fi

# 4. Build. Not --locked: a commit whose Cargo.lock lags its manifests (another crate's
# work in progress) is reconciled here, offline, in the snapshot only.
say "building edge-daemon for $TARGET ($PROFILE) in $TARGET_DIR"
start=$(date +%s)
(
    cd "$SRC"
    env -u RUSTUP_TOOLCHAIN -u CARGO_BUILD_TARGET \
        RUSTC="$DEB_RUSTC" \
        RUSTDOC=/usr/bin/rustdoc \
        CARGO_TARGET_DIR="$TARGET_DIR" \
        CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
        CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
        AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
        "$DEB_CARGO" build --profile "$PROFILE" --target "$TARGET" -p edge-daemon "${extra[@]}"
)
elapsed=$(($(date +%s) - start))
profile_dir=$PROFILE
[[ $PROFILE == dev ]] && profile_dir=debug
BIN=$TARGET_DIR/$TARGET/$profile_dir/edge-daemon
say "built in ${elapsed}s: $BIN"
file "$BIN" 2>/dev/null || true
ls -l "$BIN"

# 5. Run it on an emulated aarch64.
# The loader and the libc must come from one glibc build. libstd-rust-web-dev:arm64 brings
# the multiarch libc6:arm64 (/lib/ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu/) and the
# host's ld.so.cache points at it. With `-L /usr/aarch64-linux-gnu` qemu took the cross
# toolchain's loader (glibc 2.36-8) and that loader then found the newer multiarch libc
# (2.36-9+deb12u14): the two lay out `_rtld_global` differently, and the first
# pthread_create (the async runtime's first worker) walked a garbage stack-cache list
# forever. So: the multiarch root when it is there, else the cross sysroot alone.
sysroot=()
[[ -e /lib/ld-linux-aarch64.so.1 ]] || sysroot=(-L /usr/aarch64-linux-gnu)
run_binary() { qemu-aarch64 "${sysroot[@]}" "$@"; }
run() { run_binary "$BIN" "$@"; }
say "qemu: edge-daemon --version"
run --version
say "qemu: edge-daemon doctor (empty data directory: credentials, cloud and broker must fail)"
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
set +e
GERBANG_DATA_DIR=$data/edge run doctor
code=$?
GERBANG_DATA_DIR=$data/edge run doctor --json >"$data/doctor.json"
json_code=$?
set -e
if [[ $code -ne 1 || $json_code -ne 1 ]]; then
    echo "doctor exited $code / $json_code, expected 1 (not enrolled)" >&2
    exit 1
fi
grep -q '"name": "data-dir"' "$data/doctor.json"
grep -q '"name": "credentials"' "$data/doctor.json"

# The face pipeline on aarch64, with the pure-Rust tract backend (no ONNX Runtime for
# arm64 here): enrol one photo each of two people, identify a third photo of one of them.
say "qemu: edge-daemon face identify (tract; about a minute emulated)"
people=$SRC/models/testdata/people
mkdir -p "$data/gallery/obama" "$data/gallery/biden"
cp "$people/obama/obama.jpg" "$data/gallery/obama/"
cp "$people/biden/biden.jpg" "$data/gallery/biden/"
answer=$(ORT_DYLIB_PATH= run face identify --gallery "$data/gallery" "$people/obama/obama3.jpg" --json)
echo "$answer"
grep -q '"identity":"obama"' <<<"$answer" || { echo "face identify did not find obama" >&2; exit 1; }

# 6. The arm64 .deb from that binary (cargo-deb, stripped), when cargo-deb is installed
# (scripts/deb/test-amd64.sh installs it); its binary must still run.
if cargo deb --version >/dev/null 2>&1; then
    say "cargo deb: edge-daemon for arm64"
    CARGO_TARGET_DIR="$TARGET_DIR" cargo deb -p edge-daemon --target "$TARGET" --no-build \
        --strip --output "$TARGET_DIR/debian"
    DEB=$(ls -t "$TARGET_DIR"/debian/edge-daemon_*_arm64.deb | head -n1)
    dpkg-deb --field "$DEB" Package Version Architecture Depends
    [[ $(dpkg-deb --field "$DEB" Architecture) == arm64 ]] || { echo "$DEB is not arm64" >&2; exit 1; }
    dpkg-deb -x "$DEB" "$data/deb"
    say "qemu: the packaged (stripped) binary"
    run_binary "$data/deb/usr/bin/edge-daemon" --version
    ls -l "$DEB"
else
    say "cargo-deb not installed: no arm64 .deb (cargo install --locked cargo-deb)"
fi
say "aarch64 build OK (${elapsed}s); binary: $BIN"
