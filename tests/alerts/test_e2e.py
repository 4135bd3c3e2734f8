"""A real sandbox crash, polled by a real worker, reaches real receivers once per channel; the heal too."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

from alerts.models import Attempt, Notification
from alerts.transports.snmp import HAPANEL
from monitor.models import Pair
from tests.receivers import TrapReceiver, channels_for
from tests.services import wait_for
from tests.waiting import wait_status


def all_settled() -> bool:
    return not Notification.objects.filter(status__in=[Notification.PENDING, Notification.SENDING]).exists()


def test_crash_and_heal_alert_once_per_channel(polling_alert_worker, receivers, sandbox_pair, healthy):
    channels_for(receivers)
    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    healthy.fault("crash-primary")
    wait_status(pid, "Failed", cause="primary-down")
    r = receivers
    failed = "High Availability Failed"
    mail = r.smtp.wait(1, failed)[0]
    hook = r.http.wait(1, failed)[0]
    logs = r.syslog.wait(2, failed)  # UDP and TCP
    trap = r.traps.wait(1, "ha-failed")[0]

    url = settings.SITE_URL + Pair.objects.get(pk=pid).get_absolute_url()
    assert mail.headers["Subject"] == "[hapanel] sandbox: High Availability Failed (primary-down)"
    assert mail.headers["rcpt_tos"] == ["ops@example.com"]
    for text in (mail.body, r.http.json()[0]["text"]):
        assert "High Availability Status: Alive → Failed" in text
        assert url in text and "Evidence:" in text and "Alive lasted:" in text
        assert "errno" in text  # the refused connection's errno is part of the evidence
    body = r.http.json()[0]
    assert (body["pair"], body["old"], body["new"], body["cause"]) == ("sandbox", "Alive", "Failed", "primary-down")
    assert body["summary"] and body["summary"] in body["text"]
    # The first thing to do travels with the alert, as the pair page says it.
    assert "mariadbd" in body["what_to_do"] and f"What to do: {body['what_to_do']}" in body["text"]
    expected_sig = "sha256=" + hmac.new(b"s3cret", hook.body.encode(), hashlib.sha256).hexdigest()
    assert hook.headers["X-Hapanel-Signature"] == expected_sig
    assert {m.headers["transport"] for m in logs} == {"udp", "tcp"}
    for m in logs:  # <local3.err> = 19*8+3, RFC 5424 version 1, MSGID = the event
        assert m.body.startswith("<155>1 ") and " hapanel - ha-failed [hapanel@32473 pair=\"sandbox\"" in m.body
        assert 'cause="primary-down"' in m.body and url in m.body
    binds = TrapReceiver.varbinds(trap)
    assert "Hex-STRING" not in trap.body, "every varbind reads as text without the MIB"
    uptime = re.search(r"\.1\.3\.6\.1\.2\.1\.1\.3\.0 = (?:Timeticks: )?\(?(\d+)", trap.body)
    assert uptime and int(uptime[1]) > 0, "sysUpTime counts from the panel's start, not from the trap's"
    assert binds[".1.3.6.1.6.3.1.1.4.1.0"] == f".{HAPANEL}.0.1"  # hapanelStatusChange
    assert binds[f".{HAPANEL}.1.1.0"] == "sandbox"
    assert [binds[f".{HAPANEL}.1.{i}.0"] for i in (4, 5, 6)] == ["Alive", "Failed", "primary-down"]
    assert binds[f".{HAPANEL}.1.11.0"] == url

    healthy.heal()
    wait_status(pid, "Alive", "Alive")
    alive = "High Availability Alive"
    r.smtp.wait(1, alive)
    r.http.wait(1, alive)
    r.syslog.wait(2, alive)
    r.traps.wait(1, "ha-alive")
    assert "High Availability Status: Failed → Alive" in r.smtp.messages(alive)[0].body
    assert "Failed lasted:" in r.smtp.messages(alive)[0].body

    wait_for(all_settled, 20, "every notification sent")
    assert [len(x.messages()) for x in r.all()] == [2, 2, 4, 2], "exactly one failure and one recovery each"
    assert Notification.objects.filter(status=Notification.SENT).count() == 10
    assert Attempt.objects.filter(ok=True).count() == 10 and not Attempt.objects.filter(ok=False).exists()


def test_a_refused_monitor_login_is_alerted_once_as_lost_sight_and_its_end_too(
        polling_alert_worker, receivers, sandbox_pair, healthy):
    """Both statuses turn Unknown together: one message per channel says the panel lost sight and why."""
    from alerts.models import Channel
    from monitor.models import Node

    hook = Channel.objects.create(kind=Channel.WEBHOOK, name="ops", config={"url": receivers.http.url})
    hook.routes.create(event="sight-lost")
    hook.routes.create(event="sight-back")
    pid = sandbox_pair.pk
    wait_status(pid, "Alive", "Alive")
    stored = dict(Node.objects.filter(pair_id=pid).values_list("pk", "monitor_password_enc"))
    for node in Node.objects.filter(pair_id=pid):  # a password changed on the servers, not in the panel
        node.set_password("not-the-monitor-password")
        node.save()
    try:
        wait_status(pid, "Unknown", "Unknown")
        lost = receivers.http.wait(1, "sight-lost")[0]
        body = receivers.http.json()[0]
        assert body["event"] == "sight-lost" and body["cause"] == "monitor-auth-failure"
        assert body["summary"] and body["summary"] in body["text"] and lost.body
    finally:
        for pk, enc in stored.items():
            Node.objects.filter(pk=pk).update(monitor_password_enc=enc)
    wait_status(pid, "Alive", "Alive")
    receivers.http.wait(2)
    wait_for(all_settled, 20, "every notification settled")
    assert [m["event"] for m in receivers.http.json()] == ["sight-lost", "sight-back"]
