"""One look for a status line and one wording for a duration, wherever the panel shows them."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import time
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from alerts.message import Message
from board import board_html, presenters
from hapanel.durations import humanize
from monitor import coordination
from monitor.models import Pair
from tests.factories import recorded, save

DURATIONS = [
    (None, "never"), (-3, "0.0 s"), (0, "0.0 s"), (0.42, "0.4 s"), (9.94, "9.9 s"), (10, "10 s"), (42, "42 s"),
    (59.9, "59 s"), (60, "1 min 0 s"), (303, "5 min 3 s"), (599.9, "9 min 59 s"), (600, "10 min"),
    (1800, "30 min"), (3599, "59 min"), (3600, "1 h 0 min"), (11520, "3 h 12 min"), (86399, "23 h 59 min"),
    (86400, "1 d 0 h"), (187200, "2 d 4 h"), (90 * 86400 + 7200, "90 d 2 h"),
]


@pytest.mark.parametrize("seconds,text", DURATIONS)
def test_humanize(seconds, text):
    assert humanize(seconds) == text


def test_the_board_script_ticks_ages_with_the_same_rules():
    node = shutil.which("node")
    assert node, "node is missing: scripts/bootstrap.sh installs it (Debian's nodejs) to check static/board/board.js"
    source = (settings.BASE_DIR / "static" / "board" / "board.js").read_text()
    function = re.search(r"^  function humanize\(s\) \{\n.*?^  \}\n", source, re.M | re.S)
    assert function, "static/board/board.js has no humanize(s) to check"
    table = [(s, text) for s, text in DURATIONS if s is not None]  # the script only ticks ages it has
    script = f"{function.group(0)}\nconsole.log(JSON.stringify({json.dumps([s for s, _ in table])}.map(humanize)));"
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30, check=True).stdout
    assert dict(zip([s for s, _ in table], json.loads(out), strict=True)) == dict(table)


def test_an_alert_says_how_long_the_previous_status_lasted_as_the_board_would():
    message = Message(event="ha-failed", title="High Availability Failed", pair="alpha",
                      status_kind="High Availability", old_status="Alive", new_status="Failed",
                      cause="primary-down", summary="The primary is down", previous_lasted=187200)
    assert "Alive lasted: 2 d 4 h" in message.text()
    assert "Alive lasted 2 d 4 h" in message.one_line()


LINE = re.compile(r'<td class="line [^"]*">.*?</td><td class="cause">.*?</td><td class="since">.*?</td>', re.S)


@pytest.mark.django_db
@pytest.mark.parametrize("kind,checked_ago", [("primary-down", 1), ("apply-error", 1), ("alive", 300)],
                         ids=["ha-failed", "replication-failed", "stale"])
def test_a_status_line_looks_the_same_on_the_board_and_the_pair_page(viewer_client, redis_url, flush_redis, kind,
                                                                     checked_ago):
    coordination.beat(time.time())
    now = timezone.now()
    pair = save(recorded("café <b>", kind, checked=now - dt.timedelta(seconds=checked_ago), since_ago=11550))
    Pair.objects.filter(pk=pair.pk).update(ha_summary='a "quoted" <summary> & → more')
    pair.refresh_from_db()
    with mock.patch("django.utils.timezone.now", return_value=now):
        board = viewer_client.get("/").content.decode()
        page = viewer_client.get(f"/pairs/{pair.pk}/").content.decode()
        view = presenters.present(pair, now)
    expected = [str(board_html.status_line(s)) for s in view.statuses()]
    assert LINE.findall(board) == expected
    assert LINE.findall(page) == expected
    ha, repl = expected
    assert f'class="line st-{view.ha.status.lower()}">High Availability Status: <b>{view.ha.status}</b>' in ha
    if checked_ago == 1:
        assert "3 h 12 min" in ha and "3 h 12 min" in repl
        assert "a &quot;quoted&quot; &lt;summary&gt; &amp; &#8594; more" in ha
    else:  # a stale line is as old as the last check
        assert "5 min 0 s" in ha and "monitor-stale" in ha


def test_a_notice_is_shown_once(admin_client):
    """base.html shows the messages; a page that showed them again made every notice appear twice."""
    from alerts.models import Channel

    channel = Channel.objects.create(kind="webhook", name="ops hook", config={"url": "http://127.0.0.1:9/"})
    response = admin_client.post(f"/alerts/channels/{channel.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert response.content.decode().count("Channel “ops hook” deleted.") == 1
