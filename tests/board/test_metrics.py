"""/metrics: bearer token, the values Prometheus gets, and `promtool check metrics` finds no problem."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitor import coordination
from monitor.models import Transition
from tests.factories import recorded, save

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests"


@pytest.fixture
def scrape(anonymous_client, redis_url, flush_redis, settings):
    settings.METRICS_TOKEN = TOKEN
    coordination.beat(time.time())
    save(recorded("alpha"))
    failed = save(recorded("bravo", "primary-down"))
    save(recorded("charlie", checked=timezone.now() - dt.timedelta(seconds=120)))
    for to in ("Failed", "Alive", "Failed"):
        Transition.objects.create(pair=failed, kind="ha", old_status="Alive", new_status=to, cause="x",
                                  detected_at=timezone.now())

    def get():
        response = anonymous_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
        return response.content.decode()
    return get


def samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_access(anonymous_client, outsider_client, viewer_client, scrape, settings):
    assert anonymous_client.get("/metrics").status_code == 401
    assert anonymous_client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert outsider_client.get("/metrics").status_code == 403
    settings.METRICS_TOKEN = ""  # no token configured: a logged-in viewer can still read it
    assert viewer_client.get("/metrics").status_code == 200


def test_values(scrape):
    s = samples(scrape())
    assert s[("hapanel_pair_ha_status", (("pair", "alpha"),))] == 1
    assert s[("hapanel_pair_ha_status", (("pair", "bravo"),))] == 0
    assert s[("hapanel_pair_replication_status", (("pair", "bravo"),))] == -1
    assert s[("hapanel_pair_ha_status", (("pair", "charlie"),))] == -1  # stale Alive is unknown
    assert s[("hapanel_pair_last_check_age_seconds", (("pair", "charlie"),))] >= 120
    assert s[("hapanel_pair_heartbeat_lag_seconds", (("pair", "alpha"),))] == pytest.approx(0.02)
    assert s[("hapanel_transitions_total", (("kind", "ha"), ("pair", "bravo"), ("to", "Failed")))] == 2
    assert s[("hapanel_transitions_total", (("kind", "ha"), ("pair", "bravo"), ("to", "Alive")))] == 1
    assert s[("hapanel_node_reachable", (("pair", "bravo"), ("role", "primary")))] == 0
    assert s[("hapanel_node_reachable", (("pair", "bravo"), ("role", "secondary")))] == 1
    io = ("hapanel_replica_io_running", (("pair", "bravo"), ("replica", "secondary"), ("source", "primary")))
    assert s[io] == 0
    assert s[("hapanel_replica_sql_running", (("pair", "alpha"), ("replica", "primary"),
                                              ("source", "secondary")))] == 1
    assert s[("hapanel_monitor_up", ())] == 1


def test_promtool_finds_no_problem(scrape):
    result = subprocess.run(["/usr/bin/promtool", "check", "metrics"], input=scrape().encode(),
                            capture_output=True, timeout=30)
    assert result.returncode == 0 and result.stdout == b"" and result.stderr == b"", result
