"""Server-side time of the status page, its live fragment and the API list with 10, 100 and 1,000 pairs.

Pairs and their recorded health/readings are written straight to a throwaway SQLite database under var/;
requests go through the whole Django stack (middleware, session auth, ORM, templates) with the test client,
so the figures are what the server spends, without the network.

    HAPANEL_DEVELOPMENT=1 .venv/bin/python bench/pages.py [--sizes 10,100,1000] [--runs 50]
"""

from __future__ import annotations

import argparse
import time

from common import ROOT, configure, median, pct


def measure(client, url: str, runs: int, before=None, headers: dict | None = None, status: int = 200
            ) -> list[float]:
    times = []
    for _ in range(runs + 3):  # three warm-up requests
        if before:
            before()
        t0 = time.perf_counter()
        response = client.get(url, headers=headers or {})
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == status, (url, response.status_code)
    return times[3:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    db = ROOT / "var" / "bench-pages" / "app.sqlite3"
    for path in (db, db.with_suffix(".sqlite3-wal"), db.with_suffix(".sqlite3-shm")):
        path.unlink(missing_ok=True)  # a fresh database each run
    # Its own Redis database: the fragment case flushes it (cache.clear), which must not hit the broker or the
    # liveness keys of another bench (scale uses 11) or of a test run (slots 0–5 use 15–10).
    configure("pages", redis_db=8)

    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.db.models import F
    from django.test import Client
    from django.utils import timezone

    from board import board_html
    from hapanel.roles import VIEWER, add_to_role
    from monitor.models import Pair
    from tests.factories import make_pairs

    user, _ = User.objects.get_or_create(username="bench-viewer")
    add_to_role(user, VIEWER)
    client = Client()
    client.force_login(user)
    def polled() -> None:
        """What the monitor does between two requests of a wall screen: every pair checked anew, its lag moved
        (by the database, outside the timed request)."""
        Pair.objects.update(last_checked=timezone.now(), lag=F("lag") + 0.001)

    def cold() -> None:
        cache.clear()
        board_html._kept.clear()

    rows = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        # Grow the set 10 → 100 → 1,000; the long interval keeps every pair fresh during the run.
        make_pairs(size - Pair.objects.count(), prefix=f"p{size}", poll_interval=600)
        etag = client.get("/board/")["ETag"]
        cases = [
            ("full page `/`", "/", None, None, 200),
            ("fragment `/board/`, unchanged (304)", "/board/", None, {"If-None-Match": etag}, 304),
            ("fragment, rendering cached", "/board/", None, None, 200),
            ("fragment, rendered: every pair polled since", "/board/", polled, None, 200),
            ("fragment, rendered from nothing: a new process, or all pairs flipped", "/board/", cold, None, 200),
            ("API `/api/v1/pairs`", "/api/v1/pairs", None, None, 200),
        ]
        for label, url, before, headers, status in cases:
            times = measure(client, url, args.runs, before, headers, status)
            rows.append((size, label, median(times), pct(times, 95)))
    print("| pairs | request | p50 ms | p95 ms |")
    print("|---:|---|---:|---:|")
    for size, label, p50, p95 in rows:
        print(f"| {size} | {label} | {p50:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
