"""Shared set-up for the benchmarks: an own app database, Redis DB, queue and sandbox, a real worker."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


# HAPANEL_TEST_SLOT=N (as for the tests): the bench takes names, keys, a folder and sandbox ports of the slot's
# own, so benches and test runs of every slot go side by side. Its keys then live in Redis database 0 under
# their own prefix and queue: a test run empties its slot's database whenever it likes.
SLOT = os.environ.get("HAPANEL_TEST_SLOT")


def slot_port(port: int) -> int:
    """A bench's sandbox port; with a slot, moved to 4000 + 100 * slot (the network lab's /24 follows it)."""
    return port if SLOT is None else 4000 + 100 * int(SLOT) + port % 100


def configure(name: str, redis_db: int, fresh_redis: bool = False) -> Path:
    """Points this process (and the workers it starts) at a throwaway database of its own; fresh_redis empties
    what an earlier run of the same bench left in Redis, so nothing of it is due."""
    if SLOT is not None:
        name, redis_db = f"{name}-{SLOT}", 0
    var = ROOT / "var" / f"bench-{name}"
    var.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HAPANEL_DEVELOPMENT", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "hapanel.settings"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var / 'app.sqlite3'}")
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{redis_db}"
    os.environ["HAPANEL_QUEUE"] = f"hapanel-bench-{name}"
    os.environ["HAPANEL_CACHE_PREFIX"] = f"hapanel-bench-{name}"
    os.environ["LOG_LEVEL"] = "WARNING"
    _create_database(os.environ["DATABASE_URL"])
    if fresh_redis:
        _empty_redis(os.environ["REDIS_URL"], f"hapanel-bench-{name}")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var


def _empty_redis(url: str, name: str) -> None:
    """Without a slot the database is the bench's alone and is emptied; with one it is shared, so only the keys
    of this bench's queue and cache go."""
    import redis

    client = redis.Redis.from_url(url)
    if SLOT is None:
        client.flushdb()
        return
    for key in client.scan_iter(match=f"*{name}*", count=1000):
        client.delete(key)


def _create_database(url: str) -> None:
    """A PostgreSQL database named in DATABASE_URL is created when missing (a new machine has none)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.scheme.startswith("postg"):
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(url.replace(parts.path, "/postgres", 1), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def start_worker(var: Path, name: str = "bench", beat: bool = True, concurrency: int = 8,
                 extra: list[str] | None = None) -> subprocess.Popen:
    log = open(var / f"worker-{name}.log", "wb")  # noqa: SIM115
    cmd = [sys.executable, "-m", "celery", "-A", "hapanel", "worker", "--pool", "threads",
           "--concurrency", str(concurrency), "-n", f"{name}@%h", "-Q", os.environ["HAPANEL_QUEUE"],
           "-l", os.environ.get("BENCH_LOG", "warning"), "--without-gossip", "--without-mingle", *(extra or [])]
    if beat:
        cmd += ["-B", "--schedule", str(var / f"beat-{name}")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc


def stop(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def wait(condition, timeout: float, what: str, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
