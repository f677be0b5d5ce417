#!/usr/bin/env bash
# Runs the `cargo fuzz` targets of fuzz/ (libFuzzer, AddressSanitizer), each for SECS seconds,
# and prints libFuzzer's figures per target: runs, execs/s, coverage (edges) and features.
#
#   bash scripts/chaos/fuzz.sh                         (SECS=600, every target)
#   SECS=180 TARGETS="sealed_frame event_batch" bash scripts/chaos/fuzz.sh
#
# Targets (see fuzz/harness/): sealed_frame (protocol/src/seal.rs: size → signature →
# version → typed parse of every message type), event_batch (the HTTPS batch body as the
# cloud's ingest parses it), image_decode (models::decode_image with a pixel budget),
# edge_config (the edge daemon's TOML over its defaults).
#
# Seeds and every crash kept are in the crate's tests/fixtures/fuzz/<target>/, replayed by
# `cargo test --test fuzz_regressions` of protocol, models and edge-daemon without nightly.
# A crash found here is copied there at once (it fails that test until fixed). The corpus
# grows in fuzz/corpus/<target>/ (not committed).
#
# Installs cargo-fuzz with `cargo install` when it is missing. libFuzzer needs nightly
# flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them. Environment:
#   SECS               seconds per target (600)
#   TARGETS            which targets ("sealed_frame event_batch image_decode edge_config")
#   SANITIZER          address (default) or none (faster builds and runs, no ASan)
#   FUZZ_TARGET_DIR    the build directory (fuzz/target)
#   RSS_LIMIT_MB       libFuzzer's memory limit per input run, also its malloc limit (2048)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

SECS="${SECS:-600}"
TARGETS="${TARGETS:-sealed_frame event_batch image_decode edge_config}"
SANITIZER="${SANITIZER:-address}"
FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$root/fuzz/target}"
RSS_LIMIT_MB="${RSS_LIMIT_MB:-2048}"
export RUSTC_BOOTSTRAP=1

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz

# target → (crate whose tests keep its inputs, cargo feature it needs)
crate_of() {
  case "$1" in
    sealed_frame | event_batch) echo protocol ;;
    image_decode) echo models ;;
    edge_config) echo edge-daemon ;;
    *) echo "unknown target $1" >&2; exit 2 ;;
  esac
}
dict_of() {
  case "$1" in
    sealed_frame | event_batch) echo "-dict=$root/fuzz/dicts/json.dict" ;;
    edge_config) echo "-dict=$root/fuzz/dicts/toml.dict" ;;
    *) echo "" ;;
  esac
}
features_of() {
  case "$1" in
    image_decode) echo image ;;
    edge_config) echo config ;;
    *) echo "" ;;
  esac
}

summary=()
for target in $TARGETS; do
  crate="$(crate_of "$target")"
  kept="$root/$crate/tests/fixtures/fuzz/$target"
  corpus="$root/fuzz/corpus/$target"
  artifacts="$root/fuzz/artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  log="$root/fuzz/artifacts/$target.log"
  features=()
  [ -n "$(features_of "$target")" ] && features=(--features "$(features_of "$target")")
  echo "== $target: $SECS s, sanitizer $SANITIZER, seeds from $kept"
  (cd fuzz && cargo fuzz build --sanitizer "$SANITIZER" --target-dir "$FUZZ_TARGET_DIR" \
    "${features[@]}" "$target")
  set +e
  (cd fuzz && cargo fuzz run --sanitizer "$SANITIZER" --target-dir "$FUZZ_TARGET_DIR" \
    "${features[@]}" "$target" "$corpus" "$kept" -- \
    -max_total_time="$SECS" -rss_limit_mb="$RSS_LIMIT_MB" -malloc_limit_mb="$RSS_LIMIT_MB" \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" $(dict_of "$target")) >"$log" 2>&1
  status=$?
  set -e
  runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  speed="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)"
  last="$(grep -E '^#[0-9]+' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)"
  ft="$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)"
  found=0
  for crash in "$artifacts"/crash-* "$artifacts"/oom-* "$artifacts"/leak-* "$artifacts"/timeout-*; do
    [ -e "$crash" ] || continue
    cp "$crash" "$kept/"
    found=$((found + 1))
    echo "   kept $(basename "$crash") in $kept (replay: cargo test -p $crate --test fuzz_regressions)"
  done
  line="$target: exit $status, runs ${runs:-?}, ${speed:-?} execs/s, cov ${cov:-?}, ft ${ft:-?}, corpus $(ls "$corpus" | wc -l), crashes kept $found (log $log)"
  echo "   $line"
  summary+=("$line")
done
echo
echo "== summary ($SECS s per target, sanitizer $SANITIZER)"
printf '%s\n' "${summary[@]}"
