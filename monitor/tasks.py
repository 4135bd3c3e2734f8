"""Celery tasks: thin shells around `monitor.scheduling`; they take ids, are idempotent, and polls expire
so that a backlog is dropped, not replayed."""

from __future__ import annotations

import time

from celery import shared_task
from celery.signals import task_prerun, worker_process_init, worker_ready
from celery.utils.log import get_task_logger
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from monitor import checkups, coordination, deadman, scheduling
from monitor import poller as monitor

log = get_task_logger(__name__)

# Every task is queued at settings.CELERY_TASK_DEFAULT_PRIORITY; the polls that confirm a suspected fault
# (the crash watcher's, rechecks) go first: Redis lists are read in priority order, 0 first.
URGENT_PRIORITY = 0


def _request_polls(pair_ids: list[int]) -> None:
    """From the crash watcher: kept connections were closed by the server, poll those pairs now."""
    _urgent(pair_ids, "connection closed by the server", time.time() + scheduling.URGENT_FOR)


def _urgent(pair_ids: list[int], reason: str, until: float, countdown: float = 0.0) -> None:
    for chunk in scheduling.chunks(pair_ids):
        poll_pairs.apply_async((chunk,), {"reason": reason, "until": until}, countdown=countdown or None,
                               expires=max(0.1, until - time.time()), priority=URGENT_PRIORITY)


@worker_ready.connect
@worker_process_init.connect
def _start_watcher(**_kwargs) -> None:
    monitor.start_watcher(_request_polls)


@task_prerun.connect
def _fresh_database(**_kwargs) -> None:
    """Connections are kept across tasks (settings.CELERY_DB_REUSE_MAX); drop old or broken ones."""
    close_old_connections()


@shared_task(ignore_result=True)
def dispatch() -> int:
    """Each beat tick: queue a poll for every pair that is due and not already queued, in batches."""
    coordination.beat(time.time())
    # Sweep first: after a monitor outage the history then shows the blind gap (monitor-stale)
    # before the fresh polls bring the pairs back, instead of silently papering over it.
    scheduling.sweep_stale()
    by_interval = scheduling.due_pairs()
    for interval, ids in by_interval.items():
        for chunk in scheduling.chunks(ids):
            poll_pairs.apply_async((chunk,), {"regular": True}, expires=interval)
    return sum(len(ids) for ids in by_interval.values())


@shared_task(ignore_result=True)
def ping_deadman() -> str:
    """Beat: tells the outside dead man's switch (HAPANEL_DEADMAN_URL) that the monitor runs; silent when
    it does not, which is the point."""
    if not settings.DEADMAN_URL:
        return "off"
    state = coordination.monitor_state()
    if not state["ok"]:
        return f"not pinged: {state['reason']}"
    outcome = deadman.ping(settings.DEADMAN_URL, settings.ALERTS_TIMEOUT, "hapanel monitor running")
    if outcome != "ok":
        log.warning("dead man's switch: %s", outcome)
    return outcome


@shared_task(ignore_result=True)
def poll_pair(pair_id: int, reason: str = "", regular: bool = False) -> str:
    """One poll of one pair, now (rechecks); see `poll_pairs`."""
    return _poll([pair_id], reason, regular)[pair_id]


@shared_task(ignore_result=True)
def poll_pairs(pair_ids: list[int], reason: str = "", regular: bool = False, until: float = 0.0) -> dict[int, str]:
    """One poll of each pair, side by side (see `scheduling.poll_batch`). An urgent poll (`until` set) of a
    pair in flight is asked again shortly, until `until`."""
    return _poll(pair_ids, reason, regular, until)


def _poll(pair_ids: list[int], reason: str, regular: bool, until: float = 0.0) -> dict[int, str]:
    done = scheduling.poll_batch(pair_ids, reason, regular, until)
    if done.ask_again:
        _urgent(done.ask_again, reason, until, countdown=scheduling.BUSY_RETRY)
    for pair_id, countdown, expires in done.rechecks:
        poll_pair.apply_async((pair_id,), {"reason": "recheck"}, countdown=countdown, expires=expires,
                              priority=URGENT_PRIORITY)
    for name, t in done.flips:
        log.info("pair %s: %s %s -> %s (%s)%s", name, t.kind, t.old_status, t.new_status, t.cause,
                 f" [{reason}]" if reason else "")
    return done.outcome


# Checkups wait behind every poll: Redis lists are read in priority order, and a poll must never queue behind one.
CHECKUP_PRIORITY = 8


@shared_task(ignore_result=True)
def dispatch_checkups() -> int:
    """Beat, every CHECKUP_TICK seconds (5): a checkup task for each pair whose last checkup is older than
    HAPANEL_CHECKUP_SECONDS, a tick's share at a time. Each expires with the tick: a late one is worthless, the
    next tick queues the pair again."""
    ids = checkups.due(timezone.now(), settings.CHECKUP_SECONDS, settings.CHECKUP_TICK)
    for pair_id in ids:
        checkup_pair.apply_async((pair_id,), expires=settings.CHECKUP_TICK, priority=CHECKUP_PRIORITY)
    return len(ids)


@shared_task(ignore_result=True)
def checkup_pair(pair_id: int) -> str:
    """The warnings before failures of one pair (monitor.checkups): idempotent, a late one is dropped."""
    return checkups.checkup(pair_id)
