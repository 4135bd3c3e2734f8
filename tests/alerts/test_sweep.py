"""The transition rows are the outbox: a flip whose alerts were never queued is alerted by the sweep, once."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from alerts import delivery
from alerts.models import Notification
from alerts.tasks import sweep_transitions
from monitor.models import Pair, Transition
from tests.factories import flip
from tests.receivers import channels_for
from tests.services import wait_for


def test_a_flip_whose_publish_was_lost_is_alerted_once(alert_worker, receivers, transactional_db, settings):
    pair = Pair.objects.create(name="vault-1", ha_status="Failed", repl_status="Alive")
    channels_for(receivers)
    # Written as record writes it, but the task queued at commit never reached the broker.
    lost = flip(pair)
    Transition.objects.filter(pk=lost.pk).update(
        detected_at=timezone.now() - dt.timedelta(seconds=settings.ALERTS_SWEEP_GRACE + 1))
    too_old = flip(pair)
    Transition.objects.filter(pk=too_old.pk).update(
        detected_at=timezone.now() - dt.timedelta(seconds=settings.ALERTS_SWEEP_WINDOW + 1))
    fresh = flip(pair)  # within the grace: the normal path still has it

    assert delivery.unprocessed() == [lost.pk]
    sweep_transitions.delay()
    sweep_transitions.delay()  # a second beat, or two beats by mistake
    wait_for(lambda: len(receivers.http.messages()) >= 1, 40, "the webhook of the lost flip")
    wait_for(lambda: Notification.objects.filter(transition=lost).exclude(status=Notification.SENT).count() == 0
             and Notification.objects.filter(transition=lost).count() == 5, 40, "every channel's notification sent")
    assert Transition.objects.get(pk=lost.pk).processed is not None
    assert Transition.objects.get(pk=too_old.pk).processed is None
    assert Transition.objects.get(pk=fresh.pk).processed is None
    assert not Notification.objects.filter(transition__in=[too_old, fresh]).exists()
    assert len(receivers.http.messages()) == 1
    assert len(receivers.smtp.messages()) == 1
