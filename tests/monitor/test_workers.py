"""The monitor survives its own failures: two workers, a killed worker, a Redis outage."""

from __future__ import annotations

from monitor.models import Pair, Transition
from tests.services import wait_for
from tests.waiting import flips, wait_status


def test_two_workers_and_two_beats_record_each_flip_once(worker, worker_factory, sandbox_pair, healthy):
    worker_factory("second", beat=True)
    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    for _ in range(2):
        healthy.fault("crash-primary")
        wait_status(pid, "Failed", cause="primary-down")
        healthy.heal()
        wait_status(pid, "Alive", "Alive")
    assert [f[:2] for f in flips(pid, "ha")] == [("Unknown", "Alive")] + [("Alive", "Failed"),
                                                                          ("Failed", "Alive")] * 2
    assert [f[:2] for f in flips(pid, "replication")] == [("Unknown", "Alive")] + [
        ("Alive", "Unknown"), ("Unknown", "Alive")] * 2, list(
        Transition.objects.filter(pair_id=pid, kind="replication").values_list("cause", "summary", "detected_at"))


def test_killed_worker_shows_stale_then_recovers(worker, worker_factory, sandbox_pair, healthy):
    from monitor.freshness import stale_after

    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    worker.kill()
    pair = Pair.objects.get(pk=pid)
    bound = stale_after(pair.poll_interval)
    wait_for(lambda: _age(pid) > bound, bound + 5, "the last check to pass the staleness bound")
    worker_factory("replacement")
    wait_for(lambda: len(flips(pid, "ha")) >= 3 and flips(pid, "ha")[-1][:2] == ("Unknown", "Alive"), 30,
             "the replacement worker to record the gap and bring the pair back")
    # The blind gap is in the history: recorded by the replacement's first sweep, before its polls.
    assert [f for f in flips(pid, "ha")][-2:] == [("Alive", "Unknown", "monitor-stale"), ("Unknown", "Alive", "ok")]


def _age(pair_id: int) -> float:
    from django.utils import timezone

    last = Pair.objects.get(pk=pair_id).last_checked
    return (timezone.now() - last).total_seconds() if last else 0.0


def test_redis_outage_loses_and_duplicates_nothing(transactional_db, sandbox_pair, healthy, private_redis,
                                                   worker_factory):
    # Celery's Redis transport may exit on a broker restart (a known kombu bug class): workers run
    # under a supervisor in production (compose `restart:`, systemd Restart=always), so here too.
    worker_factory("redis-outage", supervised=True, env={"REDIS_URL": private_redis.url})
    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    private_redis.stop()
    healthy.fault("crash-primary")  # happens while the broker is down
    private_redis.start()
    wait_status(pid, "Failed", cause="primary-down", timeout=30)
    healthy.heal()
    wait_status(pid, "Alive", "Alive", timeout=30)
    ha = [f for f in flips(pid, "ha") if f[2] != "monitor-stale" and f[1] != "Unknown"]
    assert [f[:2] for f in ha] == [("Unknown", "Alive"), ("Alive", "Failed"), ("Failed", "Alive")]
