"""Losing sight of the monitor itself: a dead man's switch pinged while it runs, and a deep health check."""

from __future__ import annotations

import time

from tests.receivers import HttpReceiver
from tests.services import wait_for


def test_the_switch_is_pinged_while_the_monitor_runs_and_falls_silent_when_it_stops(worker_factory):
    with HttpReceiver() as switch:
        worker = worker_factory("deadman", env={"HAPANEL_DEADMAN_URL": switch.url, "HAPANEL_DEADMAN_SECONDS": "0.5"})
        switch.wait(3, containing="hapanel monitor running", timeout=30)
        worker.stop()
        stopped = len(switch.messages())
        time.sleep(2)  # four periods: a running monitor would have pinged again by now
        assert len(switch.messages()) == stopped


def test_deep_health_says_503_until_the_monitor_ticks(anonymous_client, worker_factory):
    shallow = anonymous_client.get("/healthz")
    assert shallow.status_code == 200 and shallow.json()["ok"] is True
    down = anonymous_client.get("/healthz?deep=1")
    assert down.status_code == 503 and "never run" in down.json()["monitor"]
    worker_factory("health")
    up = wait_for(lambda: (r := anonymous_client.get("/healthz?deep=1")).status_code == 200 and r, 30,
                  "the deep health check to pass")
    assert up.json() == {"ok": True, "time": up.json()["time"], "monitor": "running"}
