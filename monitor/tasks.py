"""Celery tasks: thin, take ids, idempotent; polls expire so a backlog is dropped, not replayed."""

from __future__ import annotations

import time
import uuid

from celery import shared_task
from celery.signals import task_prerun, worker_process_init, worker_ready
from celery.utils.log import get_task_logger
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from monitor import poller as monitor
from monitor import record as recorder
from monitor import redis_keys as liveness
from monitor.freshness import stale_after
from monitor.models import Pair

log = get_task_logger(__name__)


# Every task is queued at settings.CELERY_TASK_DEFAULT_PRIORITY; the polls that confirm a suspected fault
# (the crash watcher's, rechecks) go first: Redis lists are read in priority order, 0 first.
URGENT_PRIORITY = 0
# The crash watcher's poll of a pair that is being polled asks again every BUSY_RETRY seconds, for URGENT_FOR
# seconds: the poll in flight may have read the server just before it died, and the batch holding the pair's
# lock can take a second or two. Given up, the crash waited for the next regular poll (5 s at a 5 s interval).
BUSY_RETRY = 0.1
URGENT_FOR = 3.0
URGENT_TOKEN = "urgent-"  # starts the lock token of an urgent poll


def _request_polls(pair_ids: list[int]) -> None:
    """From the crash watcher: kept connections were closed by the server, poll those pairs now."""
    _urgent(pair_ids, "connection closed by the server", time.time() + URGENT_FOR)


def _urgent(pair_ids: list[int], reason: str, until: float, countdown: float = 0.0) -> None:
    for chunk in _chunks(pair_ids):
        poll_pairs.apply_async((chunk,), {"reason": reason, "until": until}, countdown=countdown or None,
                               expires=max(0.1, until - time.time()), priority=URGENT_PRIORITY)


def _chunks(ids: list[int]) -> list[list[int]]:
    size = max(1, settings.POLL_BATCH)
    return [ids[i:i + size] for i in range(0, len(ids), size)]


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
    """Each beat tick: queue a poll for every pair that is due and not already queued, in batches.

    Two markers in Redis keep this idempotent: `due:<id>` is set by the poll itself when it starts
    (so a pair is polled at most once per interval, however late its task ran), `queued:<id>` by
    the dispatch that queued it (so a second beat, started by mistake, queues nothing more). A task
    lost with its worker frees its pairs when `queued` expires, after one interval.
    """
    liveness.beat(time.time())
    # Sweep first: after a monitor outage the history then shows the blind gap (monitor-stale)
    # before the fresh polls bring the pairs back, instead of silently papering over it.
    sweep_stale()
    client = liveness.redis()
    pairs = list(Pair.objects.values_list("id", "poll_interval"))
    due = client.mget([f"{liveness.PREFIX}due:{pair_id}" for pair_id, _ in pairs]) if pairs else []
    candidates = [(pair_id, interval) for (pair_id, interval), polled in zip(pairs, due, strict=True) if not polled]
    pipe = client.pipeline(transaction=False)
    for pair_id, interval in candidates:
        pipe.set(f"{liveness.PREFIX}queued:{pair_id}", 1, nx=True, px=max(100, int(interval * 1000)))
    by_interval: dict[float, list[int]] = {}
    for (pair_id, interval), fresh in zip(candidates, pipe.execute(), strict=True):
        if fresh:
            by_interval.setdefault(interval, []).append(pair_id)
    for interval, ids in by_interval.items():
        for chunk in _chunks(ids):
            poll_pairs.apply_async((chunk,), {"regular": True}, expires=interval)
    return sum(len(ids) for ids in by_interval.values())


@shared_task(ignore_result=True)
def poll_pair(pair_id: int, reason: str = "", regular: bool = False) -> str:
    """One poll of one pair, now (the crash watcher, rechecks); see `poll_pairs`."""
    return _poll([pair_id], reason, regular)[pair_id]


@shared_task(ignore_result=True)
def poll_pairs(pair_ids: list[int], reason: str = "", regular: bool = False, until: float = 0.0) -> dict[int, str]:
    """One poll of each pair, side by side. A pair is skipped when another poll of it is in flight (any
    worker), or, for the regular polls queued by `dispatch`, when it was already polled in this interval.
    An urgent poll (`until` set) of a pair in flight is asked again shortly, until `until`."""
    return _poll(pair_ids, reason, regular, until)


