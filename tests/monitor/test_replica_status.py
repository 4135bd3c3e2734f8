"""parse_channels on the rows real servers return: MariaDB 10.11 and MySQL 5.7 / 8.0 / 8.4 shapes, value types.

The quiet clock (how long a channel has received nothing) is read from the same columns, so it is here too.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from monitor.probe.replica_status import QuietClock, parse_channels
from monitor.readings import ReplicationChannel
from tests.monitor.replica_status_rows import (
    DUPLICATE_SQL_ERROR,
    HEALTHY,
    MARIADB_1011_COLUMNS,
    REFUSED_IO_ERROR,
    mariadb_row,
    mysql57_row,
    mysql80_row,
)

# --- MariaDB 10.11 ---------------------------------------------------------------------------


def test_fixture_has_the_real_mariadb_1011_columns_in_order() -> None:
    assert list(mariadb_row()) == MARIADB_1011_COLUMNS
    assert len(MARIADB_1011_COLUMNS) == 62


def test_no_rows_means_no_channels() -> None:
    assert parse_channels([]) == ()


def test_mariadb_healthy() -> None:
    assert parse_channels([mariadb_row()]) == (HEALTHY,)


def test_mariadb_connecting_after_refused() -> None:
    (channel,) = parse_channels(
        [
            mariadb_row(
                Slave_IO_State="Reconnecting after a failed master event read",
                Slave_IO_Running="Connecting",
                Seconds_Behind_Master=None,
                Last_IO_Errno=2003,
                Last_IO_Error=REFUSED_IO_ERROR,
            )
        ]
    )
    assert channel.io_running == "Connecting"
    assert channel.sql_running == "Yes"
    assert channel.seconds_behind is None
    assert channel.last_io_errno == 2003
    assert channel.last_io_error == REFUSED_IO_ERROR
    assert channel.io_state == "Reconnecting after a failed master event read"


def test_mariadb_sql_thread_stopped_on_duplicate_key() -> None:
    (channel,) = parse_channels(
        [
            mariadb_row(
                Slave_SQL_Running="No",
                Slave_SQL_State="",
                Slave_SQL_Running_State="",
                Seconds_Behind_Master=None,
                Last_Errno=1062,
                Last_Error=DUPLICATE_SQL_ERROR,
                Last_SQL_Errno=1062,
                Last_SQL_Error=DUPLICATE_SQL_ERROR,
            )
        ]
    )
    assert (channel.io_running, channel.sql_running) == ("Yes", "No")
    assert channel.last_sql_errno == 1062
    assert channel.last_sql_error == DUPLICATE_SQL_ERROR
    assert channel.last_io_errno == 0
    assert channel.sql_state == ""


def test_mariadb_operator_stopped_io_thread() -> None:
    (channel,) = parse_channels([mariadb_row(Slave_IO_Running="No", Slave_IO_State="")])
    assert channel.io_running == "No"
    assert channel.io_state == ""
    assert channel.last_io_errno == 0


def test_preparing_state_passes_through() -> None:
    (channel,) = parse_channels(
        [mariadb_row(Slave_IO_Running="Preparing", Slave_IO_State="Preparing", Seconds_Behind_Master=None)]
    )
    assert channel.io_running == "Preparing"


def test_unknown_thread_state_is_kept_as_is() -> None:
    (channel,) = parse_channels([mariadb_row(Slave_IO_Running="Quantum")])
    assert channel.io_running == "Quantum"


def test_tls_name_mismatch_2026() -> None:
    message = (
        "error connecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
        "message: SSL connection error: Validation of SSL server certificate failed"
    )
    (channel,) = parse_channels([mariadb_row(Slave_IO_Running="Connecting", Last_IO_Errno=2026, Last_IO_Error=message)])
    assert (channel.last_io_errno, channel.last_io_error) == (2026, message)


def test_multi_source_two_channels_in_order() -> None:
    rows = [
        mariadb_row(Connection_name="dc1", Master_Host="10.1.0.5", Gtid_IO_Pos="1-1-900"),
        mariadb_row(
            Connection_name="dc2",
            Master_Host="10.2.0.5",
            Master_Port=3306,
            Slave_IO_Running="Connecting",
            Last_IO_Errno=2003,
            Last_IO_Error=REFUSED_IO_ERROR,
            Seconds_Behind_Master=None,
            Gtid_IO_Pos="3-3-17",
        ),
    ]
    first, second = parse_channels(rows)
    assert (first.name, first.source_host, first.io_running) == ("dc1", "10.1.0.5", "Yes")
    assert (second.name, second.source_port, second.io_running) == ("dc2", 3306, "Connecting")
    assert second.gtid_io_pos == "3-3-17"


def test_plain_show_slave_status_without_connection_name() -> None:
    row = mariadb_row()
    for only_in_all in (
        "Connection_name",
        "Slave_SQL_State",
        "Slave_received_heartbeats",
        "Slave_heartbeat_period",
    ):
        del row[only_in_all]
    (channel,) = parse_channels([row])
    # The plain statement has no heartbeat columns; the read position still shows what arrives.
    assert channel == replace(HEALTHY, heartbeat_period=None, received_heartbeats=None)
    assert channel.read_position == "mariadb-bin.000002:1893"


def test_sql_state_falls_back_to_slave_sql_state() -> None:
    row = mariadb_row(Slave_SQL_State="Waiting for room in worker thread event queue")
    del row["Slave_SQL_Running_State"]
    (channel,) = parse_channels([row])
    assert channel.sql_state == "Waiting for room in worker thread event queue"


def test_bytes_values_everywhere() -> None:
    row = {
        key: value.encode() if isinstance(value, str) else value
        for key, value in mariadb_row(Master_Port=b"3307", Slave_heartbeat_period=b"1.000").items()
    }
    assert parse_channels([row]) == (HEALTHY,)


def test_everything_as_text() -> None:
    # A plain (non-converting) cursor, or a proxy, may hand every value over as text.
    row = {key: "" if value is None else str(value) for key, value in mariadb_row().items()}
    assert parse_channels([row]) == (HEALTHY,)


def test_decimal_and_int_values() -> None:
    (channel,) = parse_channels(
        [
            mariadb_row(
                Slave_heartbeat_period=Decimal("1.500"),
                Seconds_Behind_Master=Decimal("12"),
                Last_IO_Errno=Decimal("0"),
                Master_SSL_Allowed=1,
                Master_SSL_Verify_Server_Cert=0,
            )
        ]
    )
    assert channel.heartbeat_period == 1.5
    assert channel.seconds_behind == 12
    assert (channel.ssl_allowed, channel.ssl_verify) == (True, False)


def test_null_seconds_behind_and_null_host() -> None:
    (channel,) = parse_channels([mariadb_row(Seconds_Behind_Master=None, Master_Host="")])
    assert channel.seconds_behind is None
    assert channel.source_host is None


def test_extra_unknown_columns_are_ignored() -> None:
    row = mariadb_row()
    row["Some_Future_Column"] = object()
    row[42] = "not a column name"
    assert parse_channels([row]) == (HEALTHY,)


def test_tuple_of_rows_is_accepted() -> None:
    assert parse_channels((mariadb_row(),)) == (HEALTHY,)


# --- MySQL -----------------------------------------------------------------------------------


def test_mysql57_show_slave_status() -> None:
    (channel,) = parse_channels([mysql57_row()])
    assert channel == ReplicationChannel(
        name="",
        source_host="10.0.0.1",
        source_port=3306,
        io_running="Yes",
        sql_running="Yes",
        io_state="Waiting for master to send event",
        sql_state="Slave has read all relay log; waiting for more updates",
        seconds_behind=3,
        # MySQL breaks long sets over lines after each comma; the set is one line here.
        gtid_io_pos="3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3",
        ssl_verify=False,
        ssl_allowed=False,
        connect_retry=60,
        heartbeat_period=None,
        # MySQL has no heartbeat counter in this statement: only the read position shows what arrives.
        received_heartbeats=None,
        read_position="mysql-bin.000012:154",
    )


def test_mysql57_ssl_ignored_means_not_allowed() -> None:
    (channel,) = parse_channels([mysql57_row(Master_SSL_Allowed="Ignored")])
    assert channel.ssl_allowed is False


def test_mysql80_show_replica_status() -> None:
    (channel,) = parse_channels([mysql80_row()])
    assert channel == ReplicationChannel(
        name="",
        source_host="db-a.internal",
        source_port=3306,
        io_running="Yes",
        sql_running="Yes",
        io_state="Waiting for source to send event",
        sql_state="Replica has read all relay log; waiting for more updates",
        seconds_behind=0,
        gtid_io_pos="8a94f357-aab4-11df-86ab-c80aa9429562:1-9",
        ssl_verify=True,
        ssl_allowed=True,
        connect_retry=60,
        heartbeat_period=None,
        received_heartbeats=None,
        read_position="binlog.000007:1307",
    )


def test_mysql84_connecting_channel() -> None:
    message = (
        "Error connecting to source 'repl@db-a.internal:3306'. This was attempt 3/86400, with a delay of "
        "60 seconds between attempts. Message: Can't connect to MySQL server on 'db-a.internal:3306' (111)"
    )
    (channel,) = parse_channels(
        [
            mysql80_row(
                Channel_Name="east",
                Replica_IO_Running="Connecting",
                Replica_IO_State="Connecting to source",
                Seconds_Behind_Source=None,
                Last_IO_Errno=2003,
                Last_IO_Error=message,
            )
        ]
    )
    assert (channel.name, channel.io_running, channel.seconds_behind) == ("east", "Connecting", None)
    assert (channel.last_io_errno, channel.last_io_error) == (2003, message)


def test_mysql_source_connect_retry_spelling() -> None:
    row = mysql80_row()
    del row["Connect_Retry"]
    row["Source_Connect_Retry"] = 5
    (channel,) = parse_channels([row])
    assert channel.connect_retry == 5


def test_mysql_multi_channel() -> None:
    rows = [mysql80_row(Channel_Name="a"), mysql80_row(Channel_Name="b", Replica_SQL_Running="No")]
    assert [(c.name, c.sql_running) for c in parse_channels(rows)] == [("a", "Yes"), ("b", "No")]


def test_read_position_needs_a_read_log_pos() -> None:
    row = mariadb_row()
    del row["Read_Master_Log_Pos"]
    (channel,) = parse_channels([row])
    assert channel.read_position == ""


# --- how long a channel has received nothing ------------------------------------------------


def _channel(**changes: object) -> tuple[ReplicationChannel, ...]:
    return parse_channels([mariadb_row(**changes)])


def test_quiet_clock_counts_from_the_first_poll_that_saw_the_counters_stand() -> None:
    clock = QuietClock()
    assert clock.stamp(_channel(), now=100.0)[0].quiet_for == 0.0
    assert clock.stamp(_channel(), now=101.0)[0].quiet_for == 1.0
    assert clock.stamp(_channel(), now=103.5)[0].quiet_for == 3.5


def test_quiet_clock_restarts_when_a_heartbeat_or_an_event_arrives() -> None:
    clock = QuietClock()
    clock.stamp(_channel(), now=100.0)
    assert clock.stamp(_channel(Slave_received_heartbeats=38), now=102.0)[0].quiet_for == 0.0
    assert clock.stamp(_channel(Slave_received_heartbeats=38), now=103.0)[0].quiet_for == 1.0
    assert clock.stamp(_channel(Slave_received_heartbeats=38, Read_Master_Log_Pos=2000), now=104.0)[0].quiet_for == 0.0


def test_quiet_clock_keeps_each_channel_apart_and_forgets_a_dropped_one() -> None:
    clock = QuietClock()
    both = parse_channels([mariadb_row(Connection_name="a"), mariadb_row(Connection_name="b")])
    clock.stamp(both, now=100.0)
    moved = parse_channels([mariadb_row(Connection_name="a"), mariadb_row(Connection_name="b", Gtid_IO_Pos="1-1-13")])
    assert [c.quiet_for for c in clock.stamp(moved, now=101.0)] == [1.0, 0.0]
    clock.stamp(parse_channels([mariadb_row(Connection_name="a")]), now=102.0)
    # "b" was gone for a poll: when it is back its quiet time starts again rather than spanning the gap.
    assert [c.quiet_for for c in clock.stamp(moved, now=103.0)] == [3.0, 0.0]


def test_quiet_clock_says_nothing_without_counters() -> None:
    row = mysql80_row()
    del row["Read_Source_Log_Pos"]
    clock = QuietClock()
    clock.stamp(parse_channels([row]), now=100.0)
    assert clock.stamp(parse_channels([row]), now=105.0)[0].quiet_for is None
