"""The board's rows as re-rendered while the monitor runs: kept markup never shows what is no longer true."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.utils import timezone

from board import board_html
from board.board import Board
from monitor import record
from monitor.evaluate import evaluate
from monitor.models import Pair
from tests.factories import readings, recorded, save

pytestmark = pytest.mark.django_db


def row_text(pair: Pair, now: dt.datetime) -> str:
    """The pair's row as a reader sees it: tags dropped, references resolved, blanks folded."""
    markup = str(Board({}, now=now).rows_html)
    name = re.escape(board_html.escape(pair.name))
    row = re.search(rf'<tbody[^>]*data-pair="{name}">.*?</tbody>', markup, re.S)
    assert row, f"no row for {pair.name}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row.group(0))).split())


def with_lag(pair: Pair, lag: float) -> Pair:
    pair.lag = lag
    return pair


def test_a_rendered_row_follows_each_poll_and_flip():
    now = timezone.now()
    pair = save(with_lag(recorded("kept", "alive", checked=now - dt.timedelta(seconds=1)), 0.25))
    first = row_text(pair, now)
    assert "High Availability Status: Alive" in first and "0.25 s" in first and "1.0 s ago" in first

    # A quiet poll: only the last check and the lag move; the kept markup is reused around them.
    Pair.objects.filter(pk=pair.pk).update(last_checked=now + dt.timedelta(seconds=2), lag=0.5)
    later = now + dt.timedelta(seconds=3)
    text = row_text(pair, later)
    assert "0.50 s" in text and "1.0 s ago" in text and "fresh" in text

    # A flip, recorded the way the monitor records it: the row shows the new status, its cause and summary.
    at = now + dt.timedelta(seconds=4)
    record.record(pair.pk, evaluate(readings("primary-down")), at)
    text = row_text(pair, at + dt.timedelta(seconds=1))
    assert "High Availability Status: Failed" in text and "primary-down" in text and "is down" in text

    # No poll for long: the row turns Unknown with its age, whatever was kept.
    text = row_text(pair, at + dt.timedelta(minutes=10))
    assert "High Availability Status: Unknown" in text and "monitor-stale" in text and "stale" in text


def test_warnings_and_lag_warning_show_as_they_change():
    now = timezone.now()
    pair = save(with_lag(recorded("warned", "alive", checked=now, lag_warning=5.0), 1.0))
    assert 'class="lag high"' not in str(Board({}, now=now).rows_html)
    Pair.objects.filter(pk=pair.pk).update(lag=6.0, warnings=["heartbeat lag 6 s → above 5 s"])
    markup = str(Board({}, now=now).rows_html)
    assert 'class="lag high"' in markup
    assert "heartbeat lag 6 s → above 5 s" in row_text(pair, now)


def test_rows_are_ascii_and_escaped():
    now = timezone.now()
    pair = save(recorded("café <script>", "alive", checked=now))
    markup = str(Board({}, now=now).rows_html)
    assert markup.isascii()
    assert "<script>" not in markup and 'data-pair="caf&#233; &lt;script&gt;"' in markup
    assert row_text(pair, now).startswith("café <script>")


def test_kept_markup_is_dropped_for_pairs_no_longer_shown():
    now = timezone.now()
    board_html._kept.clear()
    pairs = [save(recorded(f"gone-{i}", "alive", checked=now)) for i in range(3)]
    assert "gone-2" in Board({}, now=now).rows_html
    assert sum(len(k) for k in board_html._kept.values()) == 3
    Pair.objects.filter(pk__in=[p.pk for p in pairs[1:]]).delete()
    for i in range(1100):  # past the slack kept for boards filtered differently
        board_html._kept[str(timezone.get_current_timezone())][("old", i)] = (("", "", "", ""), None, None)
    assert "gone-2" not in Board({}, now=now).rows_html
    assert sum(len(k) for k in board_html._kept.values()) == 1
