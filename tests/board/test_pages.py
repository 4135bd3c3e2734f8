"""The HTML pages, for every persona: what an operator sees on the board, a pair, the history."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from unittest import mock

import pytest
from django.utils import timezone

from hapanel.roles import VIEWER
from monitor import coordination
from monitor.models import Pair, Transition
from tests.factories import make_pairs, make_user, recorded, save

pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor_up(redis_url, flush_redis):
    coordination.beat(time.time())


@pytest.fixture
def pairs(monitor_up):
    alive = recorded("alpha", "alive")
    failed = recorded("bravo", "primary-down")
    stale = recorded("charlie", "alive", checked=timezone.now() - dt.timedelta(seconds=300))
    return tuple(save(p) for p in (alive, failed, stale))


PAGES = ["/", "/board/", "/pairs/{id}/", "/transitions/"]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("persona,expected", [("outsider", 403), ("viewer", 200), ("admin", 200)])
def test_pages_by_role(request, pairs, url, persona, expected):
    client = request.getfixturevalue(f"{persona}_client")
    response = client.get(url.format(id=pairs[0].pk))
    assert response.status_code == expected
    if expected == 403:
        assert b"neither the <code>viewer</code>" in response.content


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_goes_to_login(anonymous_client, pairs, url):
    url = url.format(id=pairs[0].pk)
    response = anonymous_client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(f"/login/?next={url}")


def test_login_page_and_healthz_need_no_login(anonymous_client):
    assert b'name="username"' in anonymous_client.get("/login/").content
    assert anonymous_client.get("/healthz").json()["ok"] is True


def test_login_form_logs_in(anonymous_client, pairs):
    make_user("ops", VIEWER, password="correct-horse-battery")
    response = anonymous_client.post("/login/", {"username": "ops", "password": "correct-horse-battery"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"High Availability Status: <b>Failed</b>" in response.content


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_board_shows_lines_causes_and_failed_first(viewer_client, pairs):
    page = viewer_client.get("/")
    body = text(page)
    assert "High Availability Status: Failed" in body and "Replication Status: Alive" in body
    assert "The primary (10.0.0.1:3306) is down: connection refused" in body
    names = re.findall(r'data-pair="([^"]+)"', page.content.decode())
    assert names == ["bravo", "charlie", "alpha"]  # failed, then unknown (stale), then alive
    assert "1 failed · 1 unknown · 1 alive" in body
    assert "The monitor is down" not in body


def test_stale_pair_shows_unknown_not_the_stored_alive(viewer_client, pairs):
    body = text(viewer_client.get("/?name=charlie"))
    assert "High Availability Status: Unknown" in body and "Replication Status: Unknown" in body
    assert "Not checked for 5 min 0 s" in body and "was Alive (ok)" in body
    assert "stale" in body
    assert "Status: Alive" not in body


def test_filter_by_name_and_status_without_javascript(viewer_client, pairs):
    assert re.findall(r'data-pair="([^"]+)"', viewer_client.get("/?status=Alive").content.decode()) == ["alpha"]
    assert re.findall(r'data-pair="([^"]+)"', viewer_client.get("/?status=problems").content.decode()) == [
        "bravo", "charlie"]
    assert re.findall(r'data-pair="([^"]+)"', viewer_client.get("/?name=RAV").content.decode()) == ["bravo"]
    assert "No pair matches the filter." in text(viewer_client.get("/?name=zulu"))


def test_banner_when_the_monitor_is_down(viewer_client, redis_url, flush_redis):
    recorded("alpha").save()
    assert "The monitor is down: the monitor has never run" in text(viewer_client.get("/"))
    coordination.beat(time.time() - 120)
    body = text(viewer_client.get("/board/"))
    assert "The monitor is down: no worker has run the monitor." in body and "Last seen at" in body
    assert "2 min 0 s ago" in body or "2 min 1 s ago" in body


def test_fragment_etag_gives_304_until_something_changes(viewer_client, pairs):
    first = viewer_client.get("/board/")
    etag = first["ETag"]
    assert first.status_code == 200 and first["Cache-Control"].startswith("no-cache")
    assert viewer_client.get("/board/", headers={"If-None-Match": etag}).status_code == 304
    alive = pairs[0]
    alive.ha_status, alive.last_checked = "Failed", timezone.now()
    alive.save()
    changed = viewer_client.get("/board/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert text(changed).count("High Availability Status: Failed") == 2


def test_fragment_etag_changes_when_pairs_turn_stale_with_time_alone(viewer_client, pairs):
    etag = viewer_client.get("/board/")["ETag"]
    later = timezone.now() + dt.timedelta(seconds=60)  # alpha and bravo (1 s interval) stale after 5 s
    coordination.beat(later.timestamp())  # the monitor itself still up: only the pairs changed
    with mock.patch("django.utils.timezone.now", return_value=later):
        changed = viewer_client.get("/board/", headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed["ETag"] != etag
        assert "Status: Alive" not in text(changed) and "Status: Failed" not in text(changed)
        assert viewer_client.get("/board/", headers={"If-None-Match": changed["ETag"]}).status_code == 304


@pytest.mark.parametrize("change", [
    {"ha_status": "Unknown", "ha_cause": "monitor-stale"},  # what the sweep writes, last_checked untouched
    {"topology": "one-way"},
    {"lag_warning": 0.001},
])
def test_fragment_etag_changes_with_any_column_shown(viewer_client, pairs, change):
    first = viewer_client.get("/board/")
    Pair.objects.filter(name="charlie").update(**change)  # the stale pair: its statuses show Unknown either way
    changed = viewer_client.get("/board/", headers={"If-None-Match": first["ETag"]})
    assert changed.status_code == 200 and changed.content != first.content


def test_fragment_for_an_expired_session_redirects_the_page(anonymous_client, pairs):
    response = anonymous_client.get("/board/", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response["HX-Redirect"].startswith("/login/")


def test_board_query_count_does_not_grow_with_pairs(viewer_client, monitor_up, django_assert_max_num_queries):
    make_pairs(60)
    with django_assert_max_num_queries(8):  # session, user, role, admin role, failing channels, pairs
        assert viewer_client.get("/").status_code == 200
    with django_assert_max_num_queries(7):
        assert viewer_client.get("/board/").status_code == 200


def test_pair_page_shows_nodes_directions_remediation_history_and_chart(admin_client, pairs):
    failed = pairs[1]
    Transition.objects.create(pair=failed, kind="ha", old_status="Alive", new_status="Failed", cause="primary-down",
                              summary="The primary is down", detected_at=timezone.now())
    now = time.time()
    for i in range(30):
        coordination.push_lag(failed.pk, now - 60 + 2 * i, None if 10 <= i < 16 else 0.1 * i)  # 12 s unknown
    page = admin_client.get(f"/pairs/{failed.pk}/")
    body = text(page)
    assert "High Availability Status: Failed" in body
    assert "refused (2003): Can't connect to MySQL server (111 Connection refused)" in body  # primary
    assert "Replication state unknown: the monitor could not read this node" in body  # the primary
    assert "Replication primary→secondary" in body and "IO thread Connecting" in body
    assert "2003: error reconnecting to master: Connection refused" in body
    assert "10.11.19-MariaDB-log" in body and "1-1-30,2-2-45" in body
    assert "What to do" in body and "Check the primary's mariadbd process" in body
    assert "@@log_error" in body and "Must the pair be set up again? No" in body
    assert "Alive → Failed" in body and "The primary is down" in body
    svg = re.search(r"<svg.*?</svg>", page.content.decode(), re.S).group(0)
    assert svg.count("<polyline") == 2 and 'class="gap"' in svg  # a gap where the lag was unknown
    assert "30 samples; latest 2.900 s" in body


def test_pair_page_404(viewer_client, pairs):
    assert viewer_client.get("/pairs/999999/").status_code == 404


def test_transitions_page_filters_and_pages(viewer_client, pairs):
    alive, failed, _ = pairs
    base = timezone.now() - dt.timedelta(hours=2)
    for i in range(60):
        Transition.objects.create(pair=alive if i % 2 else failed, kind="ha" if i % 3 else "replication",
                                  old_status="Alive", new_status="Failed", cause=f"c{i}", summary=f"flip {i}",
                                  detected_at=base + dt.timedelta(minutes=i))
    first = text(viewer_client.get("/transitions/"))
    assert "60 transitions" in first and "page 1 of 2" in first and "flip 59" in first
    assert "flip 9 " in text(viewer_client.get("/transitions/?page=2"))
    only = text(viewer_client.get(f"/transitions/?pair={alive.pk}&kind=ha"))
    assert "20 transitions" in only and "flip 2 " not in only
    since = (base + dt.timedelta(minutes=50)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")
    assert "10 transitions" in text(viewer_client.get(f"/transitions/?since={since}Z"))
    bad = viewer_client.get("/transitions/?since=yesterday")
    assert bad.status_code == 400 and "is not an ISO 8601 time" in text(bad)
