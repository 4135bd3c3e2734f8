"""Soak benchmark: a pair on a lossy WAN for minutes must flip nothing, and a link cut on top must still show fast.

Runs the network lab (`sandbox up --hosts`: each node in a network namespace of its own) with a real worker
and beat at the default settings (1 s interval). First the lab's `wan` fault stays on for `--minutes`: every
recorded flip of either status is a false alarm (target 0). Then, with the WAN still lossy, `cut-link` drops
the nodes' packets to each other, `--cuts` times at a random phase of the interval: seconds to the committed
HA `Failed` transition (target ≤ 2 s p99). The WAN is delayed 80 ms ± 20 ms each way by netem, or where the
kernel has none by the lab's NFQUEUE delayers; the table says which, with the round trip measured between the
nodes (TCP connects from the primary's namespace to the secondary's server).

    HAPANEL_TEST_SLOT=N HAPANEL_DEVELOPMENT=1 .venv/bin/python bench/soak.py [--minutes 20] [--cuts 3]
"""

from __future__ import annotations

import argparse
import time

from common import configure, pct, wait
from detection import first_failure, heal_timed, inject_at_random_phase, machine, watched_pair

SAMPLE = 0.5  # seconds between two looks at the pair's row during the soak; a poll is 1 s


def soak(sandbox, pair, minutes: float) -> dict:
    """Holds the `wan` fault for `minutes`, watching the pair's row; what it saw."""
    from django.utils import timezone

    from monitor.models import Pair, Transition

    last = Transition.objects.order_by("-id").values_list("id", flat=True).first() or 0
    did = sandbox.fault("wan")
    print(f"wan: {did}", flush=True)
    round_trips = sandbox.lab.connect_seconds("primary", sandbox.lab.ip("secondary"), sandbox.secondary.port, 20)
    lags: list[float] = []
    oldest_reading = 0.0
    warnings: set[str] = set()
    end = time.monotonic() + minutes * 60
    # The soak's length is the measurement: the row is read every SAMPLE seconds until it is over.
    while time.monotonic() < end:
        row = Pair.objects.get(pk=pair.pk)
        if row.lag is not None:
            lags.append(row.lag)
        if row.last_checked is not None:
            oldest_reading = max(oldest_reading, (timezone.now() - row.last_checked).total_seconds())
        warnings.update(row.warnings)
        time.sleep(SAMPLE)
    flips = list(Transition.objects.filter(pair=pair, id__gt=last).values_list("kind", "old_status", "new_status",
                                                                               "cause"))
    return {"flips": flips, "lags": lags, "oldest_reading": oldest_reading, "warnings": sorted(warnings),
            "round_trips": round_trips, "delay_by": "netem" if "by tc netem" in did else "NFQUEUE delayer"}


def cuts_on_wan(sandbox, pair, alive, runs: int) -> tuple[list[float], list[float], list[str]]:
    """`cut-link` on top of the lossy WAN, `runs` times: detection and heal seconds, and the causes named."""
    detect, recover, causes = [], [], []
    for n in range(runs):
        if n:  # the heal undid every fault: the WAN is lossy again before the next cut
            wait(alive, 120, "Alive/Alive before the next cut")
            sandbox.fault("wan")
        last, t0 = inject_at_random_phase(sandbox, pair, "cut-link")
        t = first_failure(last, "ha", "cut-link on the lossy WAN", 60)
        detect.append(time.time() - t0)
        causes.append(t.cause)
        recover.append(heal_timed(sandbox, alive, "cut-link", 120))
    return detect, recover, causes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="how long the WAN stays lossy (default 20)")
    parser.add_argument("--cuts", type=int, default=3, help="link cuts on the lossy WAN (default 3)")
    args = parser.parse_args()
    var = configure("soak", fresh_redis=True, redis_db=5)
    with watched_pair(var, "sandbox-soak", 3557, "bench-soak", hosts=True) as (sandbox, pair, alive):
        seen = soak(sandbox, pair, args.minutes)
        detect, recover, causes = cuts_on_wan(sandbox, pair, alive, args.cuts)
    lags = seen["lags"]
    print()
    rtt = [t * 1000 for t in seen["round_trips"]]
    print()
    print("| phase | length | delay by | node round trip min / p50 ms | flips (HA + replication) "
          "| heartbeat lag p50 s | lag max s | oldest reading s |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| `wan` soak | {args.minutes:g} min | {seen['delay_by']} | {min(rtt):.0f} / {pct(rtt, 50):.0f} | "
          f"{len(seen['flips'])} | {pct(lags, 50):.2f} | {max(lags, default=float('nan')):.2f} | "
          f"{seen['oldest_reading']:.2f} |")
    print()
    print("| fault | runs | detect p50 s | detect p99 s | detect max s | heal→Alive p50 s | heal→Alive max s "
          "| causes |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| `cut-link` on `wan` | {len(detect)} | {pct(detect, 50):.2f} | {pct(detect, 99):.2f} | "
          f"{max(detect):.2f} | {pct(recover, 50):.2f} | {max(recover):.2f} | {', '.join(sorted(set(causes)))} |")
    for flip in seen["flips"]:
        print(f"flip during the soak: {flip}")
    for warning in seen["warnings"]:
        print(f"warning during the soak: {warning}")
    print(f"(machine: {machine()})")


if __name__ == "__main__":
    main()
