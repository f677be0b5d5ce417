#!/usr/bin/env python3
"""A link between two network namespaces with loss, latency, jitter and outages, in user space.

For kernels without `sch_netem` (the Firecracker kernel this project's machine runs has no
netem, no tc classifiers and no iptables): two TUN devices, one moved into each namespace by
scripts/chaos/network.sh, and this process copying IP packets between them. Every packet, in
each direction independently, is dropped with probability `loss`, or delivered after
`delay_ms` ± `jitter_ms` (uniform; jitter may reorder packets, as netem's does); with `down`
every packet is dropped silently (a dead access point). Real TCP runs across it, so loss means
real retransmissions and a partition means real timeouts.

    impair.py TUN_A TUN_B CONTROL_JSON

CONTROL_JSON is re-read whenever it changes: {"loss": 0.3, "delay_ms": 800, "jitter_ms": 200,
"down": false}. Counters go to CONTROL_JSON + ".stats" every second. Prints "ready" once both
devices exist.
"""

import fcntl
import heapq
import json
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def main():
    name_a, name_b, control = sys.argv[1:4]
    a, b = open_tun(name_a), open_tun(name_b)
    peer = {a: b, b: a}
    print("ready", flush=True)
    settings = {"loss": 0.0, "delay_ms": 0.0, "jitter_ms": 0.0, "down": False}
    stats = {"forwarded": 0, "dropped_loss": 0, "dropped_down": 0}
    seen_mtime = None
    next_stats = 0.0
    queue = []
    order = 0
    while True:
        now = time.monotonic()
        try:
            mtime = os.stat(control).st_mtime_ns
            if mtime != seen_mtime:
                with open(control) as f:
                    settings.update(json.load(f))
                seen_mtime = mtime
        except (OSError, ValueError):
            pass
        if now >= next_stats:
            with open(control + ".stats.tmp", "w") as f:
                json.dump(stats, f)
            os.replace(control + ".stats.tmp", control + ".stats")
            next_stats = now + 1.0
        while queue and queue[0][0] <= now:
            _, _, out, packet = heapq.heappop(queue)
            try:
                os.write(out, packet)
                stats["forwarded"] += 1
            except OSError:
                pass
        wait = 0.05
        if queue:
            wait = max(0.0, min(wait, queue[0][0] - now))
        ready, _, _ = select.select([a, b], [], [], wait)
        for fd in ready:
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError:
                    break
                if settings.get("down"):
                    stats["dropped_down"] += 1
                    continue
                if random.random() < float(settings.get("loss", 0)):
                    stats["dropped_loss"] += 1
                    continue
                delay = float(settings.get("delay_ms", 0))
                jitter = float(settings.get("jitter_ms", 0))
                delay = max(0.0, delay + random.uniform(-jitter, jitter)) / 1000
                order += 1
                heapq.heappush(queue, (time.monotonic() + delay, order, peer[fd], packet))


if __name__ == "__main__":
    main()
