"""JSON API v1: who may read it, what it answers, and a clear 400 for a bad time."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from monitor import coordination
from monitor.models import Transition
from tests.factories import recorded, save

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-metrics-token"


@pytest.fixture
def pairs(redis_url, flush_redis, settings):
    settings.METRICS_TOKEN = TOKEN
    coordination.beat(time.time())
    alive, failed = save(recorded("alpha")), save(recorded("bravo", "apply-error"))
    stale = save(recorded("charlie", checked=timezone.now() - dt.timedelta(seconds=60)))
    return alive, failed, stale


URLS = ["/api/v1/pairs", "/api/v1/pairs/{id}", "/api/v1/transitions"]


@pytest.mark.parametrize("url", URLS)
def test_access(anonymous_client, outsider_client, viewer_client, admin_client, pairs, url):
    url = url.format(id=pairs[0].pk)
    anonymous = anonymous_client.get(url)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert "authentication required" in anonymous.json()["error"]
    assert anonymous_client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert anonymous_client.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert outsider_client.get(url).status_code == 403
    for client in (viewer_client, admin_client):
        assert client.get(url).status_code == 200


def test_empty_token_never_matches(anonymous_client, pairs, settings):
    settings.METRICS_TOKEN = ""
    assert anonymous_client.get("/api/v1/pairs", headers={"Authorization": "Bearer "}).status_code == 401


def test_pairs_list_is_honest_and_ordered(anonymous_client, pairs):
    data = anonymous_client.get("/api/v1/pairs", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert data["monitor"]["ok"] is True
    by_name = {p["name"]: p for p in data["pairs"]}
    assert [p["name"] for p in data["pairs"]] == ["bravo", "charlie", "alpha"]
    assert by_name["bravo"]["replication"]["status"] == "Failed"
    assert by_name["bravo"]["replication"]["cause"] == "apply-error"
    assert "Duplicate entry" in by_name["bravo"]["replication"]["summary"]
    charlie = by_name["charlie"]
    assert charlie["ha"]["status"] == "Unknown" and charlie["ha"]["recorded_status"] == "Alive"
    assert charlie["fresh"] is False and charlie["last_check_age_seconds"] >= 60
    assert by_name["alpha"]["heartbeat_lag_seconds"] == 0.02 and by_name["alpha"]["fresh"] is True
    filtered = anonymous_client.get("/api/v1/pairs?status=Failed", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [p["name"] for p in filtered["pairs"]] == ["bravo"]


def test_one_pair_with_readings(viewer_client, pairs):
    data = viewer_client.get(f"/api/v1/pairs/{pairs[1].pk}").json()
    assert data["name"] == "bravo" and data["replication"]["remediation"].startswith("The secondary's data differ")
    assert data["readings"]["secondary"]["channels"][0]["last_sql_errno"] == 1062
    assert [n["role"] for n in data["nodes"]] == ["primary", "secondary"]
    assert viewer_client.get("/api/v1/pairs/999999").status_code == 404


def test_transitions_since(viewer_client, pairs):
    base = timezone.now() - dt.timedelta(hours=1)
    for i in range(3):
        Transition.objects.create(pair=pairs[1], kind="replication", old_status="Alive", new_status="Failed",
                                  cause="apply-error", summary=f"flip {i}", detected_at=base + dt.timedelta(minutes=i))
    since = (base + dt.timedelta(seconds=30)).isoformat()  # "+00:00", sent unencoded: arrives as " 00:00"
    data = viewer_client.get(f"/api/v1/transitions?since={since}").json()
    assert [t["summary"] for t in data["transitions"]] == ["flip 1", "flip 2"]
    assert data["transitions"][0]["pair"] == {"id": pairs[1].pk, "name": "bravo"} and data["truncated"] is False
    assert len(viewer_client.get("/api/v1/transitions").json()["transitions"]) == 3  # default: the last 24 h
    assert viewer_client.get("/api/v1/transitions", {"since": since, "kind": "ha"}).json()["transitions"] == []


@pytest.mark.parametrize("query,message", [
    ("since=yesterday", "since='yesterday' is not an ISO 8601 time"),
    ("since=2025-13-40T00:00:00Z", "is not an ISO 8601 time"),
    ("kind=disk", "kind='disk' is not one of: ha, replication"),
    ("pair=x", "pair='x' is not a pair id"),
])
def test_bad_filters_are_400_with_a_message(viewer_client, pairs, query, message):
    response = viewer_client.get(f"/api/v1/transitions?{query}")
    assert response.status_code == 400 and message in response.json()["error"]


def test_openapi_describes_every_api_url():
    import yaml
    from django.conf import settings
    from django.urls import resolve

    spec = yaml.safe_load((settings.BASE_DIR / "docs" / "openapi.yaml").read_text())
    for path in spec["paths"]:
        assert resolve(path.replace("{id}", "1")).url_name.startswith("api-")
