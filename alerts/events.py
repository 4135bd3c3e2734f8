"""Which alert event a transition is, if any: the rules an operator would expect, in one place."""

from __future__ import annotations

from alerts.models import HA_ALIVE, HA_FAILED, MONITOR_RECOVERED, MONITOR_STALE, REPL_ALIVE, REPL_FAILED
from monitor.models import Transition
from monitor.vocabulary import Cause, Status

FAILED = {Transition.HA: HA_FAILED, Transition.REPLICATION: REPL_FAILED}
ALIVE = {Transition.HA: HA_ALIVE, Transition.REPLICATION: REPL_ALIVE}


def event_for(t: Transition) -> str | None:
    """The event of one flip, or None when it tells the operator nothing new.

    Unknown is not a failure (the monitor cannot tell), so a flip to Unknown alerts only when the
    monitor itself went stale; a return to Alive alerts when it ends a Failed that was alerted, or
    ends a stale monitor. The first verdict after a pair is added (Unknown → Alive) stays quiet.
    """
    if t.new_status == Status.FAILED:
        return FAILED[t.kind]
    if t.new_status == Status.UNKNOWN:
        return MONITOR_STALE if t.cause == Cause.MONITOR_STALE else None
    if t.old_status == Status.FAILED:
        return ALIVE[t.kind]
    earlier = Transition.objects.filter(pair_id=t.pair_id, kind=t.kind, pk__lt=t.pk).order_by("-id")
    if t.old_status == Status.UNKNOWN and earlier.values_list("cause", flat=True).first() == Cause.MONITOR_STALE:
        return MONITOR_RECOVERED
    last_known = earlier.exclude(new_status=Status.UNKNOWN).values_list("new_status", flat=True).first()
    return ALIVE[t.kind] if last_known == Status.FAILED else None


def dedupe(events: list[tuple[Transition, str]]) -> list[tuple[Transition, str]]:
    """The monitor going stale (or back) flips both statuses at once: that is one alert per pair, not two."""
    seen: set[tuple[int, str]] = set()
    out = []
    for t, event in events:
        if event in (MONITOR_STALE, MONITOR_RECOVERED):
            if (t.pair_id, event) in seen:
                continue
            seen.add((t.pair_id, event))
        out.append((t, event))
    return out