def _poll(pair_ids: list[int], reason: str, regular: bool, until: float = 0.0) -> dict[int, str]:
    client = liveness.redis()
    loaded = monitor.load(pair_ids)
    pairs = {pair_id: pair for pair_id, (pair, _) in loaded.items()}
    outcome = {pair_id: "gone" for pair_id in pair_ids if pair_id not in pairs}
    for pair_id in outcome:
        monitor.forget(pair_id)
        _unreachable_since.pop(pair_id, None)
    if reason == "recheck":
        client.delete(*(f"{liveness.PREFIX}recheck:{pair_id}" for pair_id in pair_ids))
    token = (URGENT_TOKEN if until else "") + uuid.uuid4().hex
    skipped = _claim(client, pairs, regular, token)
    outcome.update(skipped)
    busy = [pair_id for pair_id, why in skipped.items() if why == "busy"]
    if busy and time.time() + BUSY_RETRY < until:
        outcome.update(_ask_again(client, busy, reason, until))
    if not pairs:
        return outcome
    started = time.time()
    results: dict[int, monitor.PollResult] = {}
    try:
        results = monitor.poll_many([loaded[pair_id] for pair_id in pairs])
    finally:
        liveness.finish_polls(client, token, list(pairs), {i: r.health.lag for i, r in results.items()}, started,
                              regular)
    for pair_id, result in results.items():
        pair = pairs[pair_id]
        if _unsettled(pair, result):
            _recheck(client, pair)
        for t in result.transitions:
            log.info("pair %s: %s %s -> %s (%s)%s", pair.name, t.kind, t.old_status, t.new_status, t.cause,
                     f" [{reason}]" if reason else "")
        outcome[pair_id] = f"{result.health.ha.status}/{result.health.replication.status}"
    for pair_id in pairs.keys() - results.keys():
        outcome[pair_id] = "poll failed (see the log)"
    return outcome


def _ask_again(client, busy: list[int], reason: str, until: float) -> dict[int, str]:
    """Re-queues the urgent polls of pairs whose lock another poll holds, unless that poll is urgent too (both
    workers' watchers see a crash, and one urgent poll of a pair is enough)."""
    holders = client.mget([f"{liveness.PREFIX}lock:{pair_id}" for pair_id in busy])
    again = [pair_id for pair_id, holder in zip(busy, holders, strict=True)
             if not (holder or b"").startswith(URGENT_TOKEN.encode())]
    if again:
        _urgent(again, reason, until, countdown=BUSY_RETRY)
    return {pair_id: "busy: asked again" if pair_id in again else "busy: an urgent poll is in flight"
            for pair_id in busy}


def _claim(client, pairs: dict[int, Pair], regular: bool, token: str) -> dict[int, str]:
    """Takes each pair's lock (and, for a regular poll, its once-per-interval `due` marker) in two round
    trips; drops from `pairs` those it could not, and says why."""
    skipped = {}
    if regular and pairs:
        pipe = client.pipeline(transaction=False)
        for pair in pairs.values():
            pipe.delete(f"{liveness.PREFIX}queued:{pair.pk}")
            pipe.set(f"{liveness.PREFIX}due:{pair.pk}", 1, nx=True, px=int(1000 * due_after(pair.poll_interval)))
        for pair_id, ok in zip(list(pairs), pipe.execute()[1::2], strict=True):
            if not ok:
                skipped[pair_id] = "already polled in this interval"
                del pairs[pair_id]
    if pairs:
        # A poll lasts at most a connect timeout plus a read timeout plus the heartbeat wait (about 1 s):
        # a worker lost mid-poll holds its pairs no longer than this.
        pipe = client.pipeline(transaction=False)
        for pair in pairs.values():
            pipe.set(f"{liveness.PREFIX}lock:{pair.pk}", token, nx=True, px=int(max(pair.poll_interval, 2.0) * 1000))
        for pair_id, ok in zip(list(pairs), pipe.execute(), strict=True):
            if not ok:
                skipped[pair_id] = "busy"
                del pairs[pair_id]
    return skipped


def due_after(interval: float, tick: float | None = None) -> float:
    """Seconds from the start of a regular poll until the pair may be queued again.

    The dispatcher only looks every `tick`, so a pair waits half a tick on average after this: the marker
    lasts an interval less half a tick, and a pair is polled once per interval on average, not more often
    (a marker of 0.9 intervals polled 1,000 pairs at 5 s some 5% more often than asked, capacity that a
    loaded machine lacks). Never under 0.9 intervals, the promise of "once per interval" at short ones.
    """
    tick = settings.DISPATCH_TICK if tick is None else tick
    return max(0.1, 0.9 * interval, interval - tick / 2)


def _recheck(client, pair: Pair) -> None:
    # A quarter of the interval: 0.25 s at the default 1 s, and a slow pair stays cheap. One
    # pending recheck per pair at most: every poll asking for its own would multiply them.
    delay = max(settings.RECHECK_SECONDS, pair.poll_interval / 4)
    if client.set(f"{liveness.PREFIX}recheck:{pair.pk}", 1, nx=True, px=int((delay + pair.poll_interval) * 1000)):
        poll_pair.apply_async((pair.pk,), {"reason": "recheck"}, countdown=delay, expires=delay + pair.poll_interval,
                              priority=URGENT_PRIORITY)


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
    # Runs every tick: let the database drop every pair checked within the smallest bound.
    recent = timezone.timedelta(seconds=settings.STALE_MIN_SECONDS)
    candidates = Pair.objects.exclude(ha_status="Unknown", repl_status="Unknown").exclude(
        last_checked__gte=now - recent)
    stale = []
    for pair in candidates.only("id", "poll_interval", "last_checked"):
        bound = stale_after(pair.poll_interval)
        cutoff = now - timezone.timedelta(seconds=bound)
        if pair.last_checked is None or pair.last_checked < cutoff:
            stale.append((pair.pk, cutoff, f"no poll recorded for more than {bound:.0f} s: the monitor is not "
                                           "running or cannot keep up"))
    return len(recorder.mark_stale(stale, now))
