"""The probe against the real sandbox nodes: what it reads, and how each failure is classified."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from devtools.sandbox.certs import make_ca
from monitor.probe.node import NodeProbe
from monitor.readings import Reach
from tests.factories import node_target


def test_reads_a_healthy_node_over_verified_tls(sandbox):
    reading = NodeProbe(node_target(sandbox)).read()
    assert reading.reach is Reach.OK, reading.error
    assert reading.flavour == "mariadb" and reading.version.startswith("10.")
    assert reading.tls_cipher  # the monitor's own connection is encrypted and verified
    assert reading.server_id == 2 and reading.slave_net_timeout == 3 and reading.read_only is False
    [channel] = reading.channels
    assert (channel.io_running, channel.sql_running, channel.source_port) == ("Yes", "Yes", sandbox.primary.port)
    assert channel.ssl_verify is True and channel.heartbeat_period == 1.0 and channel.connect_retry == 1
    assert reading.heartbeat_written and reading.gtid_position is not None


def test_reads_the_peer_heartbeat_written_in_the_same_poll(sandbox):
    primary, secondary = NodeProbe(node_target(sandbox, "primary")), NodeProbe(node_target(sandbox, "secondary"))
    assert primary.read().heartbeat_written and secondary.read().reach is Reach.OK
    beat = secondary.read_peer_heartbeat(primary.target.origin, primary.last_write_ts, wait=1.0)
    assert beat.caught_up and beat.age is not None and beat.age < 1.0, beat


def test_a_heartbeat_key_with_quotes_is_written_and_read_back_at_every_poll(sandbox):
    """The statements keep their fixed values written in, escaped once per connection."""
    key = "o'brien\\'s; DROP TABLE x -- %s:7:primary"
    primary = NodeProbe(node_target(sandbox, "primary", heartbeat_key=key))
    secondary = NodeProbe(node_target(sandbox, "secondary"))
    for _ in range(3):  # the first poll builds the statements; the next ones reuse them with a new time
        assert primary.read().heartbeat_written and secondary.read().reach is Reach.OK
        beat = secondary.read_peer_heartbeat(key, primary.last_write_ts, wait=1.0)
        assert beat.caught_up and beat.age is not None and beat.age < 1.0, beat


@pytest.mark.parametrize("change,reach,errno", [
    ({"password": "wrong"}, Reach.AUTH, 1045),
    ({"ca_pem": make_ca("a stranger CA")[0].decode()}, Reach.TLS, None),
    ({"host": "127.0.0.9"}, Reach.REFUSED, 2003),
])
def test_failures_are_classified(sandbox, change, reach, errno):
    reading = NodeProbe(node_target(sandbox, **change)).read()
    assert reading.reach is reach, reading
    if errno:
        assert reading.errno == errno
    assert reading.error and "wrong" not in reading.error  # never the password


def test_refused_is_immediate_and_a_hung_node_costs_one_timeout(healthy):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    started = time.monotonic()
    assert NodeProbe(node_target(healthy, port=port)).read().reach is Reach.REFUSED
    assert time.monotonic() - started < 0.2
    probe = NodeProbe(node_target(healthy, "primary", timeout=0.5))
    assert probe.read().reach is Reach.OK
    healthy.fault("hang-primary")
    started = time.monotonic()
    reading = probe.read()
    assert reading.reach is Reach.TIMEOUT, reading
    assert time.monotonic() - started < 1.5  # one read timeout; no second try after a timeout


def test_a_connection_killed_by_the_server_is_reopened(sandbox):
    probe = NodeProbe(node_target(sandbox))
    assert probe.read().reach is Reach.OK
    conn_id = probe.conn.thread_id()
    sandbox.sql("secondary", f"KILL CONNECTION {conn_id}")
    reading = probe.read()
    assert reading.reach is Reach.OK, reading
    assert probe.conn.thread_id() != conn_id


def test_missing_heartbeat_table_is_reported_not_fatal(sandbox):
    sandbox.sql("secondary", "SET sql_log_bin = 0", "RENAME TABLE hapanel_monitor.heartbeat TO hapanel_monitor.hb_away")
    try:
        reading = NodeProbe(node_target(sandbox)).read()
    finally:
        sandbox.sql("secondary", "SET sql_log_bin = 0",
                    "RENAME TABLE hapanel_monitor.hb_away TO hapanel_monitor.heartbeat")
    assert reading.reach is Reach.OK and reading.channels
    assert not reading.heartbeat_written and "heartbeat table hapanel_monitor.heartbeat is missing" in (
        reading.heartbeat_error)


def test_a_schema_the_monitor_may_not_write_is_reported(sandbox):
    reading = NodeProbe(node_target(sandbox, heartbeat_schema="mysql")).read()
    assert reading.reach is Reach.OK and "may not write mysql.heartbeat" in reading.heartbeat_error


ODD_ANSWERS = {
    "columns nobody knows": [{"Weird_Column": "x", "Another": 1}],
    "NULL thread states": [{"Slave_IO_Running": None, "Slave_SQL_Running": None, "Last_IO_Errno": None,
                            "Last_SQL_Errno": None}],
}


@pytest.mark.parametrize("answer", list(ODD_ANSWERS), ids=list(ODD_ANSWERS))
def test_an_odd_server_answer_is_unknown_with_a_reason(sandbox, answer):
    from monitor.evaluate import evaluate
    from monitor.readings import PairReadings

    probe = NodeProbe(node_target(sandbox))
    real_run = probe._run

    def odd(statements, args):  # the real server answers everything but the channels
        scalars, _, heartbeat = real_run(statements, args)
        return scalars, ODD_ANSWERS[answer], heartbeat

    probe._run = odd
    reading = probe.read()
    assert reading.parse_error, reading
    other = NodeProbe(node_target(sandbox, "primary")).read()
    health = evaluate(PairReadings("p", "bidirectional", other, reading))
    assert "Unknown" in (health.ha.status, health.replication.status)
    assert reading.parse_error.split(":")[0] in " ".join([health.ha.summary, health.replication.summary,
                                                          *health.warnings])


def test_an_unknown_version_string_is_a_readable_reason(sandbox):
    probe = NodeProbe(node_target(sandbox))
    real_query = probe._query
    probe._query = lambda sql, args=None: (
        [{"v": "banana", "c": ""}] if sql.startswith("SELECT @@version") else real_query(sql, args))
    reading = probe.read()
    assert "banana" in reading.parse_error


def test_mariadbd_killed_closes_the_kept_connection_at_once(healthy):
    """The crash watcher's signal: the kept socket turns readable (EOF) as soon as the process dies."""
    import select

    probe = NodeProbe(node_target(healthy, "primary"))
    assert probe.read().reach is Reach.OK
    sock = probe.socket()
    assert select.select([sock], [], [], 0)[0] == []
    os.kill(healthy.pid("primary"), signal.SIGKILL)
    healthy.faults.append({"name": "crash-primary"})
    assert select.select([sock], [], [], 2.0)[0] == [sock]
