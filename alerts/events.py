"""Which alert event a transition is, if any: the rules an operator would expect, in one place."""

from __future__ import annotations

from alerts.models import (
    HA_ALIVE,
    HA_FAILED,
    MONITOR_RECOVERED,
    MONITOR_STALE,
    REPL_ALIVE,
    REPL_FAILED,
    SIGHT_BACK,
    SIGHT_LOST,
    WARNING_CLEARED,
    WARNING_RAISED,
)
from monitor.models import PairRisk, Transition
from monitor.vocabulary import Cause, Status

FAILED = {Transition.HA: HA_FAILED, Transition.REPLICATION: REPL_FAILED}
ALIVE = {Transition.HA: HA_ALIVE, Transition.REPLICATION: REPL_ALIVE}


def event_for(t: Transition) -> str | None:
    """The event of one flip, or None when it tells the operator nothing new.

    Unknown is not a failure but losing sight is news: a flip to Unknown is `monitor-stale` when the monitor
    itself stopped, else `sight-lost` (with the reason); the way back is `monitor-recovered` or `sight-back`,
    or the Alive that ends a Failed that was alerted. The first verdict after a pair is added (Unknown → Alive)
    stays quiet.
    """
    if t.new_status == Status.FAILED:
        return FAILED[t.kind]
    if t.new_status == Status.UNKNOWN:
        if t.cause == Cause.MONITOR_STALE:
            return MONITOR_STALE
        return SIGHT_LOST if _sight_news(t) else None
    if t.old_status == Status.FAILED:
        return ALIVE[t.kind]
    earlier = Transition.objects.filter(pair_id=t.pair_id, kind=t.kind, pk__lt=t.pk).order_by("-id")
    into_unknown = earlier.first()
    if t.old_status == Status.UNKNOWN and into_unknown is not None and into_unknown.cause == Cause.MONITOR_STALE:
        return MONITOR_RECOVERED
    last_known = earlier.exclude(new_status=Status.UNKNOWN).values_list("new_status", flat=True).first()
    if last_known == Status.FAILED:
        return ALIVE[t.kind]
    if t.old_status == Status.UNKNOWN and into_unknown is not None and _sight_news(into_unknown):
        return SIGHT_BACK
    return None


def _sight_news(into_unknown: Transition) -> bool:
    """Whether losing sight of one status is news: not when the pair's other status had failed by then (a crashed
    primary cannot be read, and the Failed alert already says why)."""
    other = Transition.REPLICATION if into_unknown.kind == Transition.HA else Transition.HA
    # Ids follow the order of recording; a poll records its HA flip before its replication flip.
    other_status = (Transition.objects.filter(pair_id=into_unknown.pair_id, kind=other, pk__lt=into_unknown.pk)
                    .order_by("-id").values_list("new_status", flat=True).first())
    return other_status != Status.FAILED


def dedupe(events: list[tuple[Transition, str]]) -> list[tuple[Transition, str]]:
    """The monitor going stale or losing sight (or back) flips both statuses at once: one alert per pair, not two."""
    seen: set[tuple[int, str]] = set()
    out = []
    for t, event in events:
        if event in (MONITOR_STALE, MONITOR_RECOVERED, SIGHT_LOST, SIGHT_BACK):
            if (t.pair_id, event) in seen:
                continue
            seen.add((t.pair_id, event))
        out.append((t, event))
    return out


def risk_events(raised_ids: list[int], cleared_ids: list[int]) -> list[tuple[PairRisk, str]]:
    """The events of warnings before failures raised and cleared by a checkup: one each per episode. A warning
    raised while its pair was paused for maintenance sends nothing, nor does its clearing."""
    out: list[tuple[PairRisk, str]] = []
    for ids, event in ((raised_ids, WARNING_RAISED), (cleared_ids, WARNING_CLEARED)):
        rows = PairRisk.objects.filter(pk__in=list(ids), paused=False, pair__paused=False).order_by("id")
        out += [(r, event) for r in rows]
    return out
