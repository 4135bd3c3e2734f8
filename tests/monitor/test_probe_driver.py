"""The probe's connection: answers read with kept column descriptions are PyMySQL's answers, and its failures
are PyMySQL's failures."""

from __future__ import annotations

import os
import signal
import ssl

import pymysql
import pytest
from pymysql.constants import CLIENT

from devtools.sandbox import SandboxPair
from monitor.probe import driver
from monitor.probe.driver import DescribingConnection

POLL = ("SELECT @@version, @@server_id, @@read_only, @@gtid_current_pos, 1.5 AS f, NULL AS n, _binary'x' AS b; "
        "SHOW ALL SLAVES STATUS; SELECT @@server_id AS id")


def connect(sandbox: SandboxPair, cls=DescribingConnection, **over) -> pymysql.Connection:
    spec = sandbox.node("secondary")
    kwargs = dict(host="127.0.0.1", port=spec.port, user="hapanel_monitor", password=sandbox.monitor_password,
                  ssl=ssl.create_default_context(cafile=str(sandbox.ca_file)), autocommit=True,
                  client_flag=CLIENT.MULTI_STATEMENTS, cursorclass=pymysql.cursors.DictCursor, charset="utf8mb4")
    kwargs.update(over)
    return cls(**kwargs)


def results(conn: pymysql.Connection) -> list[tuple]:
    out = []
    with conn.cursor() as cur:
        cur.execute(POLL)
        while True:
            out.append((cur.description, cur.fetchall()))
            if not cur.nextset():
                return out


def without_moving_parts(answers: list[tuple]) -> list[tuple]:
    """Drops the replica's counters that move between two reads (positions, seconds behind)."""
    moving = {"Read_Master_Log_Pos", "Exec_Master_Log_Pos", "Relay_Log_Pos", "Relay_Log_Space", "Gtid_IO_Pos",
              "Seconds_Behind_Master", "Slave_SQL_Running_State", "Slave_received_heartbeats",
              "Slave_heartbeat_period", "Executed_log_entries", "Gtid_Slave_Pos", "Relay_Log_File",
              "Master_last_event_time", "Slave_last_event_time", "Master_Slave_time_diff", "Slave_SQL_State"}
    return [(d, [{k: v for k, v in row.items() if k not in moving} for row in rows]) for d, rows in answers]


def test_answers_are_pymysqls_answers(sandbox):
    driver._known.clear()
    plain, kept = connect(sandbox, pymysql.connect), connect(sandbox)
    try:
        expected = without_moving_parts(results(plain))
        first = results(kept)  # parsed, then kept
        again = results(kept)  # from the kept descriptions
        assert without_moving_parts(first) == expected == without_moving_parts(again)
        assert len(driver._known) == 3
        [[scalars]] = [rows for _, rows in first[:1]]
        assert (scalars["f"], scalars["n"], scalars["b"]) == (pymysql.converters.Decimal("1.5"), None, b"x")
        assert first[1][1][0]["Slave_IO_Running"] == "Yes"
    finally:
        plain.close()
        kept.close()


def test_a_stopped_server_times_out_as_with_pymysql(healthy):
    conn = connect(healthy, read_timeout=0.3)
    pid = healthy.pid("secondary")
    results(conn)
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(pymysql.err.OperationalError) as caught:
            results(conn)
        assert caught.value.args[0] == 2013 and "timed out" in caught.value.args[1]
    finally:
        os.kill(pid, signal.SIGCONT)
        conn.close()


def test_a_killed_server_is_a_lost_connection(healthy):
    conn = connect(healthy)
    results(conn)
    os.kill(healthy.pid("secondary"), signal.SIGKILL)
    healthy.faults.append({"name": "crash-secondary"})  # the fixture heals the pair after the test
    try:
        with pytest.raises(pymysql.err.OperationalError) as caught:
            results(conn)
        assert caught.value.args[0] in (2006, 2013)
    finally:
        conn.close()
