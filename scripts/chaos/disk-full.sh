#!/usr/bin/env bash
# Disk full on the edge (issue #20): the door's data directory on a small tmpfs of its own,
# filled to the last byte while the real daemon (simulated hardware) keeps deciding. The
# test it runs (edge-daemon/tests/disk_full.rs) checks that every unlock relocks, that the
# refused writes are counted and reported once space returns, that the store passes
# `PRAGMA integrity_check` with gapless seqs, and that the daemon goes on by itself; it
# prints the figures. Needs root (mount); run from the repository.
#
#   SIZE=8m bash scripts/chaos/disk-full.sh
set -euo pipefail

SIZE=${SIZE:-8m}
cd "$(dirname "$0")/../.."
if [ "$(id -u)" -ne 0 ]; then
    echo "disk-full.sh mounts a tmpfs: run it as root" >&2
    exit 2
fi
mnt=$(mktemp -d /tmp/gerbang-disk-full.XXXXXX)
cleanup() {
    umount "$mnt" 2>/dev/null || true
    rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
mount -t tmpfs -o size="$SIZE",mode=0700 gerbang-disk-full "$mnt"
echo "data directory on a tmpfs of $SIZE at $mnt"
df -h "$mnt" | tail -1

GERBANG_DISK_FULL_DIR="$mnt" cargo test -p edge-daemon --test disk_full -- \
    --ignored --nocapture --test-threads=1
echo "after the run:"
df -h "$mnt" | tail -1
