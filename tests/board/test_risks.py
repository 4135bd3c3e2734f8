"""Warnings before failures where people look: the board's marker, the pair page's list with evidence and what to
do, the JSON API and /metrics; a warning cleared leaves them all."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import time

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitor import coordination, risk_record
from monitor.risks.checkup import Assessment, Risk
from monitor.vocabulary import RiskCode, Severity
from tests.factories import recorded, save

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests"
HORIZON = Risk(RiskCode.BINLOG_HORIZON, Severity.CRITICAL, "primary→secondary",
               "the secondary has been away 2 d 20 h; the primary purges binary logs after 3 d 0 h: 4 h 0 min left "
               "before it can no longer catch up",
               "Bring the secondary back before the horizon: SET GLOBAL binlog_expire_logs_seconds = 604800",
               {"expire_seconds": 259200, "away_seconds": 244800}, ("primary", "secondary"))
SYNC = Risk(RiskCode.DURABILITY, Severity.WARNING, "primary", "the primary is not crash-safe: sync_binlog = 0",
            "SET GLOBAL sync_binlog = 1", {"sync_binlog": 0.0}, ("primary",))


@pytest.fixture
def pair(redis_url, flush_redis):
    coordination.beat(time.time())
    p = save(recorded("alpha"))
    save(recorded("bravo"))
    risk_record.record(p.pk, Assessment([HORIZON, SYNC], frozenset()), timezone.now() - dt.timedelta(minutes=5))
    return p


def _clear(pair) -> None:
    risk_record.record(pair.pk, Assessment([], frozenset()), timezone.now())


def test_the_board_marks_the_pair_with_its_worst_warning(viewer_client, pair):
    html = viewer_client.get("/board/").content.decode()
    row = re.search(r'<tbody[^>]*data-pair="alpha".*?</tbody>', html, re.S).group(0)
    marker = re.search(r'<a class="risk-marker risk-critical" href="/pairs/\d+/#warnings" title="([^"]*)">'
                       r'&#9888; 2</a>', row)
    assert marker, row
    assert marker.group(1) == "warnings before failures: binlog-horizon, config-durability"
    other = re.search(r'<tbody[^>]*data-pair="bravo".*?</tbody>', html, re.S).group(0)
    assert "risk-marker" not in other
    _clear(pair)
    assert "risk-marker" not in viewer_client.get("/board/").content.decode()


def test_the_pair_page_lists_each_warning_with_evidence_and_what_to_do(viewer_client, pair):
    html = viewer_client.get(pair.get_absolute_url()).content.decode()
    section = re.search(r'<section class="risks" id="warnings">.*?</section>', html, re.S).group(0)
    articles = re.findall(r'<article class="risk risk-(\w+)">.*?</article>', section, re.S)
    assert articles == ["critical", "warning"]  # worst first
    assert "Critical · primary→secondary <code>binlog-horizon</code>" in section
    assert "4 h 0 min left before it can no longer catch up" in section
    assert "<b>What to do:</b> Bring the secondary back before the horizon" in section
    assert "<dt>away_seconds</dt><dd><code>244800</code></dd>" in section
    _clear(pair)
    html = viewer_client.get(pair.get_absolute_url()).content.decode()
    assert "None: the last checkup of both nodes found nothing that will break the pair." in html


def test_the_api_counts_them_and_the_pair_lists_them(viewer_client, pair):
    listed = {p["name"]: p for p in viewer_client.get("/api/v1/pairs").json()["pairs"]}
    assert listed["alpha"]["warnings_before_failures"] == {
        "critical": 1, "warning": 1, "unknown": 0, "worst": "critical",
        "codes": ["binlog-horizon", "config-durability"]}
    assert listed["bravo"]["warnings_before_failures"]["worst"] is None
    one = viewer_client.get(f"/api/v1/pairs/{pair.pk}").json()["warnings_before_failures"]
    assert [w["code"] for w in one["open"]] == ["binlog-horizon", "config-durability"]
    first = one["open"][0]
    assert first["severity"] == "critical" and first["subject"] == "primary→secondary"
    assert first["remediation"].startswith("Bring the secondary back") and first["evidence"]["away_seconds"] == 244800
    assert one["checked_at"] and first["raised_at"]
    _clear(pair)
    assert viewer_client.get(f"/api/v1/pairs/{pair.pk}").json()["warnings_before_failures"]["open"] == []


def test_metrics_one_series_per_open_warning(anonymous_client, pair, settings):
    settings.METRICS_TOKEN = TOKEN

    def scrape() -> str:
        return anonymous_client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content.decode()
    text = scrape()
    s = {(x.name, tuple(sorted(x.labels.items()))): x.value
         for family in text_string_to_metric_families(text) for x in family.samples}
    key = ("hapanel_pair_warning", (("code", "binlog-horizon"), ("pair", "alpha"), ("severity", "critical"),
                                    ("subject", "primary→secondary")))
    assert s[key] == 1
    assert s[("hapanel_warnings_raised_total", (("code", "config-durability"), ("pair", "alpha")))] == 1
    result = subprocess.run(["/usr/bin/promtool", "check", "metrics"], input=text.encode(), capture_output=True,
                            timeout=30)
    assert result.returncode == 0 and result.stderr == b"", result
    _clear(pair)
    assert "hapanel_pair_warning{" not in scrape()
