"""Warning episodes as the alerts see them: raised once, cleared once, and raised again only when they get worse."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from monitor import risk_record
from monitor.models import Pair, PairRisk
from monitor.risks.checkup import Assessment, Risk
from monitor.vocabulary import RiskCode, Severity


def _certificate(severity: Severity, days: int) -> Risk:
    return Risk(RiskCode.CERTIFICATE, severity, "secondary", f"The secondary's certificate expires in {days} days",
                "Install a new certificate", {"days_left": days}, ("secondary",))


def _checkup(pair: Pair, at: dt.datetime, *risks: Risk) -> risk_record.Recorded:
    return risk_record.record(pair.pk, Assessment(list(risks), frozenset()), at)


def test_a_warning_that_turns_critical_is_raised_again_and_one_that_eases_is_not(db):
    pair = Pair.objects.create(name="vault-1")
    start = timezone.now()
    at = [start + dt.timedelta(minutes=m) for m in range(6)]

    first = _checkup(pair, at[0], _certificate(Severity.WARNING, 30))
    assert len(first.raised) == 1 and not first.cleared
    same = _checkup(pair, at[1], _certificate(Severity.WARNING, 29))  # its numbers change: no news
    assert same.raised == [] and same.cleared == []

    worse = _checkup(pair, at[2], _certificate(Severity.CRITICAL, 7))
    assert len(worse.raised) == 1 and worse.cleared == []  # the critical one is news; no "cleared" is sent
    old = PairRisk.objects.get(pk=first.raised[0])
    assert old.cleared_at == at[2] and old.clear_processed is not None  # the sweep will not send a clearing
    assert PairRisk.objects.get(pk=worse.raised[0]).severity == Severity.CRITICAL

    eased = _checkup(pair, at[3], _certificate(Severity.WARNING, 20))  # a longer expiry set meanwhile
    assert eased.raised == [] and eased.cleared == []
    assert PairRisk.objects.get(pk=worse.raised[0]).severity == Severity.WARNING

    fixed = _checkup(pair, at[4])
    assert fixed.cleared == worse.raised
    assert PairRisk.objects.filter(pair=pair, cleared_at__isnull=True).count() == 0
    assert Pair.objects.get(pk=pair.pk).risk_marker == {}
