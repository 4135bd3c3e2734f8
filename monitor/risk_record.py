"""Recording a checkup's warnings before failures: one PairRisk episode per warning, raised once, cleared once.

A warning found again updates its open episode (its numbers change: time left, GTIDs), without news, unless it
got worse: a higher severity is raised as a new episode. A warning no longer found is cleared, unless it rests on
a node the checkup could not read: a node that is down has not fixed its settings. Two workers, or a late
checkup, cannot raise or clear one episode twice: an open episode is unique per pair and key, a clearing is a
compare-and-set on `cleared_at`, and a checkup older than the pair's last recorded one is dropped.

The vault comparison raises and clears its own warning (`record_check`) on its own cadence; a checkup leaves it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q

from monitor.models import Pair, PairRisk
from monitor.risks.checkup import Assessment, Risk
from monitor.signals import risks_changed
from monitor.vocabulary import RiskCode, Severity

# Warnings raised and cleared by a check of their own, not by the checkup: a checkup neither finds nor clears them.
OWN_CHECKS = frozenset({RiskCode.VAULT_DRIFT})


@dataclass
class Recorded:
    raised: list[int] = field(default_factory=list)
    cleared: list[int] = field(default_factory=list)
    dropped: bool = False  # a newer checkup of the pair was recorded first


def marker(risks: list[PairRisk] | list[Risk]) -> dict:
    """What the board shows of the open warnings: how many of each severity, the worst, and their codes."""
    counts = {str(s): 0 for s in Severity}
    for r in risks:
        counts[str(r.severity)] += 1
    if not risks:
        return {}
    worst = max((Severity(r.severity) for r in risks), key=lambda s: s.rank)
    return {**counts, "worst": str(worst), "codes": sorted({r.code for r in risks})}


def record(pair_id: int, assessment: Assessment, at: dt.datetime) -> Recorded:
    out = Recorded()
    with transaction.atomic():
        newer = Q(checked_up_at__isnull=True) | Q(checked_up_at__lt=at)
        if Pair.objects.filter(newer, pk=pair_id).update(checked_up_at=at) != 1:
            out.dropped = True  # the pair is gone, or a newer checkup was recorded
            return out
        open_rows = PairRisk.objects.filter(pair_id=pair_id, cleared_at__isnull=True).exclude(code__in=OWN_CHECKS)
        _episodes(pair_id, assessment.risks, open_rows, assessment.blind, at, out)
    return out


def record_check(pair_id: int, code: str, risks: list[Risk], at: dt.datetime) -> Recorded:
    """The warnings of one check of its own (OWN_CHECKS) that judged the whole of `code`: those found are raised
    (or kept), the pair's other open episodes of `code` are cleared. A check that could not judge records nothing."""
    out = Recorded()
    with transaction.atomic():
        open_rows = PairRisk.objects.filter(pair_id=pair_id, code=code, cleared_at__isnull=True)
        _episodes(pair_id, [r for r in risks if r.code == code], open_rows, frozenset(), at, out)
    return out


def _episodes(pair_id: int, risks: list[Risk], open_qs, blind: frozenset[str], at: dt.datetime,
              out: Recorded) -> None:
    """Raises the risks not open yet, updates the open ones found again, clears the open ones not found (unless
    they rest on a node the check could not read), and rewrites the pair's marker; inside the caller's
    transaction."""
    paused = Pair.objects.filter(pk=pair_id).values_list("paused", flat=True).first()
    found = {r.key: r for r in risks}
    open_rows = {row.key: row for row in open_qs}
    for key, r in found.items():
        row = open_rows.get(key)
        if row is not None and Severity(r.severity).rank > Severity(row.severity).rank and PairRisk.objects.filter(
                pk=row.pk, cleared_at__isnull=True).update(cleared_at=at, clear_processed=at) == 1:
            # Worse than when it was raised (a certificate at 7 days, a horizon nearly reached): news again. The
            # episode ends without a "cleared" (marked processed, so no sweep sends one) and a new one is raised
            # at the new severity. A warning that eases stays in its episode, quietly.
            row = None
        if row is not None:
            PairRisk.objects.filter(pk=row.pk, cleared_at__isnull=True).update(checked_at=at, **r.to_dict())
            continue
        try:
            with transaction.atomic():
                made = PairRisk.objects.create(pair_id=pair_id, key=key, raised_at=at, checked_at=at,
                                               paused=bool(paused), **r.to_dict())
        except IntegrityError:
            continue  # raised by a concurrent check of the same pair
        out.raised.append(made.pk)
    for key, row in open_rows.items():
        if key in found or set(row.nodes or []) & blind:
            continue
        if PairRisk.objects.filter(pk=row.pk, cleared_at__isnull=True).update(cleared_at=at) == 1:
            out.cleared.append(row.pk)
    still = list(PairRisk.objects.filter(pair_id=pair_id, cleared_at__isnull=True).only("severity", "code"))
    Pair.objects.filter(pk=pair_id).update(risk_marker=marker(still))
    if out.raised or out.cleared:
        raised, cleared = list(out.raised), list(out.cleared)
        transaction.on_commit(lambda: announce(raised, cleared))


def announce(raised_ids: list[int], cleared_ids: list[int]) -> None:
    """Tells the listeners (alerts) about committed raises and clearings."""
    risks_changed.send(sender=PairRisk, raised_ids=raised_ids, cleared_ids=cleared_ids)


def current(pair: Pair) -> list[PairRisk]:
    """The pair's open warnings, worst first."""
    rows = list(PairRisk.objects.filter(pair=pair, cleared_at__isnull=True))
    return sorted(rows, key=lambda r: (-Severity(r.severity).rank, r.code, r.subject))
