"""When the emergency page opens, and what it tells users, against the real sandbox pair: faults injected for
real, the monitor's real poll recording the pair's statuses, the page through Django's test client."""

from __future__ import annotations

import logging
import os
import re
import signal

from django.test import Client, override_settings

from devtools.sandbox import process
from emergency import connect
from emergency.gate import copy_age
from emergency.models import Access
from monitor import poller as monitor
from monitor.models import Pair
from tests.emergency_steps import closed_text, log_in, plain, reveal_scenario, urls, vault
from tests.services import wait_for


def poll_until(pair: Pair, cause: str, timeout: float = 20) -> Pair:
    """Real polls until the recorded HA cause is `cause`; the page then reads what the monitor recorded."""
    def recorded() -> bool:
        monitor.poll(pair)
        pair.refresh_from_db()
        return pair.ha_cause == cause
    wait_for(recorded, timeout, f"a real poll to record the HA cause {cause}")
    connect.forget_reach()
    return pair


def test_a_refused_panel_login_keeps_the_page_closed_without_server_words(demo_vault, anonymous_client, caplog):
    pair, demo = demo_vault
    caplog.set_level(logging.WARNING, logger="emergency")
    primary = pair.node("primary")
    primary.set_password("not the monitor's password")
    primary.save()
    connect.forget_reach()
    assert connect.primary_reach(pair).kind == "auth"  # the real server refused the panel's own login
    text = closed_text(anonymous_client, pair)
    assert "only this emergency page cannot sign in" in text and "tell your administrators" in text
    assert log_in(anonymous_client, pair, "alice", demo.passwords["alice"]).status_code == 403
    # The server's words are for the operators, in the log.
    assert any("primary" in r.getMessage() and "Access denied" in r.getMessage() for r in caplog.records)


def test_an_operator_stopping_replication_keeps_the_page_closed(demo_vault, healthy, anonymous_client):
    pair, _ = demo_vault
    healthy.fault("stop-io")
    poll_until(pair, "stopped-by-operator")
    assert pair.ha_status == "Failed"
    text = closed_text(anonymous_client, pair)
    assert "an administrator paused the copying to the standby server on purpose" in text


def test_a_secondary_that_is_down_closes_the_page_saying_the_copy_cannot_be_read(demo_vault, healthy,
                                                                                  anonymous_client):
    pair, demo = demo_vault
    healthy.fault("crash-primary")
    # The sandbox has no fault for the secondary: it is killed the way crash-primary kills the primary, and
    # the `healthy` fixture restarts it.
    pid = healthy.pid("secondary")
    os.kill(pid, signal.SIGKILL)
    assert process.wait_gone(pid, 10)
    text = closed_text(anonymous_client, pair)
    assert "The emergency copy cannot be read" in text and "Try again in a few" in text
    answer = log_in(anonymous_client, pair, "alice", demo.passwords["alice"])
    assert answer.status_code in (403, 503) and "copy cannot be read" in answer.content.decode()


def test_the_closed_page_sends_users_to_the_vaults_web_address(demo_vault, anonymous_client):
    pair, _ = demo_vault
    assert "sends users to https://vault.example.org/" in vault("set-url", "https://vault.example.org/")
    assert Access.objects.get(pair=pair).web_url == "https://vault.example.org/"
    text = closed_text(anonymous_client, pair)
    assert 'use the vault at <a href="https://vault.example.org/">' in text


def test_a_crashed_primary_recorded_by_the_monitor_opens_the_page_with_the_copys_age(demo_vault, healthy):
    pair, demo = demo_vault
    poll_until(pair, "ok")  # the monitor at work before the crash: its heartbeat row reached the secondary
    healthy.fault("crash-primary")
    poll_until(pair, "primary-down")
    age = pair.readings["secondary"]["peer_heartbeat"]["age"]
    as_of = copy_age(pair).as_of
    assert as_of is not None and abs((pair.last_checked - as_of).total_seconds() - age) < 0.001
    with override_settings(EMERGENCY_COPY_WARN_SECONDS=3600):
        page = Client().get(urls(pair)["login"]).content.decode()
    line = re.search(r'<p class="em-copy-age[^"]*" id="em-copy-age">(.*?)</p>', page, re.S)
    assert line is not None and "em-warn" not in line.group(0)
    assert line.group(1).startswith(f"Copy as of {as_of:%H:%M:%S} UTC (")
    assert line.group(1).endswith("ago): changes made on the main vault since then are not shown.")
    assert re.search(r"The main vault server is down since \d\d:\d\d UTC \([\d.]+ s ago\)\.", plain(page))
    with override_settings(EMERGENCY_COPY_WARN_SECONDS=0):  # older than the threshold: a warning
        assert 'class="em-copy-age em-warn"' in Client().get(urls(pair)["login"]).content.decode()
    assert demo.secrets[("firewall-hq", "admin")] in reveal_scenario(Client(), pair, demo)


def test_the_copys_age_is_unknown_when_the_monitor_never_read_it(demo_vault, healthy):
    pair, demo = demo_vault
    healthy.fault("hang-primary")  # the panel's own check times out: open without the monitor's help
    page = Client().get(urls(pair)["login"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "The main vault server does not answer" in text
    assert "Copy age unknown: the latest changes made on the main vault may not be shown." in text


def test_an_archived_pair_leaves_the_public_picker(demo_vault, healthy, anonymous_client):
    from devtools.registry import register

    pair, _ = demo_vault
    other = register(healthy, name="another")
    Access.objects.create(pair=other, schema="vault")
    assert anonymous_client.get("/emergency/").status_code == 200  # two pairs: the picker
    other.archived = True
    other.save()
    picker = anonymous_client.get("/emergency/")
    assert picker.status_code == 302 and picker["Location"] == urls(pair)["home"]
    assert anonymous_client.get(urls(other)["login"]).status_code == 404
