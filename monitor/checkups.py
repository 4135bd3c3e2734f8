"""The Django side of a checkup: read both nodes (monitor.probe.checkup), judge (monitor.risks), record.

Runs on its own, slower cadence (HAPANEL_CHECKUP_SECONDS), on connections of its own: the regular poll pays
nothing for it.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from django.db.models import F, Q
from django.utils import timezone

from monitor import risk_record
from monitor.models import Node, Pair
from monitor.probe.checkup import read_checkup
from monitor.risks.checkup import NodeCheckup, PairCheckup
from monitor.risks.rules import assess
from monitor.targets import target_for
from monitor.vocabulary import Status

_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="checkup")


def away_for(pair: Pair, now: dt.datetime) -> float | None:
    """Seconds since the pair's recorded statuses turned Failed (the earlier of the two); None while neither is."""
    since = [s for status, s in ((pair.ha_status, pair.ha_since), (pair.repl_status, pair.repl_since))
             if status == Status.FAILED and s is not None]
    return max(0.0, (now - min(since)).total_seconds()) if since else None


def _read(node: Node | None, pair: Pair, role: str) -> NodeCheckup:
    if node is None:
        return NodeCheckup(role, error="no such node in the pair's settings")
    try:
        target = target_for(node, pair)
    except Exception as exc:  # noqa: BLE001 (a stored secret that no longer decrypts: the poll says so too)
        return NodeCheckup(role, node.address, error=f"stored settings unusable: {type(exc).__name__}")
    return read_checkup(target)


def checkup(pair_id: int) -> str:
    """One checkup of one pair, recorded; what it did, for the task's log."""
    pair = Pair.objects.filter(pk=pair_id).defer("health", "readings").first()
    if pair is None:
        return "gone"
    nodes = {n.role: n for n in Node.objects.filter(pair=pair)}
    primary, secondary = _POOL.map(lambda role: _read(nodes.get(role), pair, role), (Node.PRIMARY, Node.SECONDARY))
    now = timezone.now()
    assessment = assess(PairCheckup(pair.topology, primary, secondary, away_for(pair, now), at=now.timestamp()))
    done = risk_record.record(pair.pk, assessment, now)
    if done.dropped:
        return "dropped: a newer checkup was recorded"
    return f"{len(assessment.risks)} warning(s), {len(done.raised)} raised, {len(done.cleared)} cleared"


def due(now: dt.datetime, period: float, tick: float) -> list[int]:
    """The pairs to check up at this tick: those not checked up for a period, oldest first, at most the share of
    all pairs that one tick owes, so that checkups spread over the period instead of arriving together."""
    stale = now - dt.timedelta(seconds=period)
    total = Pair.objects.count()
    share = max(1, -(-total * tick // period))  # ceil
    rows = (Pair.objects.filter(Q(checked_up_at__isnull=True) | Q(checked_up_at__lt=stale))
            .order_by(F("checked_up_at").asc(nulls_first=True), "id").values_list("id", flat=True))
    return list(rows[:int(share)])
