"""Alert latency: from the committed transition to each real receiver having the message.

Runs a real Celery worker (threads pool, Redis broker) and the test receivers on loopback; commits 20
flips one after the other, the way monitor.record does (the alert task is queued by an on-commit hook),
and times each channel. Target: p99 <= 1 s per channel.

    HAPANEL_TEST_SLOT=3 .venv/bin/python bench/alerts.py [--flips 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench-alerts.sqlite3'}")
os.environ["HAPANEL_ALERTS_FLAP_FLIPS"] = "1000"  # 20 flips in a row are the point here, not flapping

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import pct  # noqa: E402
from monitor.models import Pair, Transition  # noqa: E402
from monitor.record import announce  # noqa: E402
from tests.receivers import (  # noqa: E402
    HttpReceiver,
    Receivers,
    SmtpReceiver,
    SyslogReceiver,
    TrapReceiver,
    channels_for,
    start_worker,
)
from tests.services import ensure_redis, wait_for  # noqa: E402


def flip(pair: Pair, i: int) -> float:
    """Commits one transition; returns the commit time (taken in the on-commit hook, as record.py queues)."""
    old, new = ("Alive", "Failed") if i % 2 == 0 else ("Failed", "Alive")
    committed: list[float] = []
    with transaction.atomic():
        t = Transition.objects.create(pair=pair, kind="ha", old_status=old, new_status=new,
                                      cause="link-cut" if new == "Failed" else "ok", summary=f"bench-flip-{i:02d}.",
                                      detected_at=timezone.now())
        transaction.on_commit(lambda: committed.append(time.time()))
        transaction.on_commit(lambda: announce([t.pk]))
    return committed[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=20)
    args = parser.parse_args()
    from django.conf import settings

    ensure_redis(settings.REDIS_URL)
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    call_command("migrate", verbosity=0)
    for model in ("Notification", "Channel", "FlapEpisode"):
        from alerts import models as m

        getattr(m, model).objects.all().delete()
    Transition.objects.all().delete()
    Pair.objects.filter(name="bench").delete()
    pair = Pair.objects.create(name="bench", ha_status="Alive", repl_status="Alive")

    work = settings.TEST_OUTPUT / "bench"
    with (SmtpReceiver() as smtp, HttpReceiver() as http, SyslogReceiver() as syslog,
          TrapReceiver(work) as traps):
        r = Receivers(smtp, http, syslog, traps)
        channels_for(r)
        worker = start_worker(r, "bench-alerts", beat=False)
        try:
            sinks = {
                "email": lambda tag: smtp.messages(tag),
                "snmp trap (v2c)": lambda tag: traps.messages(tag),
                "syslog udp": lambda tag: [m for m in syslog.messages(tag) if m.headers["transport"] == "udp"],
                "syslog tcp": lambda tag: [m for m in syslog.messages(tag) if m.headers["transport"] == "tcp"],
                "webhook": lambda tag: http.messages(tag),
            }
            latencies: dict[str, list[float]] = {name: [] for name in sinks}
            for i in range(args.flips + 1):  # flip 0 warms the worker up (imports, first connections)
                tag = f"bench-flip-{i:02d}."
                committed = flip(pair, i)
                for name, got in sinks.items():
                    arrived = wait_for(lambda got=got, tag=tag: got(tag), 20, f"{name} to receive {tag}",
                                       interval=0.002)
                    if i:
                        latencies[name].append(arrived[0].at - committed)
        finally:
            worker.stop()

    print(f"\nAlert latency, commit of the transition → message at the receiver, {args.flips} flips, loopback\n")
    print("| channel | p50 (ms) | p99 (ms) | max (ms) |")
    print("|---|---:|---:|---:|")
    for name, values in latencies.items():
        print(f"| {name} | {statistics.median(values) * 1000:.0f} | {pct(values, 99) * 1000:.0f} "
              f"| {max(values) * 1000:.0f} |")


if __name__ == "__main__":
    main()
