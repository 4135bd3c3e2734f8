"""When a pair is polled: due polls, claims so that one poll runs at a time, rechecks, staleness.

The Celery tasks in `monitor/tasks.py` are thin shells around this module; what it decides to queue it
returns to them (a recheck, an urgent poll asked again), so that it imports no task.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from monitor import coordination
from monitor import poller as monitor
from monitor import record as recorder
from monitor.freshness import stale_after
from monitor.models import Pair
from monitor.vocabulary import Status

# The crash watcher's poll of a pair that is being polled asks again every BUSY_RETRY seconds, for URGENT_FOR
# seconds: the poll in flight may have read the server just before it died, and the batch holding the pair's
# lock can take a second or two. Given up, the crash waited for the next regular poll (5 s at a 5 s interval).
BUSY_RETRY = 0.1
URGENT_FOR = 3.0
URGENT_TOKEN = "urgent-"  # starts the lock token of an urgent poll


def chunks(ids: list[int]) -> list[list[int]]:
    size = max(1, settings.POLL_BATCH)
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def due_pairs() -> dict[float, list[int]]:
    """The pairs to queue at this tick, by poll interval, each marked queued so that no other dispatch
    queues it again.

    Two markers keep this idempotent: `due` is set by the poll itself when it starts (so a pair is polled
    at most once per interval, however late its task ran), `queued` by the dispatch that queued it (so a
    second beat, started by mistake, queues nothing more).
    """
    pairs = list(Pair.objects.values_list("id", "poll_interval"))
    free = coordination.unpolled([pair_id for pair_id, _ in pairs])
    candidates = [p for p, unpolled in zip(pairs, free, strict=True) if unpolled]
    by_interval: dict[float, list[int]] = {}
    for (pair_id, interval), fresh in zip(candidates, coordination.mark_queued(candidates), strict=True):
        if fresh:
            by_interval.setdefault(interval, []).append(pair_id)
    return by_interval


def due_after(interval: float, tick: float | None = None) -> float:
    """Seconds from the start of a regular poll until the pair may be queued again.

    The dispatcher only looks every `tick`, so a pair waits half a tick on average after this: the marker
    lasts an interval less half a tick, and a pair is polled once per interval on average, not more often
    (a marker of 0.9 intervals polled 1,000 pairs at 5 s some 5% more often than asked, capacity that a
    loaded machine lacks). Never under 0.9 intervals, the promise of "once per interval" at short ones.
    """
    tick = settings.DISPATCH_TICK if tick is None else tick
    return max(0.1, 0.9 * interval, interval - tick / 2)


@dataclass
class BatchOutcome:
    """What one batch of polls did, per pair, and what the task is to queue next."""

    outcome: dict[int, str] = field(default_factory=dict)
    ask_again: list[int] = field(default_factory=list)  # urgent polls of pairs another poll holds
    rechecks: list[tuple[int, float, float]] = field(default_factory=list)  # (pair id, countdown, expires)
    flips: list[tuple[str, object]] = field(default_factory=list)  # (pair name, transition), for the log


def poll_batch(pair_ids: list[int], reason: str, regular: bool, until: float = 0.0) -> BatchOutcome:
    """One poll of each pair, side by side. A pair is skipped when another poll of it is in flight (any
    worker), or, for a regular poll, when it was already polled in this interval."""
    done = BatchOutcome()
    loaded = monitor.load(pair_ids)
    pairs = {pair_id: pair for pair_id, (pair, _) in loaded.items()}
    done.outcome = {pair_id: "gone" for pair_id in pair_ids if pair_id not in pairs}
    for pair_id in done.outcome:
        monitor.forget(pair_id)
        _unreachable_since.pop(pair_id, None)
    if reason == "recheck":
        coordination.clear_rechecks(pair_ids)
    token = (URGENT_TOKEN if until else "") + uuid.uuid4().hex
    skipped = _claim(pairs, regular, token)
    done.outcome.update(skipped)
    busy = [pair_id for pair_id, why in skipped.items() if why == "busy"]
    if busy and time.time() + BUSY_RETRY < until:
        done.outcome.update(_ask_again(busy, done))
    if not pairs:
        return done
    started = time.time()
    results: dict[int, monitor.PollResult] = {}
    try:
        results = monitor.poll_many([loaded[pair_id] for pair_id in pairs])
    finally:
        coordination.finish_polls(coordination.redis(), token, list(pairs),
                                  {i: r.health.lag for i, r in results.items()}, started, regular)
    for pair_id, result in results.items():
        pair = pairs[pair_id]
        if _unsettled(pair, result):
            _recheck(pair, done)
        done.flips += [(pair.name, t) for t in result.transitions]
        done.outcome[pair_id] = f"{result.health.ha.status}/{result.health.replication.status}"
    for pair_id in pairs.keys() - results.keys():
        done.outcome[pair_id] = "poll failed (see the log)"
    return done


def _ask_again(busy: list[int], done: BatchOutcome) -> dict[int, str]:
    """The urgent polls of pairs whose lock another poll holds are asked again, unless that poll is urgent
    too (both workers' watchers see a crash, and one urgent poll of a pair is enough)."""
    holders = coordination.lock_holders(busy)
    done.ask_again = [pair_id for pair_id, holder in zip(busy, holders, strict=True)
                      if not (holder or b"").startswith(URGENT_TOKEN.encode())]
    return {pair_id: "busy: asked again" if pair_id in done.ask_again else "busy: an urgent poll is in flight"
            for pair_id in busy}


def _claim(pairs: dict[int, Pair], regular: bool, token: str) -> dict[int, str]:
    """Takes each pair's lock (and, for a regular poll, its once-per-interval `due` marker); drops from
    `pairs` those it could not, and says why."""
    skipped = {}
    if regular and pairs:
        claims = coordination.claim_due([(p.pk, due_after(p.poll_interval)) for p in pairs.values()])
        for pair_id, ok in zip(list(pairs), claims, strict=True):
            if not ok:
                skipped[pair_id] = "already polled in this interval"
                del pairs[pair_id]
    if pairs:
        # A poll lasts at most a connect timeout plus a read timeout plus the heartbeat wait (about 1 s).
        locks = coordination.take_locks([(p.pk, max(p.poll_interval, 2.0)) for p in pairs.values()], token)
        for pair_id, ok in zip(list(pairs), locks, strict=True):
            if not ok:
                skipped[pair_id] = "busy"
                del pairs[pair_id]
    return skipped


def _recheck(pair: Pair, done: BatchOutcome) -> None:
    # A quarter of the interval: 0.25 s at the default 1 s, and a slow pair stays cheap. One
    # pending recheck per pair at most: every poll asking for its own would multiply them.
    delay = max(settings.RECHECK_SECONDS, pair.poll_interval / 4)
    if coordination.mark_recheck(pair.pk, delay + pair.poll_interval):
        done.rechecks.append((pair.pk, delay, delay + pair.poll_interval))


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
    if health.ha.status == Status.ALIVE and health.replication.status == Status.ALIVE and since is None:
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
    candidates = Pair.objects.exclude(ha_status=Status.UNKNOWN, repl_status=Status.UNKNOWN).exclude(
        last_checked__gte=now - recent)
    stale = []
    for pair in candidates.only("id", "poll_interval", "last_checked"):
        bound = stale_after(pair.poll_interval)
        cutoff = now - timezone.timedelta(seconds=bound)
        if pair.last_checked is None or pair.last_checked < cutoff:
            stale.append((pair.pk, cutoff, f"no poll recorded for more than {bound:.0f} s: the monitor is not "
                                           "running or cannot keep up"))
    return len(recorder.mark_stale(stale, now))
