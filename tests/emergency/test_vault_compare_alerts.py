"""Vault drift reaches real receivers: a real worker with beat compares the real sandbox pair's vault copies every
second (HAPANEL_VAULT_COMPARE_SECONDS=1); a row changed on the secondary alone sends one "Warning raised" per
channel, put back one "Warning cleared", and the comparisons that keep finding it (or not) send nothing more."""

from __future__ import annotations

from alerts.models import Notification
from emergency.models import VaultComparison
from monitor.vocabulary import RiskCode
from tests.emergency.test_vault_compare import rogue_change
from tests.receivers import TrapReceiver, channels_for, worker_env
from tests.services import wait_for

CODE = RiskCode.VAULT_DRIFT


def _comparisons_after(pair_id: int, count: int, outcome: str) -> None:
    """Waits until `count` more comparisons of the pair were stored, the last of them with `outcome`."""
    seen: set = set()

    def more() -> bool:
        c = VaultComparison.objects.filter(pair_id=pair_id).first()
        if c is not None:
            seen.add(c.started_at)
        return len(seen) > count and c.outcome == outcome
    wait_for(more, 30, f"{count} more comparisons of the vault copies, {outcome}")


def _webhooks(receivers, event: str) -> list[dict]:
    return [b for b in receivers.http.json() if b["cause"] == CODE and b["event"] == event]


def test_one_raised_and_one_cleared_alert_per_channel(worker_factory, receivers, demo_vault, healthy):
    pair, _ = demo_vault
    channels_for(receivers, warnings=True)
    worker_factory("vault-compare", beat=True, env={**worker_env(receivers), "HAPANEL_VAULT_COMPARE_SECONDS": "1"})
    _comparisons_after(pair.pk, 3, "equal")
    assert receivers.http.messages(CODE) == [], "equal copies raise nothing"

    with rogue_change(healthy) as row_id:
        wait_for(lambda: _webhooks(receivers, "warning-raised"), 20, "the warning raised at the webhook receiver")
        _comparisons_after(pair.pk, 3, "differs")  # found again and again: one episode, no news
    wait_for(lambda: _webhooks(receivers, "warning-cleared"), 20, "the warning cleared at the webhook receiver")
    _comparisons_after(pair.pk, 3, "equal")
    wait_for(lambda: not Notification.objects.filter(status__in=["pending", "sending"]).exists(), 20,
             "every notification delivered")

    r = receivers
    for name, receiver, per_channel in (("email", r.smtp, 1), ("webhook", r.http, 1), ("syslog", r.syslog, 2),
                                        ("snmp", r.traps, 1)):
        drift = receiver.messages(CODE)
        raised = [m for m in drift if ("Warning raised" if name == "email" else "warning-raised") in m.body]
        cleared = [m for m in drift if ("Warning cleared" if name == "email" else "warning-cleared") in m.body]
        assert (len(raised), len(cleared), len(drift)) == (per_channel, per_channel, 2 * per_channel), \
            (name, [m.body[:160] for m in receiver.received])
    [body] = _webhooks(r, "warning-raised")
    assert body["pair"] == "sandbox"
    assert (f"the copy of the vault on the secondary differs from the primary in 1 row of accounts (id={row_id})"
            in body["summary"])
    assert f'--where="id IN ({row_id})" vault accounts' in body["what_to_do"]
    assert body["evidence"]["accounts"] == f"1 row: id={row_id}"
    mail = [m for m in r.smtp.messages("Warning raised") if CODE in m.body][0]
    assert mail.headers["Subject"] == f"[hapanel] sandbox: Warning raised ({CODE})"
    trap = TrapReceiver.varbinds([m for m in r.traps.messages("warning-raised") if CODE in m.body][0])
    assert CODE in trap.values()
