"""Test connection against the real sandbox pair: all green, and each misconfiguration named."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from devtools.sandbox.certs import make_ca
from devtools.sandbox.pair import MONITOR_USER
from monitor.models import Pair
from tests import risk_steps
from tests.factories import pair_data
from tests.services import free_port

URL = "/pairs/test-connection/"


def sandbox_form(sandbox, **changes) -> dict:
    ca = sandbox.ca_file.read_text()

    def node(spec) -> dict:
        values = {"host": "127.0.0.1", "port": str(spec.port), "known_as": spec.repl_ip, "monitor_user": MONITOR_USER,
                  "monitor_password": sandbox.monitor_password, "tls_mode": "verify-identity", "ca_cert": ca}
        return {**values, **changes.get(spec.role, {})}

    return pair_data("sandbox-test", primary=node(sandbox.primary), secondary=node(sandbox.secondary))


def node_text(html: str, role: str) -> str:
    """The visible text of one node's report."""
    block = html.split(f"node-check-{role}", 1)[1].split("node-check-", 1)[0]
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", block)).split())


def run(client, data: dict, htmx: bool = True) -> str:
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(URL, data, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def positions(sandbox) -> dict:
    return {role: sandbox.sql(role, "SELECT @@gtid_binlog_pos AS p")[0]["p"] for role in ("primary", "secondary")}


def test_all_green_and_nothing_saved_or_changed(admin_client, healthy):
    before = positions(healthy)
    html = run(admin_client, sandbox_form(healthy))
    for role, peer in (("primary", healthy.secondary), ("secondary", healthy.primary)):
        text = node_text(html, role)
        assert "all green" in text, text
        assert "Reachable yes" in text and "-MariaDB" in text and "(mariadb)" in text
        assert "TLS in use (" in text and "verified" in text and "not verified" not in text
        assert "Monitor privileges all granted" in text and "binlog horizon" not in text
        assert f"from {peer.repl_ip}:{peer.port} (the other node): IO Yes, SQL Yes" in text
        assert "log_bin ON" in text and "read_only OFF" in text and "gtid_strict_mode=ON" in text
        assert "Heartbeat schema present" in text
    assert "server_id 1" in node_text(html, "primary") and "server_id 2" in node_text(html, "secondary")
    assert not Pair.objects.exists()
    assert positions(healthy) == before  # not a single write on either server


def test_a_monitor_without_binlog_monitor_is_green_with_a_note_for_the_warnings(admin_client, healthy):
    with risk_steps.monitor_without(healthy, "primary", "BINLOG MONITOR"):
        html = run(admin_client, sandbox_form(healthy))
    text = node_text(html, "primary")
    assert "all green" in text and "Monitor privileges all granted" in text  # the statuses need nothing more
    assert "for the binlog horizon warning: grant BINLOG MONITOR" in text
    assert "binlog horizon" not in node_text(html, "secondary")


def test_without_javascript_the_form_comes_back_with_the_report(admin_client, healthy):
    html = run(admin_client, sandbox_form(healthy), htmx=False)
    assert '<form method="post"' in html and "all green" in node_text(html, "primary")


def test_wrong_password_is_named(admin_client, healthy):
    html = run(admin_client, sandbox_form(healthy, primary={"monitor_password": "wrong"}))
    text = node_text(html, "primary")
    assert "Reachable no: auth (error 1045) Access denied for user 'hapanel_monitor'" in text
    assert "all green" in node_text(html, "secondary")


def test_wrong_ca_is_named(admin_client, healthy):
    other_ca, _ = make_ca("some other CA")
    html = run(admin_client, sandbox_form(healthy, secondary={"ca_cert": other_ca.decode()}))
    text = node_text(html, "secondary")
    assert "Reachable no: tls" in text and "CERTIFICATE_VERIFY_FAILED" in text, text


def test_stopped_node_is_named(admin_client, healthy):
    html = run(admin_client, sandbox_form(healthy, primary={"port": str(free_port())}))
    text = node_text(html, "primary")
    assert "Reachable no: refused (error 2003)" in text and "Connection refused" in text, text


def test_stopped_sandbox_node_is_named(admin_client, healthy):
    healthy.fault("stop-primary")
    text = node_text(run(admin_client, sandbox_form(healthy)), "primary")
    assert "Reachable no: refused" in text, text


@pytest.fixture
def monitor_without_slave_monitor(healthy):
    """A monitor account with every grant but SLAVE MONITOR, kept out of the binary log."""
    user = "'hapanel_nomon'@'127.%'"
    for role in ("primary", "secondary"):
        healthy.sql(role, "SET sql_log_bin = 0", f"CREATE USER {user} IDENTIFIED BY 'nomon-pw'",
                    f"GRANT SELECT, INSERT, UPDATE ON hapanel_monitor.* TO {user}")
    yield "hapanel_nomon"
    for role in ("primary", "secondary"):
        healthy.sql(role, "SET sql_log_bin = 0", f"DROP USER IF EXISTS {user}")


def test_missing_slave_monitor_is_named(admin_client, healthy, monitor_without_slave_monitor):
    account = {"monitor_user": monitor_without_slave_monitor, "monitor_password": "nomon-pw"}
    html = run(admin_client, sandbox_form(healthy, primary=account, secondary=account))
    for role in ("primary", "secondary"):
        text = node_text(html, role)
        assert "Reachable yes" in text
        assert "Monitor privileges missing: SLAVE MONITOR" in text, text
        assert "Replication cannot read:" in text and "SLAVE MONITOR" in text
        assert "the monitor account lacks SLAVE MONITOR" in text


def test_saved_pair_blank_password_uses_the_stored_one(admin_client, sandbox, sandbox_pair):
    data = sandbox_form(sandbox, primary={"monitor_password": ""}, secondary={"monitor_password": ""})
    data.update({"pair_id": str(sandbox_pair.pk), "name": sandbox_pair.name})
    html = run(admin_client, data)
    assert "all green" in node_text(html, "primary") and "all green" in node_text(html, "secondary")
