"""What to do, in the server's own words: the remediation lines name the statements and tools of the node's
flavour and version (MySQL 8.0.22 renamed the replica statements, 8.4 removed the old ones). Pure."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from monitor import causes
from monitor.evaluate import evaluate
from monitor.readings import NodeReading, PairReadings, ReplicationChannel
from monitor.vocabulary import Cause

# (flavour, version): words that must appear somewhere in the lines, words that must appear nowhere.
FLAVOURS = {
    ("mariadb", "10.11.19-MariaDB"): ({"START SLAVE", "CHANGE MASTER TO", "mariabackup", "SLAVE MONITOR"},
                                      {"START REPLICA", "CHANGE REPLICATION SOURCE", "clone plugin"}),
    ("mysql", "8.4.3"): ({"START REPLICA", "STOP REPLICA", "CHANGE REPLICATION SOURCE TO", "clone plugin",
                          "SHOW REPLICA STATUS", "SOURCE_CONNECT_RETRY"},
                         {"START SLAVE", "STOP SLAVE", "CHANGE MASTER", "mariabackup", "MASTER_", "mariadbd"}),
    ("mysql", "8.0.21"): ({"START SLAVE", "CHANGE MASTER TO", "--master-data"},
                          {"START REPLICA", "mariabackup", "mariadbd", "SLAVE MONITOR"}),
}


@pytest.mark.parametrize("flavour,version", list(FLAVOURS))
def test_every_remediation_line_speaks_the_servers_flavour(flavour, version):
    ctx = {"flavour": flavour, "version": version, "replica": "secondary", "source": "primary",
           "source_addr": "db1:3306"}
    lines = " ".join(causes.remediation(cause, ctx) for cause in Cause.all())
    wanted, unwanted = FLAVOURS[(flavour, version)]
    assert {w for w in wanted if w not in lines} == set()
    assert {w for w in unwanted if w in lines} == set()
    assert not re.search(r"[{}]|\?", lines), "every field of every line filled"


def _stopped_by_operator(flavour: str, version: str) -> PairReadings:
    def node(role: str, ch: dict | None) -> NodeReading:
        channels = () if ch is None else (ReplicationChannel(**{
            "source_host": "127.0.0.1", "source_port": 3307, "io_running": "Yes", "sql_running": "Yes",
            "seconds_behind": 0, "connect_retry": 1, "heartbeat_period": 1.0, **ch}),)
        return NodeReading(role=role, address=f"127.0.0.1:{3307 if role == 'primary' else 3308}", flavour=flavour,
                           version=version, read_only=role == "secondary", slave_net_timeout=3,
                           heartbeat_written=role == "primary", channels=channels)
    return PairReadings(name="vault", topology="one-way", primary=node("primary", None),
                        secondary=node("secondary", {"io_running": "No", "last_io_errno": 0}))


@pytest.mark.parametrize("flavour,version,start", [("mariadb", "10.11.19-MariaDB", "START SLAVE"),
                                                   ("mysql", "8.4.3", "START REPLICA")])
def test_an_operators_stop_is_undone_with_the_servers_own_statement(flavour, version, start):
    health = evaluate(_stopped_by_operator(flavour, version))
    assert health.ha.cause == Cause.STOPPED_BY_OPERATOR
    assert f"run {start} there" in health.ha.remediation


def test_a_refused_login_on_both_nodes_is_said_as_such():
    """Not "the monitor reaches neither node": both answered, and refused the panel's login."""
    auth = {"reach": "auth", "errno": 1045, "error": "Access denied for user 'hapanel_monitor'"}
    readings = _stopped_by_operator("mariadb", "10.11.19-MariaDB")
    both = replace(readings, primary=replace(readings.primary, **auth), secondary=replace(readings.secondary, **auth))
    health = evaluate(both)
    assert health.ha.cause == Cause.MONITOR_AUTH_FAILURE
    assert health.ha.summary.startswith("The panel's login is refused on both nodes")
    assert "reaches neither" not in health.ha.summary
