"""Delivery through a real worker to real receivers: retries, permanent failures, redelivery, pauses."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from alerts import delivery
from alerts.models import Attempt, Channel, Notification
from alerts.tasks import notify_transitions
from monitor.models import Pair, Transition
from tests.factories import flip
from tests.receivers import HttpReceiver, channels_for
from tests.services import wait_for


@pytest.fixture
def pair(transactional_db) -> Pair:
    return Pair.objects.create(name="vault-1", ha_status="Alive", repl_status="Alive")


def notification(channel: Channel) -> Notification:
    return wait_for(lambda: Notification.objects.filter(channel=channel).first(), 10, f"a notification to {channel}")


def test_receiver_down_retries_then_delivers_once(alert_worker, receivers, pair):
    hook = channels_for(receivers)["webhook"]
    receivers.http.stop()  # the webhook's server is down: connection refused, a transient error
    notify_transitions.delay([flip(pair).pk])
    n = notification(hook)
    wait_for(lambda: Attempt.objects.filter(notification=n, ok=False).count() >= 2, 20, "two failed attempts")
    n.refresh_from_db()
    assert n.status in (Notification.PENDING, Notification.SENDING) and "refused" in n.last_error.lower()
    back = HttpReceiver(port=receivers.http.port).start()
    try:
        wait_for(lambda: Notification.objects.get(pk=n.pk).status == Notification.SENT, 30, "the retry to succeed")
        assert len(back.messages()) == 1
        log = list(Attempt.objects.filter(notification=n).order_by("at").values_list("ok", flat=True))
        assert log[-1] is True and set(log[:-1]) == {False}
        assert Notification.objects.get(pk=n.pk).attempts == len(log)
    finally:
        back.stop()


def test_webhook_gone_is_not_retried_and_flags_the_channel(alert_worker, receivers, pair, settings):
    receivers.http.status = 410
    hook = Channel.objects.create(kind=Channel.WEBHOOK, name="gone", config={"url": receivers.http.url})
    hook.routes.create(event="ha-failed")
    for _ in range(settings.ALERTS_FLAG_AFTER):
        notify_transitions.delay([flip(pair).pk])
    wait_for(lambda: Notification.objects.filter(channel=hook, status=Notification.FAILED).count()
             == settings.ALERTS_FLAG_AFTER, 20, "every notification marked failed")
    time.sleep(1.5)  # three backoff periods of the worker (0.5 s): a retry would have happened by now
    assert len(receivers.http.messages()) == settings.ALERTS_FLAG_AFTER
    for n in Notification.objects.filter(channel=hook):
        assert (n.attempts, n.last_error) == (1, "HTTP 410 Gone")
        assert list(n.log.values_list("ok", "permanent")) == [(False, True)]
    hook.refresh_from_db()
    assert hook.flagged and "HTTP 410 Gone" in hook.disabled_reason
    assert delivery.failing_channels() == [hook]


def test_redelivered_task_sends_nothing_twice(receivers, pair, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django swaps in locmem
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", receivers.smtp.port
    channels_for(receivers)
    t = flip(pair)
    made = delivery._notifications(t, "ha-failed")
    assert len(made) == 5
    first = made[:2]
    for nid in first:  # the same message delivered twice, one after the other
        assert delivery.deliver(nid)[0] == delivery.SENT
        assert delivery.deliver(nid)[0] == delivery.SKIPPED
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def racer(nid: int) -> None:
        barrier.wait()
        try:
            outcomes.append(delivery.deliver(nid)[0])
        finally:
            connection.close()

    for nid in made[2:]:  # and twice at the same moment, from two threads
        threads = [threading.Thread(target=racer, args=(nid,)) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(20)
    assert sorted(outcomes) == [delivery.SENT] * 3 + [delivery.SKIPPED] * 3
    assert delivery._notifications(t, "ha-failed") == []  # a redelivered notify task makes no new rows
    assert Notification.objects.filter(transition=t).count() == 5
    counts = lambda: [len(r.messages()) for r in receivers.all()]  # noqa: E731
    wait_for(lambda: counts() == [1, 1, 2, 1], 10, "one message per channel (syslog: UDP and TCP)")


def test_paused_pair_sends_nothing(alert_worker, receivers, pair):
    channels_for(receivers)
    t = flip(pair, paused=True)
    notify_transitions.delay([t.pk])
    wait_for(lambda: Transition.objects.get(pk=t.pk).processed, 10, "the notify task to process the transition")
    assert not Notification.objects.exists()
    assert [r.messages() for r in receivers.all()] == [[], [], [], []]


def test_a_sender_killed_mid_send_is_followed_by_one_message_that_says_it_may_repeat(
        receivers, worker_factory, pair, settings):
    """The webhook received the POST, but the worker died before it heard the answer: the notification is sent
    once more after its claim expires, marked as a possible repeat, with the same delivery key."""
    from tests.receivers import worker_env

    hook = channels_for(receivers)["webhook"]
    receivers.http.hold = threading.Event()
    sender = worker_factory("sender", beat=False, env=worker_env(receivers))
    notify_transitions.delay([flip(pair).pk])
    first = receivers.http.wait(1, "ha-failed")[0]
    n = Notification.objects.get(channel=hook)
    assert n.status == Notification.SENDING
    sender.kill()
    receivers.http.hold.set()
    receivers.http.hold = None

    settings.ALERTS_CLAIM_TIMEOUT = 0.5  # the redelivered task (in a minute, from Redis) runs this, sooner
    wait_for(lambda: delivery.deliver(n.pk)[0] == delivery.SENT, 10, "the expired claim to be taken again")
    bodies = receivers.http.json()
    hooks = [m for m in receivers.http.messages() if "ha-failed" in m.body]
    assert len(hooks) == 2, "one message, then one marked as a possible repeat"
    assert [b["may_repeat"] for b in bodies] == [False, True]
    assert "may repeat an earlier message" in bodies[1]["text"]
    assert first.headers["X-Hapanel-Delivery"] == hooks[1].headers["X-Hapanel-Delivery"] == str(n.pk)
    assert Notification.objects.get(pk=n.pk).status == Notification.SENT
