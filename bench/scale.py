"""Scale benchmark: N pairs polled every 5 s by the real beat and worker(s) on this machine.

Starts K sandbox pairs (real mariadbd), registers N pairs spread over them (each pair its own
connections, as with distinct servers), runs beat + workers, and samples for `--seconds`:
freshness (age of each pair's last reading: p50/p99/max), worker CPU per poll, worker memory,
the time to detect the crash of one pair's primary during the run (that pair has a sandbox of its own;
`--crash shared` crashes a sandbox shared by a quarter of the pairs instead), the flips to Failed that no
fault explains (a monitor that cannot keep up may take a late heartbeat for a cut link), the period
between a pair's regular polls (where a freshness tail comes from), and the warm-up: sampling starts once the
workers poll at the pairs' rate, and the seconds from their start to then are reported beside it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hapanel_bench HAPANEL_DEVELOPMENT=1 \
        .venv/bin/python bench/scale.py --pairs 100,500,1000,2000 [--sandboxes 4] [--crash one|shared] \
        [--workers 2 --concurrency 2]
"""

from __future__ import annotations

import argparse
import os
import time

from common import ROOT, configure, pct, start_worker, stop, wait


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = open(f"/proc/{p}/task/{p}/children").read().split()
        except OSError:
            children = []
        todo.extend(int(c) for c in children)
    return out


def cpu_rss(pid: int) -> tuple[float, float]:
    ticks, pages = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    cpu = rss = 0.0
    for p in _tree(pid):
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            rss += int(open(f"/proc/{p}/statm").read().split()[1]) * pages / 2**20
        except OSError:
            continue
    return cpu, rss


def victims(n: int, sandbox_count: int, own: bool) -> list[str]:
    """The pairs on the sandbox that is crashed: the last pair alone on a sandbox of its own (one pair
    crashed), or, with `--crash shared`, every pair of the last shared sandbox (a mass failure)."""
    if own:
        return [f"scale-{n - 1:04d}"]
    return [f"scale-{i:04d}" for i in range(sandbox_count - 1, n, sandbox_count)]


def register(sandboxes, n: int, interval: float, own: bool):
    from devtools.sandbox.pair import MONITOR_USER
    from monitor.models import Node, Pair

    Pair.all_objects.all().delete()
    pairs = []
    shared = sandboxes[:-1] if own else sandboxes
    for i in range(n):
        sb = sandboxes[-1] if own and i == n - 1 else shared[i % len(shared)]
        pair = Pair.objects.create(name=f"scale-{i:04d}", topology=Pair.BIDIRECTIONAL, poll_interval=interval)
        ca = sb.ca_file.read_text()
        for spec in sb.nodes():
            node = Node(pair=pair, role=spec.role, host="127.0.0.1", port=spec.port, monitor_user=MONITOR_USER,
                        tls_mode=Node.TLS_VERIFY_IDENTITY, ca_cert=ca)
            node.set_password(sb.monitor_password)
            node.save()
        pairs.append(pair)
    return pairs


def run(n: int, sandboxes, var, seconds: float, interval: float, workers: int, concurrency: int, own: bool) -> dict:
    from django.db import connection
    from django.utils import timezone

    from monitor.models import Pair

    register(sandboxes, n, interval, own)
    crashed = victims(n, len(sandboxes), own)
    vacuum(full=True)
    procs = [start_worker(var, name=f"scale{w}", beat=(w == 0), concurrency=concurrency) for w in range(workers)]
    launched = time.monotonic()
    try:
        wait(lambda: Pair.objects.filter(last_checked__isnull=False).count() == n, 60 + n / 20,
             f"all {n} pairs polled once", interval=0.5)
        warm_up = _settle(n / interval, launched)
        cpu0 = sum(cpu_rss(p.pid)[0] for p in procs)
        polls0 = _polls()
        ages: list[float] = []
        started = vacuumed = time.monotonic()
        crashed_at = detected = None
        victim = sandboxes[-1]
        victim_pair = Pair.objects.get(name=crashed[0])
        while time.monotonic() - started < seconds:
            now = timezone.now()
            ages.extend((now - t).total_seconds() for t in Pair.objects.values_list("last_checked", flat=True) if t)
            if crashed_at is None and time.monotonic() - started > seconds / 2:
                crashed_at = time.time()
                victim.fault("crash-primary")
            if crashed_at and detected is None and _failed_since(victim_pair, crashed_at):
                detected = time.time() - crashed_at
            if time.monotonic() - vacuumed > 10:
                vacuum()
                vacuumed = time.monotonic()
            time.sleep(1.0)
        if crashed_at and detected is None:
            wait(lambda: _failed_since(victim_pair, crashed_at), 30, "the crash to be detected")
            detected = time.time() - crashed_at
        cpu1, rss = (sum(x) for x in zip(*(cpu_rss(p.pid) for p in procs), strict=True))
        polls = _polls() - polls0
        false_flips = _false_flips(crashed, crashed_at)
        gaps = _gaps(list(Pair.objects.values_list("id", flat=True)), time.time() - seconds)
        victim.heal()
    finally:
        for p in procs:
            stop(p)
        connection.close()
    return {"n": n, "p50": pct(ages, 50), "p99": pct(ages, 99), "max": max(ages), "polls": polls,
            "cpu_ms": 1000 * (cpu1 - cpu0) / max(polls, 1), "rss": rss, "detect": detected,
            "polls_per_s": polls / seconds, "false": false_flips,
            "warm_up": warm_up, "gap50": pct(gaps, 50), "gap99": pct(gaps, 99),
            "gapmax": max(gaps, default=float("nan"))}


