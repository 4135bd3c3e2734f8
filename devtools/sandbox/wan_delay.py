"""The network lab's WAN delay where the kernel has no netem: a netfilter queue whose packets are held, then let go.

One delayer runs inside each node's namespace (`ip netns exec`), bound to the queue that the namespace's
OUTPUT rule sends the node's packets to its peer through (netlab.py). Each packet is held for a delay drawn
uniformly from [delay - jitter, delay + jitter] milliseconds, then accepted, as netem's `delay 80ms 20ms`
would: packets may overtake each other. Held packets carry only their metadata here (COPY_META): nothing of
the replication stream is copied into this process.

The rule has no `--queue-bypass`: while no delayer is bound, the kernel drops the queue's packets, so a dead
delayer turns the WAN into a cut link that the panel reports, never into a perfect one that looks like the
WAN fault passed. On SIGTERM every held packet is let go at once before the queue is unbound.

    ip netns exec NS python -m devtools.sandbox.wan_delay --queue 7 --delay-ms 80 --jitter-ms 20 --label NS
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import os
import random
import select
import signal
import sys
import time

QUEUE_LENGTH = 8192  # packets held at once; beyond it the kernel drops, as a full router queue would


def serve(queue: int, delay: float, jitter: float) -> None:
    """Holds the queue's packets until SIGTERM or SIGINT."""
    from netfilterqueue import COPY_META, NetfilterQueue

    held: list[tuple[float, int, object]] = []
    order = itertools.count()  # ties in due time keep arrival order; packets themselves do not compare

    def hold(packet) -> None:
        due = time.monotonic() + random.uniform(delay - jitter, delay + jitter)
        heapq.heappush(held, (due, next(order), packet))

    # A signal only writes to this pipe: the loop below wakes on it, so no packet is left without a verdict
    # by an exception raised half-way through a batch.
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    nfq = NetfilterQueue()
    nfq.bind(queue, hold, max_len=QUEUE_LENGTH, mode=COPY_META)
    fd = nfq.get_fd()
    os.set_blocking(fd, False)
    print(f"holding the packets of queue {queue} for {delay * 1000:.0f} ms ± {jitter * 1000:.0f} ms", flush=True)
    try:
        while True:
            timeout = max(0.0, held[0][0] - time.monotonic()) if held else None
            readable, _, _ = select.select([fd, wake_r], [], [], timeout)
            if wake_r in readable:
                break
            if fd in readable:
                nfq.run(block=False)
            now = time.monotonic()
            while held and held[0][0] <= now:
                heapq.heappop(held)[2].accept()
    finally:
        for _, _, packet in held:
            packet.accept()
        nfq.unbind()
    print(f"stopped; let {len(held)} held packet(s) go", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", type=int, required=True, help="the netfilter queue number to bind")
    parser.add_argument("--delay-ms", type=float, default=80.0)
    parser.add_argument("--jitter-ms", type=float, default=20.0)
    parser.add_argument("--label", default="", help="names the lab in the command line, for `ps` and stopping")
    args = parser.parse_args(argv)
    if args.jitter_ms < 0 or args.jitter_ms > args.delay_ms:
        parser.error("--jitter-ms must be between 0 and --delay-ms")
    try:
        serve(args.queue, args.delay_ms / 1000, args.jitter_ms / 1000)
    except ImportError:
        sys.exit("wan_delay needs NetfilterQueue: pip install -e '.[dev]' (and apt-get install "
                 "libnetfilter-queue-dev to build it)")
    except OSError as exc:
        sys.exit(f"wan_delay cannot bind queue {args.queue}: {exc} (it needs root and nfnetlink_queue)")


if __name__ == "__main__":
    main()
