"""Detection benchmark: seconds from a real fault to the committed transition, and from heal to Alive.

Runs the real sandbox pair, a real Celery worker with beat on Redis, at the default settings, once
on the tuned sandbox and once on `sandbox up --untuned` (MariaDB's own 60 s timeouts).

    HAPANEL_DEVELOPMENT=1 .venv/bin/python bench/detection.py [--runs 10] [--faults crash-primary,...]
"""

from __future__ import annotations

import argparse
import random
import time

from common import ROOT, configure, pct, start_worker, stop, wait

FAULTS = {
    # fault: (status kind that flips, cause expected)
    "crash-primary": ("ha", "primary-down"),
    "stop-primary": ("ha", "primary-down"),
    "break-replication": ("replication", "apply-error"),
    "cut-link": ("ha", "link-cut"),
    "hang-primary": ("ha", "primary-hung"),
}


def run(tuned: bool, faults: list[str], runs: int, var) -> list[tuple]:
    from devtools.registry import register
    from devtools.sandbox import SandboxPair
    from monitor.models import Pair, Transition

    sandbox = SandboxPair(var / ("sandbox" if tuned else "sandbox-untuned"), 3517 if tuned else 3527, tuned=tuned)
    if sandbox.state:
        sandbox.down()
        sandbox = SandboxPair(var / ("sandbox" if tuned else "sandbox-untuned"), 3517 if tuned else 3527,
                              tuned=tuned)
    sandbox.up()
    worker = None
    rows = []
    try:
        Pair.objects.all().delete()
        pair = register(sandbox, name="bench")
        worker = start_worker(var)
        def status_is(ha: str, repl: str):
            return lambda: Pair.objects.filter(pk=pair.pk, ha_status=ha, repl_status=repl).exists()

        wait(status_is("Alive", "Alive"), 60, "the pair to be Alive/Alive")
        for fault in faults:
            kind, cause = FAULTS[fault]
            detect, recover, wrong = [], [], []
            for _ in range(runs):
                wait(status_is("Alive", "Alive"), 120, "Alive/Alive before the fault")
                last = Transition.objects.order_by("-id").values_list("id", flat=True).first() or 0
                # A fault does not wait for the monitor's rhythm: inject at a random phase of the interval.
                time.sleep(random.uniform(0, pair.poll_interval))
                t0 = time.time()
                sandbox.fault(fault)
                t = wait(lambda: Transition.objects.filter(id__gt=last, kind=kind, new_status="Failed").first(),  # noqa: B023
                         180, f"{fault} to be detected")
                detect.append(time.time() - t0)
                if t.cause != cause:
                    wrong.append(t.cause)
                t1 = time.time()
                sandbox.heal()
                wait(status_is("Alive", "Alive"), 180, f"Alive/Alive after healing {fault}")
                recover.append(time.time() - t1)
            rows.append((fault, "tuned" if tuned else "untuned", len(detect), pct(detect, 50), pct(detect, 99),
                         pct(recover, 50), pct(recover, 99), cause, ",".join(sorted(set(wrong))) or "-"))
            print(_row(rows[-1]), flush=True)
    finally:
        if worker is not None:
            stop(worker)
        sandbox.down()
    return rows


def _row(r) -> str:
    return (f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.2f} | {r[7]} | {r[8]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--only", choices=["tuned", "untuned"])
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    var = configure("detection", redis_db=12)
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/12").flushdb()
    print("| fault | pair | runs | detect p50 s | detect p99 s | heal→Alive p50 s | heal→Alive p99 s | cause "
          "| wrong causes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tuned in (True, False):
        if args.only and args.only != ("tuned" if tuned else "untuned"):
            continue
        run(tuned, faults, args.runs, var)
    print(f"(machine: {ROOT})")


if __name__ == "__main__":
    main()