def _failed_since(pair, at: float) -> bool:
    """Whether the pair's HA status turned Failed after `at` (a false flip before the crash does not count)."""
    import datetime as dt

    from monitor.models import Transition

    return Transition.objects.filter(pair=pair, kind="ha", new_status="Failed",
                                     detected_at__gte=dt.datetime.fromtimestamp(at, dt.UTC)).exists()


def _false_flips(victims: list[str], crashed_at: float) -> int:
    """Flips to Failed that no fault explains, from the first poll on: on any pair before the crash, and after
    it on the pairs that were not crashed. A monitor that cannot keep up may call a late
    heartbeat a cut link; this counts it."""
    import datetime as dt

    from monitor.models import Transition

    crash = dt.datetime.fromtimestamp(crashed_at, dt.UTC)
    return Transition.objects.filter(new_status="Failed").exclude(
        pair__name__in=victims, detected_at__gte=crash).count()


def vacuum(full: bool = False) -> None:
    """On PostgreSQL, what autovacuum would do: this machine's server runs with autovacuum off, and a
    thousand pairs leave about 200 dead rows a second in the pair table, which then slows every query."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in ("status_pair", "status_node", "status_transition"):
            cursor.execute(f"VACUUM {'FULL ' if full else ''}ANALYZE {table}")


def _settle(demand: float, launched: float, window: float = 5.0, limit: float = 120.0) -> float | None:
    """Waits for the steady rhythm, and returns the seconds it took from the workers' start (None: not within
    `limit`). Each worker opens its own TLS connections to every node as it first polls a pair, so the first
    half minute at 1,000 pairs runs at about half speed; sampling from the first poll of every pair measured
    that start-up, not the steady state. The rhythm counts as steady once a `window` of polls reaches 90% of
    the pairs' demand."""
    while time.monotonic() - launched < limit:
        before = _polls()
        time.sleep(window)
        if (_polls() - before) / window >= 0.9 * demand:
            return time.monotonic() - launched
    return None


def _gaps(pair_ids: list[int], since: float) -> list[float]:
    """Seconds between the starts of consecutive regular polls of each pair, from the lag history in Redis:
    where the freshness tail comes from (a stretched period, or a missed turn)."""
    from monitor import coordination

    pipe = coordination.redis().pipeline(transaction=False)
    for pair_id in pair_ids:
        pipe.lrange(coordination.key("lag", pair_id), 0, -1)
    gaps = []
    for raw in pipe.execute():
        starts = sorted(float(s.split(b":")[0]) for s in raw if s.endswith(b":r"))
        starts = [t for t in starts if t >= since]
        gaps += [b - a for a, b in zip(starts, starts[1:], strict=False)]
    return gaps


def _polls() -> int:
    """Polls made so far, as the workers count them in Redis."""
    from monitor import coordination

    return int(coordination.redis().get(coordination.POLLS_KEY) or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="100,500,1000,2000")
    parser.add_argument("--sandboxes", type=int, default=4, help="sandbox pairs the pairs are spread over")
    parser.add_argument("--crash", choices=("one", "shared"), default="one",
                        help="crash one pair's own sandbox, or a shared one (a quarter of the pairs fail at once)")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (one core each, at most)")
    parser.add_argument("--concurrency", type=int, default=2, help="batch tasks each worker runs at once")
    args = parser.parse_args()
    try:
        sizes = [int(x) for x in args.pairs.split(",")]
    except ValueError:
        parser.error(f"--pairs takes whole numbers separated by commas, not {args.pairs!r}")
    var = configure("scale", redis_db=11)
    import redis

    from devtools.sandbox import SandboxPair

    redis.Redis.from_url("redis://127.0.0.1:6379/11").flushdb()
    sandboxes = []
    try:
        own = args.crash == "one"
        for k in range(args.sandboxes + own):
            sb = SandboxPair(var / f"sandbox-{k}", 3700 + 10 * k)
            if sb.state:
                sb.down()
                sb = SandboxPair(var / f"sandbox-{k}", 3700 + 10 * k)
            sb.up()
            sandboxes.append(sb)
        print(f"{len(sandboxes)} sandbox pairs up ({'one of them for the crashed pair alone' if own else 'shared'}); "
              f"interval {args.interval} s; {args.workers} worker(s) x "
              f"{args.concurrency} threads; sampling {args.seconds:.0f} s; {ROOT}")
        print("| pairs | polls/s | freshness p50 s | p99 s | max s | worker CPU ms/poll | worker RSS MiB "
              "| crash detected s | false Failed flips | poll period p50 / p99 / max s | warm-up s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for n in sizes:
            try:
                r = run(n, sandboxes, var, args.seconds, args.interval, args.workers, args.concurrency, own)
            except TimeoutError as exc:  # the machine could not keep up: a result too, say it and go on
                print(f"| {n} | - | did not hold: {exc} | | | | | | | | |", flush=True)
                continue
            warm = "not steady within 120 s" if r["warm_up"] is None else f"{r['warm_up']:.0f}"
            print(f"| {r['n']} | {r['polls_per_s']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.2f} "
                  f"| {r['cpu_ms']:.1f} | {r['rss']:.0f} | {r['detect']:.2f} | {r['false']} "
                  f"| {r['gap50']:.2f} / {r['gap99']:.2f} / {r['gapmax']:.2f} "
                  f"| {warm} |", flush=True)
    finally:
        for sb in sandboxes:
            sb.down()


if __name__ == "__main__":
    main()
