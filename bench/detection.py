"""Detection benchmark: seconds from a real fault to the committed transition, and from heal to Alive.

Runs the real sandbox pair, a real Celery worker with beat on Redis, at the default settings, once
on the tuned sandbox and once on `sandbox up --untuned` (MariaDB's own 60 s timeouts).

    HAPANEL_DEVELOPMENT=1 .venv/bin/python bench/detection.py [--runs 10] [--faults crash-primary,...]

`--lab` runs the network lab instead (`sandbox up --hosts`: each node in a network namespace of its own):
faults of network paths, on a tuned and an untuned lab (`--only` picks one). Those that must change nothing
(panel-cut, panel-reject, wan) are held for `--hold` seconds each (LAB_HOLD tuned, LAB_HOLD_UNTUNED untuned)
and their false flips counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common import configure, pct, slot_port, start_worker, stop, wait

FAULTS = {
    # fault: (status kind that flips, cause expected)
    "crash-primary": ("ha", "primary-down"),
    "stop-primary": ("ha", "primary-down"),
    "break-replication": ("replication", "apply-error"),
    "cut-link": ("ha", "link-cut"),
    "hang-primary": ("ha", "primary-hung"),
}


# fault: (kind that flips, cause expected) or None when nothing may flip; node the fault acts on
LAB_FAULTS = {
    "host-down": (("ha", "primary-down"), "primary"),
    "panel-cut": (None, "primary"),
    "panel-reject": (None, "primary"),
    "partition": (("ha", "link-cut"), "primary"),
    "wan": (None, "primary"),
}
LAB_HOLD = 10.0
# Untuned (slave_net_timeout 60 s): held past the replica's own timeout, so whatever it would admit is seen.
LAB_HOLD_UNTUNED = 65.0


@contextmanager
def watched_pair(var: Path, folder: str, port: int, name: str, **sandbox: bool) -> Iterator[tuple]:
    """A fresh sandbox pair (what an interrupted run left is removed first), registered alone in the panel
    and polled by a real worker with beat; torn down on the way out. Yields (sandbox, pair, alive), where
    alive() says whether the pair is Alive/Alive now."""
    from devtools.registry import register
    from devtools.sandbox import SandboxPair
    from monitor.models import Pair

    port = slot_port(port)
    lab = SandboxPair(var / folder, port, **sandbox)
    if lab.state:
        lab.down()
        lab = SandboxPair(var / folder, port, **sandbox)
    lab.up()
    worker = None
    try:
        Pair.objects.all().delete()
        pair = register(lab, name=name)
        worker = start_worker(var)

        def alive() -> bool:
            return Pair.objects.filter(pk=pair.pk, ha_status="Alive", repl_status="Alive").exists()

        wait(alive, 60, "the pair to be Alive/Alive")
        yield lab, pair, alive
    finally:
        if worker is not None:
            stop(worker)
        lab.down()


def inject_at_random_phase(sandbox, pair, fault: str, **options: str) -> tuple[int, float]:
    """Injects `fault` at a random phase of the poll interval, as a real fault would come: (the last
    transition id before it, the time it was injected)."""
    from monitor.models import Transition

    last = Transition.objects.order_by("-id").values_list("id", flat=True).first() or 0
    time.sleep(random.uniform(0, pair.poll_interval))
    t0 = time.time()
    sandbox.fault(fault, **options)
    return last, t0


def first_failure(last: int, kind: str, fault: str, timeout: float):
    """The first transition of `kind` to Failed after transition `last`, awaited."""
    from monitor.models import Transition

    return wait(lambda: Transition.objects.filter(id__gt=last, kind=kind, new_status="Failed").first(), timeout,
                f"{fault} to be detected")


def heal_timed(sandbox, alive, fault: str, timeout: float) -> float:
    """Seconds from the heal to the pair Alive/Alive again."""
    t1 = time.time()
    sandbox.heal()
    wait(alive, timeout, f"Alive/Alive after healing {fault}")
    return time.time() - t1


def run_lab(faults: list[str], runs: int, var: Path, tuned: bool, hold: float | None) -> list[tuple]:
    from monitor.models import Transition

    rows = []
    hold = hold or (LAB_HOLD if tuned else LAB_HOLD_UNTUNED)
    folder, port = ("sandbox-lab", 3537) if tuned else ("sandbox-lab-untuned", 3547)
    with watched_pair(var, folder, port, "bench-lab", hosts=True, tuned=tuned) as (sandbox, pair, alive):
        for fault in faults:
            expect, node = LAB_FAULTS[fault]
            detect, recover, wrong, false_flips = [], [], [], 0
            for _ in range(runs):
                wait(alive, 120, "Alive/Alive before the fault")
                last, t0 = inject_at_random_phase(sandbox, pair, fault, node=node)
                if expect is not None:
                    kind, cause = expect
                    t = first_failure(last, kind, fault, 180)
                    detect.append(time.time() - t0)
                    if t.cause != cause:
                        wrong.append(t.cause)
                else:
                    time.sleep(hold)  # the hold is the measurement: flips within it are false
                    false_flips += Transition.objects.filter(id__gt=last, kind="ha").count()
                recover.append(heal_timed(sandbox, alive, fault, 180))
            cause = expect[1] if expect else "(no HA flip)"
            rows.append((fault, "lab tuned" if tuned else "lab untuned", runs, detect, recover, cause,
                         ",".join(sorted(set(wrong))) or "-", false_flips))
            print(_lab_row(rows[-1]), flush=True)
    return rows


def _lab_row(r) -> str:
    detect = f"{pct(r[3], 50):.2f} | {pct(r[3], 99):.2f}" if r[3] else "- | -"
    return (f"| {r[0]} | {r[1]} | {r[2]} | {detect} | {pct(r[4], 50):.2f} | {pct(r[4], 99):.2f} | {r[5]} | {r[6]} "
            f"| {r[7]} |")


def run(tuned: bool, faults: list[str], runs: int, var: Path) -> list[tuple]:
    rows = []
    folder, port = ("sandbox", 3517) if tuned else ("sandbox-untuned", 3527)
    with watched_pair(var, folder, port, "bench", tuned=tuned) as (sandbox, pair, alive):
        for fault in faults:
            kind, cause = FAULTS[fault]
            detect, recover, wrong = [], [], []
            for _ in range(runs):
                wait(alive, 120, "Alive/Alive before the fault")
                last, t0 = inject_at_random_phase(sandbox, pair, fault)
                t = first_failure(last, kind, fault, 180)
                detect.append(time.time() - t0)
                if t.cause != cause:
                    wrong.append(t.cause)
                recover.append(heal_timed(sandbox, alive, fault, 180))
            rows.append((fault, "tuned" if tuned else "untuned", len(detect), pct(detect, 50), pct(detect, 99),
                         pct(recover, 50), pct(recover, 99), cause, ",".join(sorted(set(wrong))) or "-"))
            print(_row(rows[-1]), flush=True)
    return rows


def _row(r) -> str:
    return (f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.2f} | {r[7]} | {r[8]} |")


def machine() -> str:
    """What the figures were measured on: cores, OS, kernel."""
    try:
        osname = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines()
                      if "=" in line).get("PRETTY_NAME", "").strip('"')
    except OSError:
        osname = platform.system()
    return f"{os.cpu_count()} cores, {osname}, kernel {platform.release()}"




def _tunings(only: str | None) -> list[bool]:
    """tuned=True/False for the pairs to measure: both unless --only names one."""
    return [tuned for tuned in (True, False) if not only or only == ("tuned" if tuned else "untuned")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--only", choices=["tuned", "untuned"])
    parser.add_argument("--lab", action="store_true", help="the network lab's faults: " + ", ".join(LAB_FAULTS))
    parser.add_argument("--hold", type=float, help=f"lab: seconds a fault that must change nothing is held (default "
                        f"{LAB_HOLD:g} tuned, {LAB_HOLD_UNTUNED:g} untuned)")
    args = parser.parse_args()
    if args.lab:
        faults = [f for f in (args.faults if args.faults != ",".join(FAULTS) else ",".join(LAB_FAULTS)).split(",")
                  if f]
        if unknown := [f for f in faults if f not in LAB_FAULTS]:
            parser.error(f"unknown lab fault(s) {', '.join(unknown)}: choose from {', '.join(LAB_FAULTS)}")
        var = configure("detection", fresh_redis=True, redis_db=12)
        print("| fault | pair | runs | detect p50 s | detect p99 s | heal→Alive p50 s | heal→Alive p99 s | cause "
              "| wrong causes | false HA flips |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for tuned in _tunings(args.only):
            run_lab(faults, args.runs, var, tuned, args.hold)
        print(f"(machine: {machine()})")
        return
    faults = [f for f in args.faults.split(",") if f]
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {', '.join(unknown)}: choose from {', '.join(FAULTS)}")
    var = configure("detection", fresh_redis=True, redis_db=12)
    print("| fault | pair | runs | detect p50 s | detect p99 s | heal→Alive p50 s | heal→Alive p99 s | cause "
          "| wrong causes |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tuned in _tunings(args.only):
        run(tuned, faults, args.runs, var)
    print(f"(machine: {machine()})")


if __name__ == "__main__":
    main()
