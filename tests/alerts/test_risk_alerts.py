"""Warnings before failures reach real receivers: a real worker checks the real sandbox pair up every second; a
setting made unsafe on a real node sends one "Warning raised" per channel, put right one "Warning cleared", and
the checkups that keep finding it (or not) in between send nothing more."""

from __future__ import annotations

import pytest

from alerts.models import Notification
from monitor.models import Pair, PairRisk
from monitor.vocabulary import RiskCode
from tests import risk_steps as steps
from tests.receivers import TrapReceiver, channels_for, worker_env
from tests.services import wait_for

KEY = f"{RiskCode.DURABILITY}:primary"


def _checkups_after(pair_id: int, count: int) -> None:
    """Waits until `count` more checkups of the pair were recorded."""
    start = Pair.objects.get(pk=pair_id).checked_up_at
    seen = {start}

    def more() -> bool:
        seen.add(Pair.objects.get(pk=pair_id).checked_up_at)
        return len(seen) > count
    wait_for(more, 30, f"{count} more checkups of the pair")


def test_one_raised_and_one_cleared_alert_per_channel(worker_factory, receivers, sandbox_pair, healthy):
    first, second = (steps.setting(healthy, role, "sync_binlog", 1) for role in ("primary", "secondary"))
    with first, second:
        channels_for(receivers, warnings=True)
        worker_factory("risk-alerts", beat=True, env={**worker_env(receivers), "HAPANEL_CHECKUP_SECONDS": "1"})
        pid = sandbox_pair.pk
        wait_for(lambda: Pair.objects.get(pk=pid).checked_up_at is not None, 30, "the first checkup")
        assert not PairRisk.objects.filter(pair_id=pid).exists(), "a healthy sandbox pair raises no warning"
        with steps.setting(healthy, "primary", "sync_binlog", 0):
            raised = receivers.http.wait(1, '"warning-raised"')
            _checkups_after(pid, 3)  # found again and again: still one episode, no news
        receivers.http.wait(1, '"warning-cleared"')
        _checkups_after(pid, 3)
        wait_for(lambda: not Notification.objects.filter(status__in=["pending", "sending"]).exists(), 20,
                 "every notification delivered")

    r = receivers
    for name, receiver, per_channel in (("email", r.smtp, 1), ("webhook", r.http, 1), ("syslog", r.syslog, 2),
                                        ("snmp", r.traps, 1)):
        assert len(receiver.messages("warning-raised" if name != "email" else "Warning raised")) == per_channel, name
        assert len(receiver.messages("warning-cleared" if name != "email" else "Warning cleared")) == per_channel, name
        assert len(receiver.received) == 2 * per_channel, (name, [m.body[:120] for m in receiver.received])
    body = r.http.json()[0]
    assert (body["event"], body["pair"], body["cause"]) == ("warning-raised", "sandbox", RiskCode.DURABILITY)
    assert body["summary"].startswith("Warning about the primary: the primary is not crash-safe")
    assert "SET GLOBAL sync_binlog = 1" in body["what_to_do"] and f"What to do: {body['what_to_do']}" in body["text"]
    assert "sync_binlog" in str(body["evidence"])
    cleared = r.http.json()[1]
    assert cleared["event"] == "warning-cleared" and cleared["what_to_do"] == "" and cleared["previous_lasted_seconds"]
    mail = r.smtp.messages("Warning raised")[0]
    assert mail.headers["Subject"] == "[hapanel] sandbox: Warning raised (config-durability)"
    trap = TrapReceiver.varbinds(r.traps.messages("warning-raised")[0])
    assert "config-durability" in trap.values()
    episode = PairRisk.objects.get(pair_id=sandbox_pair.pk, key=KEY)
    assert episode.cleared_at is not None and raised


