"""Several workers and beats share the pairs: each pair polled once per interval, none lost with a worker."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from devtools.registry import register
from monitor import coordination
from monitor.models import Node, Pair
from monitor.scheduling import due_after
from tests.services import wait_for

PAIRS = 12


def _pairs(sandbox) -> list[int]:
    ids = []
    for i in range(PAIRS):
        pair = register(sandbox, name=f"fleet-{i:02d}")
        ids.append(pair.pk)
    return ids


def _poll_times(pair_id: int, since: float) -> list[float]:
    """Start times of the regular polls (rechecks, when a loaded machine times a node out, are extra)."""
    raw = coordination.redis().lrange(coordination.key("lag", pair_id), 0, -1)
    times = [float(s.split(":")[0]) for s in (r.decode() for r in raw) if s.endswith(":r")]
    return sorted(t for t in times if t >= since)


@pytest.mark.parametrize(("interval", "tick", "due"), [
    (1.0, 0.5, 0.9),  # short intervals: never twice within 0.9 of one
    (5.0, 0.5, 4.75),  # half a tick's wait on average makes the period the interval itself
    (60.0, 0.5, 59.75),
    (0.1, 0.5, 0.1),
])
def test_a_pair_is_due_again_about_one_interval_after_its_poll_started(interval, tick, due):
    assert due_after(interval, tick) == pytest.approx(due)


def test_two_workers_two_beats_poll_each_pair_once_per_interval(transactional_db, healthy, worker_factory):
    ids = _pairs(healthy)
    workers = [worker_factory("fleet-a", beat=True), worker_factory("fleet-b", beat=True)]
    wait_for(lambda: Pair.objects.filter(ha_status="Alive", repl_status="Alive").count() == PAIRS, 30,
             f"all {PAIRS} pairs Alive/Alive")
    start = time.time()
    wait_for(lambda: time.time() - start > 6, 10, "six intervals of polling", interval=0.5)
    for pair_id in ids:
        times = _poll_times(pair_id, start)
        assert len(times) >= 4, f"pair {pair_id} polled only {len(times)} times in 6 s"
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        # Two beats tick independently; the due-marker, set when a poll starts, lets one through per interval.
        assert min(gaps) > 0.85, f"pair {pair_id} polled twice within one interval: gaps {gaps}"

    workers[0].kill()  # lost mid-run, with whatever it had in flight
    killed_at = timezone.now()
    wait_for(lambda: Pair.objects.filter(last_checked__gt=killed_at).count() == PAIRS, 2 * 1.0 + 1.5,
             "every pair to be polled by the surviving worker within two intervals")
    assert Node.objects.filter(pair_id__in=ids).count() == 2 * PAIRS
