"""A flip recorded while the broker (Redis) is down is alerted once, by the sweep, when the broker is back."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

from alerts.models import Notification
from monitor.models import Transition
from tests.receivers import channels_for, worker_env
from tests.services import wait_for
from tests.waiting import flips
from tests.workers import database_url


def _pollnow(redis_url: str) -> subprocess.CompletedProcess:
    """One real poll in a process of its own, as a worker's poll would run, publishing to `redis_url`."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url(),
           "REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "manage.py", "pollnow"], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_flip_recorded_with_the_broker_down_is_alerted_once(receivers, sandbox_pair, healthy, private_redis,
                                                              worker_factory):
    channels_for(receivers)
    pid = sandbox_pair.pk
    first = _pollnow(private_redis.url)
    assert first.returncode == 0, first.stderr
    assert [f[:2] for f in flips(pid, "ha")] == [("Unknown", "Alive")]

    private_redis.stop()
    healthy.fault("crash-primary")
    during = _pollnow(private_redis.url)
    # The flip is recorded and the poll ends normally; its alerts wait in the outbox, and the log says so.
    assert during.returncode == 0, during.stderr
    assert "Traceback" not in during.stderr, during.stderr
    assert "sweep" in during.stderr, during.stderr
    failed = Transition.objects.get(pair_id=pid, kind=Transition.HA, new_status="Failed")
    assert failed.cause == "primary-down"
    assert failed.processed is None
    assert not Notification.objects.exists()

    private_redis.start()
    worker_factory("after-outage", beat=True, env={**worker_env(receivers), "REDIS_URL": private_redis.url})
    receivers.http.wait(1, "High Availability Failed", timeout=30)
    wait_for(lambda: not Notification.objects.exclude(status=Notification.SENT).exists()
             and Transition.objects.filter(pair_id=pid, processed__isnull=True).count() == 0, 30,
             "every recorded flip handed to delivery and every notification sent")
    # Once per channel: the sweep ran every few seconds meanwhile, and found the flip already claimed.
    assert len(receivers.http.messages("High Availability Failed")) == 1
    assert len(receivers.smtp.messages("High Availability Failed")) == 1
    ids = [m.headers.get("X-Hapanel-Delivery") for m in receivers.http.messages()]
    assert len(ids) == len(set(ids))
