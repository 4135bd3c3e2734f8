"""Celery tasks: thin, take ids, idempotent; polls expire so a backlog is dropped, not replayed."""

from __future__ import annotations

import time
import uuid

from celery import shared_task
from celery.signals import worker_process_init, worker_ready
from celery.utils.log import get_task_logger
from django.conf import settings
from django.utils import timezone

from . import liveness, monitor
from . import record as recorder
from .models import Pair

log = get_task_logger(__name__)


def _request_poll(pair_id: int) -> None:
    """From the crash watcher: a kept connection was closed by the server, poll now."""
    poll_pair.apply_async((pair_id,), {"reason": "connection closed by the server"}, expires=2.0)


@worker_ready.connect
@worker_process_init.connect
def _start_watcher(**_kwargs) -> None:
    monitor.start_watcher(_request_poll)


@shared_task(ignore_result=True)
def dispatch() -> int:
    """Each beat tick: queue a poll for every pair that is due and not already queued.

    Two markers in Redis keep this idempotent: `due:<id>` is set by the poll itself when it starts
    (so a pair is polled at most once per interval, however late its task ran), `queued:<id>` by
    the dispatch that queued it (so a second beat, started by mistake, queues nothing more). A task
    lost with its worker frees its pair when `queued` expires, after one interval.
    """
    liveness.beat(time.time())
    # Sweep first: after a monitor outage the history then shows the blind gap (monitor-stale)
    # before the fresh polls bring the pairs back, instead of silently papering over it.
    sweep_stale()
    client = liveness.redis()
    queued = 0
    pairs = list(Pair.objects.values_list("id", "poll_interval"))
    due = client.mget([f"{liveness.PREFIX}due:{pair_id}" for pair_id, _ in pairs]) if pairs else []
    candidates = [(pair_id, interval) for (pair_id, interval), polled in zip(pairs, due, strict=True) if not polled]
    pipe = client.pipeline(transaction=False)
    for pair_id, interval in candidates:
        pipe.set(f"{liveness.PREFIX}queued:{pair_id}", 1, nx=True, px=max(100, int(interval * 1000)))
    for (pair_id, interval), fresh in zip(candidates, pipe.execute(), strict=True):
        if fresh:
            poll_pair.apply_async((pair_id,), {"regular": True}, expires=interval)
            queued += 1
    return queued


@shared_task(ignore_result=True)
def poll_pair(pair_id: int, reason: str = "", regular: bool = False) -> str:
    """One poll of one pair; skipped when another poll of it is in flight (any worker), or, for the
    regular polls queued by `dispatch`, when the pair was already polled in this interval."""
    client = liveness.redis()
    lock, token = f"{liveness.PREFIX}lock:{pair_id}", uuid.uuid4().hex
    pair = Pair.objects.filter(pk=pair_id).first()
    if pair is None:
        monitor.forget(pair_id)
        _unreachable_since.pop(pair_id, None)
        return "gone"
    if reason == "recheck":
        client.delete(f"{liveness.PREFIX}recheck:{pair_id}")
    if regular:
        pipe = client.pipeline(transaction=False)
        pipe.delete(f"{liveness.PREFIX}queued:{pair_id}")
        pipe.set(f"{liveness.PREFIX}due:{pair_id}", 1, nx=True, px=max(100, int(pair.poll_interval * 900)))
        if not pipe.execute()[1]:
            return "already polled in this interval"
    # A poll lasts at most a connect timeout plus a read timeout plus the heartbeat wait (about 1 s):
    # a worker lost mid-poll holds its pairs no longer than this.
    ttl_ms = int(max(pair.poll_interval, 2.0) * 1000)
    if not client.set(lock, token, nx=True, px=ttl_ms):
        return "busy"
    started = time.time()
    try:
        result = monitor.poll(pair)
    except BaseException:
        liveness.release(client, lock, token)
        raise
    liveness.finish_poll(client, lock, token, pair_id, started, result.health.lag, regular)
    if _unsettled(pair, result):
        # A quarter of the interval: 0.25 s at the default 1 s, and a slow pair stays cheap. One
        # pending recheck per pair at most: every poll asking for its own would multiply them.
        delay = max(settings.RECHECK_SECONDS, pair.poll_interval / 4)
        if client.set(f"{liveness.PREFIX}recheck:{pair_id}", 1, nx=True, px=int((delay + pair.poll_interval) * 1000)):
            poll_pair.apply_async((pair_id,), {"reason": "recheck"}, countdown=delay,
                                  expires=delay + pair.poll_interval)
    for t in result.transitions:
        log.info("pair %s: %s %s -> %s (%s)%s", pair.name, t.kind, t.old_status, t.new_status, t.cause,
                 f" [{reason}]" if reason else "")
    return f"{result.health.ha.status}/{result.health.replication.status}"


_unreachable_since: dict[int, float] = {}  # pair id -> when this process first saw a node unreachable


def _unsettled(pair: Pair, result: monitor.PollResult) -> bool:
    """A pair worth re-polling before its next tick: something is off, and recently.

    Recently: within RECHECK_WINDOW of the pair's last flip, or of the moment a node became
    unreachable while the pair still looked Alive (a hung primary only shows as Failed once the
    replica gives up, and rechecks are what see that moment).
    """
    readings, health = result.readings, result.health
    if pair.poll_interval > settings.RECHECK_MAX_INTERVAL:
        return False  # a slow pair's next tick is soon enough, and a mass failure stays cheap
    now = result.checked_at.timestamp()
    if any(r.reach != "ok" for r in (readings.primary, readings.secondary)):
        since = _unreachable_since.setdefault(pair.pk, now)
    else:
        _unreachable_since.pop(pair.pk, None)
        since = None
    if health.ha.status == "Alive" and health.replication.status == "Alive" and since is None:
        return False
    changes = [t.timestamp() for t in (pair.ha_since, pair.repl_since) if t]
    changes += [t.detected_at.timestamp() for t in result.transitions]
    if since is not None:
        changes.append(since)
    return not changes or now - max(changes) < settings.RECHECK_WINDOW


def sweep_stale() -> int:
    """Pairs without a recorded poll for longer than their staleness bound turn Unknown."""
    now = timezone.now()
    made = 0
    # Runs every tick: let the database drop every pair checked within the smallest bound.
    recent = timezone.timedelta(seconds=settings.STALE_MIN_SECONDS)
    candidates = Pair.objects.exclude(ha_status="Unknown", repl_status="Unknown").exclude(
        last_checked__gte=now - recent)
    for pair in candidates.only(
        "id", "poll_interval", "last_checked", "ha_status", "repl_status", "paused"
    ):
        bound = monitor.stale_after(pair)
        cutoff = now - timezone.timedelta(seconds=bound)
        if pair.last_checked is None or pair.last_checked < cutoff:
            reason = (f"no poll recorded for more than {bound:.0f} s: the monitor is not running "
                      "or cannot keep up")
            made += len(recorder.mark_stale(pair.pk, reason, now, cutoff))
    return made


@shared_task(ignore_result=True)
def notify_transitions(transition_ids: list[int]) -> None:
    """New transitions: one notification per routed channel, each delivered by its own task."""
    from .alerts.delivery import queue_for_transitions

    queue_for_transitions(transition_ids)