# The settings that make each kind of warning on a real node: (warning key, role, variable, unsafe value).
UNSAFE = [
    (f"{RiskCode.AUTO_INCREMENT}:pair", "secondary", "auto_increment_offset", 1),  # both nodes then hand out 1, 3…
    (f"{RiskCode.BINLOG_HORIZON}:primary→secondary", "primary", "binlog_expire_logs_seconds", 3600),
]


@pytest.mark.parametrize("key, role, variable, unsafe", UNSAFE, ids=[u[0].split(":")[0] for u in UNSAFE])
def test_each_kind_of_warning_is_told_once_raised_and_once_cleared(worker_factory, receivers, sandbox_pair, healthy,
                                                                   key, role, variable, unsafe):
    first, second = (steps.setting(healthy, r, "sync_binlog", 1) for r in ("primary", "secondary"))
    with first, second:
        channels_for(receivers, warnings=True)
        worker_factory("risk-kinds", beat=True, env={**worker_env(receivers), "HAPANEL_CHECKUP_SECONDS": "1"})
        pid = sandbox_pair.pk
        wait_for(lambda: Pair.objects.get(pk=pid).checked_up_at is not None, 30, "the first checkup")
        with steps.setting(healthy, role, variable, unsafe):
            receivers.http.wait(1, '"warning-raised"')
            _checkups_after(pid, 3)
        receivers.http.wait(1, '"warning-cleared"')
        _checkups_after(pid, 3)
        wait_for(lambda: not Notification.objects.filter(status__in=["pending", "sending"]).exists(), 20,
                 "every notification delivered")
    told = [(m["event"], m["cause"]) for m in receivers.http.json()]
    code = key.split(":")[0]
    assert told == [("warning-raised", code), ("warning-cleared", code)], told
    assert len(receivers.smtp.messages("Warning raised")) == 1 and len(receivers.smtp.messages("Warning cleared")) == 1
    assert PairRisk.objects.get(pair_id=pid, key=key).cleared_at is not None


def test_an_errant_transaction_is_told_once_raised_and_once_cleared(worker_factory, receivers, sandbox_pair,
                                                                     healthy):
    pid = sandbox_pair.pk
    Pair.objects.filter(pk=pid).update(topology=Pair.ONE_WAY)  # then a write on the secondary is errant
    first, second = (steps.setting(healthy, r, "sync_binlog", 1) for r in ("primary", "secondary"))
    with first, second:
        channels_for(receivers, warnings=True)
        worker_factory("risk-errant", beat=True, env={**worker_env(receivers), "HAPANEL_CHECKUP_SECONDS": "1"})
        wait_for(lambda: Pair.objects.get(pk=pid).checked_up_at is not None, 30, "the first checkup")
        try:
            with steps.primary_stopped(healthy):
                healthy.sql("secondary", "INSERT INTO hapanel_sandbox.drill VALUES (9103, 'errant', 'secondary')")
                receivers.http.wait(1, '"warning-raised"')
                _checkups_after(pid, 3)
            # The primary replicates from the secondary again and fetches the write: it is errant no longer.
            receivers.http.wait(1, '"warning-cleared"')
            _checkups_after(pid, 3)
            wait_for(lambda: not Notification.objects.filter(status__in=["pending", "sending"]).exists(), 20,
                     "every notification delivered")
        finally:
            healthy.sql("primary", "DELETE FROM hapanel_sandbox.drill WHERE id = 9103")
    # (A one-way pair's writable secondary is a warning of its own, config-read-only: not this test's.)
    errant = [m["event"] for m in receivers.http.json() if m["cause"] == RiskCode.ERRANT_TRANSACTIONS]
    assert errant == ["warning-raised", "warning-cleared"], errant
    assert [m.headers["Subject"] for m in receivers.smtp.messages(RiskCode.ERRANT_TRANSACTIONS)] == [
        f"[hapanel] sandbox: Warning raised ({RiskCode.ERRANT_TRANSACTIONS})",
        f"[hapanel] sandbox: Warning cleared ({RiskCode.ERRANT_TRANSACTIONS})"]
