"""The presentation rules: honest freshness, the board's order and filter, the Nagios exit code, the chart."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from board import charts, presenters, runbook
from monitor import causes
from monitor.models import Pair
from tests.factories import recorded, save

NOW = timezone.now()


def view(kind="alive", age=1.0, **fields):
    return presenters.present(recorded("p", kind, checked=NOW - dt.timedelta(seconds=age), **fields), NOW)


@pytest.mark.parametrize("seconds,text", [(None, "never"), (0.42, "0.4 s"), (42, "42 s"), (303, "5 min 3 s"),
                                          (1800, "30 min"), (11520, "3 h 12 min"), (187200, "2 d 4 h")])
def test_humanize(seconds, text):
    assert presenters.humanize(seconds) == text


def test_fresh_alive_shows_what_was_recorded():
    v = view("alive", age=1)
    assert (v.ha.status, v.repl.status, v.fresh) == ("Alive", "Alive", True)
    assert "IO thread is Yes" in v.ha.summary


def test_stale_alive_shows_unknown_with_its_age():
    v = view("alive", age=125, poll_interval=1.0)  # bound max(3 s, STALE_MIN_SECONDS=5 s)
    assert (v.ha.status, v.repl.status, v.fresh) == ("Unknown", "Unknown", False)
    assert v.ha.stored == "Alive" and v.ha.cause == "monitor-stale"
    assert v.ha.summary.startswith("Not checked for 2 min 5 s") and "was Alive (ok)" in v.ha.summary
    assert v.warnings == []  # old warnings would be as stale as the status


def test_staleness_bound_follows_the_poll_interval():
    assert view("alive", age=25, poll_interval=10.0).fresh  # 3 intervals = 30 s
    assert not view("alive", age=31, poll_interval=10.0).fresh


def test_never_checked_is_unknown_and_waiting_not_stale():
    """A pair just saved waits for its first poll: no word of a monitor that would be down."""
    pair = recorded("p", "alive")
    pair.last_checked = None
    v = presenters.present(pair, NOW)
    assert v.ha.status == "Unknown" and v.ha.cause == "not-polled"
    assert v.ha.summary.startswith("Waiting for the first poll")
    [card, _] = runbook.for_pair(v, {})
    assert card["remediation"].startswith("Nothing to do while the monitor runs")


def test_failed_carries_cause_and_exit_codes():
    failed, alive, stale = view("primary-down"), view("alive"), view("alive", age=600)
    assert (failed.ha.status, failed.ha.cause, failed.repl.status) == ("Failed", "primary-down", "Unknown")
    assert "is down" in failed.ha.summary
    assert presenters.exit_code([alive]) == 0
    assert presenters.exit_code([alive, stale]) == 3
    assert presenters.exit_code([alive, stale, failed]) == 2


def test_order_failed_then_unknown_then_alive_and_filter():
    views = [view("alive"), view("alive", age=600), view("apply-error")]
    views[0].name, views[1].name, views[2].name = "a", "b", "c"
    assert [v.name for v in sorted(views, key=presenters.sort_key)] == ["c", "b", "a"]
    assert [v.name for v in views if presenters.matches(v, "Failed")] == ["c"]
    assert [v.name for v in views if presenters.matches(v, "problems")] == ["b", "c"]
    assert len([v for v in views if presenters.matches(v, "")]) == 3


@pytest.mark.django_db
def test_a_board_row_shows_what_the_pair_itself_shows():
    """The board's rows come with datetimes as stored and JSON as text: presented, they equal the model's."""
    save(recorded("fresh", "apply-error", checked=NOW - dt.timedelta(seconds=1)))
    save(recorded("stale", "primary-down", checked=NOW - dt.timedelta(seconds=600), poll_interval=10.0))
    never = recorded("never", "alive")
    never.last_checked = never.ha_since = None
    save(never)
    rows = list(presenters.board_queryset())
    assert [r[1] for r in rows] == ["fresh", "never", "stale"]
    for row, pair in zip(rows, Pair.objects.order_by("name"), strict=True):
        assert presenters.present(row, NOW) == presenters.present(pair, NOW)
    assert presenters.present(rows[0], NOW).warnings  # decoded, not left as JSON text


def test_runbook_cards_only_for_statuses_needing_attention():
    assert runbook.for_pair(view("alive"), {}) == []
    pair = recorded("p", "apply-error")
    cards = runbook.for_pair(presenters.present(pair, NOW), pair.health)
    assert [c["label"] for c in cards] == ["Replication"]
    assert "do not skip events blindly" in cards[0]["remediation"]
    assert any("@@log_error" in step for step in cards[0]["checks"])
    assert "re-seed" in cards[0]["setup_again"]
    stale = runbook.for_pair(view("alive", age=600), {})
    assert stale[0]["cause"] == "monitor-stale" and "Celery" in " ".join(stale[0]["checks"])


def test_a_runbook_card_without_a_recorded_remediation_takes_the_cause_line():
    pair = recorded("p", "apply-error")
    cards = runbook.for_pair(presenters.present(pair, NOW), {})  # health written before it held remediation
    assert cards[0]["remediation"] == causes.remediation(pair.repl_cause, {}) != ""


def test_lag_chart_scales_and_shows_gaps():
    start = 1000.0
    points = [(start + i, 0.2 if i < 1800 else None) for i in range(0, 3600, 10)]
    points[100] = (start + 1000, 3.0)
    chart = charts.lag_chart(points, start, start + 3600, warning=5.0)
    assert chart.top == 5.0 and chart.worst == 3.0 and chart.latest is None
    assert len(chart.lines) == 1 and chart.gaps  # one run of known samples, then unknown
    assert chart.warning_y is not None
    assert charts.lag_chart([], start, start + 3600).lines == []


def test_runbook_cards_speak_the_servers_flavour():
    """A MySQL 8.4 pair is told to run START REPLICA and read SHOW REPLICA STATUS, never MariaDB's words."""
    pair = recorded("p", "apply-error")
    mysql = {"primary": {"flavour": "mysql", "version": "8.4.3"}, "secondary": {"flavour": "mysql", "version": "8.4.3"}}
    cards = runbook.for_pair(presenters.present(pair, NOW), {}, mysql)
    text = " ".join([cards[0]["remediation"], *cards[0]["checks"], cards[0]["setup_again"]])
    assert "START REPLICA" in text and "SHOW REPLICA STATUS" in text and "journalctl -u mysql" in text
    assert "SLAVE" not in text and "mariadb" not in text.lower()
    mariadb = runbook.for_pair(presenters.present(pair, NOW), {}, {"secondary": {"flavour": "mariadb"}})
    assert "SHOW ALL SLAVES STATUS" in " ".join(mariadb[0]["checks"])
