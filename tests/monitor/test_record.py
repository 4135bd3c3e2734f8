"""Recording: a real flip makes exactly one Transition, whatever the concurrency or lateness."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from monitor import record
from monitor.models import Pair, Transition
from monitor.readings import PairHealth, Verdict
from monitor.scheduling import sweep_stale
from monitor.vocabulary import Status

ALIVE = Verdict(Status.ALIVE, "ok", "fine")
FAILED = Verdict(Status.FAILED, "primary-down", "The primary is down", "restart it", {"reach": "refused"})


def health(ha: Verdict, repl: Verdict = ALIVE) -> PairHealth:
    return PairHealth(ha=ha, replication=repl)


@pytest.fixture
def pair(transactional_db):
    p = Pair.objects.create(name="p1", ha_status="Alive", repl_status="Alive",
                            last_checked=timezone.now() - dt.timedelta(seconds=1))
    return p


def test_a_flip_writes_one_transition_with_cause_and_evidence(pair):
    now = timezone.now()
    [t] = record.record(pair.pk, health(FAILED), now)
    assert (t.kind, t.old_status, t.new_status, t.cause) == ("ha", "Alive", "Failed", "primary-down")
    assert t.evidence == {"reach": "refused"} and t.detected_at == now
    pair.refresh_from_db()
    assert (pair.ha_status, pair.ha_cause, pair.ha_since) == ("Failed", "primary-down", now)
    assert record.record(pair.pk, health(FAILED), now + dt.timedelta(seconds=1)) == []


def test_two_workers_recording_the_same_flip_make_one_transition(pair):
    now = timezone.now()
    barrier = threading.Barrier(4)
    results = []

    def worker(offset: int):
        from django.db import connection

        barrier.wait()
        try:
            results.append(record.record(pair.pk, health(FAILED), now + dt.timedelta(milliseconds=offset)))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(len(r) for r in results) == 1
    assert Transition.objects.filter(pair=pair).count() == 1


def test_a_late_older_poll_does_not_flip_back(pair):
    t1 = timezone.now()
    record.record(pair.pk, health(FAILED), t1)
    assert record.record(pair.pk, health(ALIVE), t1 - dt.timedelta(milliseconds=300)) == []
    pair.refresh_from_db()
    assert pair.ha_status == "Failed" and pair.last_checked == t1


def test_sweep_marks_a_pair_without_polls_unknown_once(pair):
    Pair.objects.filter(pk=pair.pk).update(last_checked=timezone.now() - dt.timedelta(seconds=60))
    assert sweep_stale() == 2  # both statuses
    assert sweep_stale() == 0
    pair.refresh_from_db()
    assert (pair.ha_status, pair.ha_cause, pair.repl_status) == ("Unknown", "monitor-stale", "Unknown")
    assert "no poll recorded" in Transition.objects.filter(pair=pair).first().summary
