"""parse_channels / flavour: realistic rows from MariaDB 10.11, MySQL 5.7 and MySQL 8.0/8.4, and junk."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.probe.flavour import gtid_position_query, parse_version, replica_status_statement
from monitor.probe.replica_status import UnreadableStatus, parse_channels
from monitor.readings import ReplicationChannel

# Column names and order exactly as MariaDB 10.11.19 (Debian 12) describes SHOW ALL SLAVES STATUS
# (read from cursor.description on the lab machine): the 54 of SHOW SLAVE STATUS plus
# Connection_name, Slave_SQL_State, Slave_received_heartbeats, Slave_heartbeat_period and the
# columns 10.11 added (Gtid_Slave_Pos, Max_relay_log_size, ...).
MARIADB_1011_COLUMNS = (
    "Connection_name Slave_SQL_State Slave_IO_State Master_Host Master_User Master_Port Connect_Retry "
    "Master_Log_File Read_Master_Log_Pos Relay_Log_File Relay_Log_Pos Relay_Master_Log_File "
    "Slave_IO_Running Slave_SQL_Running Replicate_Do_DB Replicate_Ignore_DB Replicate_Do_Table "
    "Replicate_Ignore_Table Replicate_Wild_Do_Table Replicate_Wild_Ignore_Table Last_Errno Last_Error "
    "Skip_Counter Exec_Master_Log_Pos Relay_Log_Space Until_Condition Until_Log_File Until_Log_Pos "
    "Master_SSL_Allowed Master_SSL_CA_File Master_SSL_CA_Path Master_SSL_Cert Master_SSL_Cipher "
    "Master_SSL_Key Seconds_Behind_Master Master_SSL_Verify_Server_Cert Last_IO_Errno Last_IO_Error "
    "Last_SQL_Errno Last_SQL_Error Replicate_Ignore_Server_Ids Master_Server_Id Master_SSL_Crl "
    "Master_SSL_Crlpath Using_Gtid Gtid_IO_Pos Replicate_Do_Domain_Ids Replicate_Ignore_Domain_Ids "
    "Parallel_Mode SQL_Delay SQL_Remaining_Delay Slave_SQL_Running_State Slave_DDL_Groups "
    "Slave_Non_Transactional_Groups Slave_Transactional_Groups Replicate_Rewrite_DB Retried_transactions "
    "Max_relay_log_size Executed_log_entries Slave_received_heartbeats Slave_heartbeat_period Gtid_Slave_Pos"
).split()

SQL_WAITING = "Slave has read all relay log; waiting for more updates"
REFUSED_IO_ERROR = (
    "error reconnecting to master 'repl@127.0.0.2:3307' - retry-time: 1  maximum-retries: 100000  "
    "message: Can't connect to server on '127.0.0.2' (111 \"Connection refused\")"
)
DUPLICATE_SQL_ERROR = (
    "Could not execute Write_rows_v1 event on table t.t; Duplicate entry '1' for key 'PRIMARY', "
    "Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log mariadb-bin.000002, "
    "end_log_pos 2187"
)


def mariadb_row(**changes: object) -> dict:
    """A healthy row of MariaDB 10.11 SHOW ALL SLAVES STATUS, typed as PyMySQL returns it."""
    row = {
        "Connection_name": "",
        "Slave_SQL_State": SQL_WAITING,
        "Slave_IO_State": "Waiting for master to send event",
        "Master_Host": "127.0.0.2",
        "Master_User": "repl",
        "Master_Port": 3307,
        "Connect_Retry": 1,
        "Master_Log_File": "mariadb-bin.000002",
        "Read_Master_Log_Pos": 1893,
        "Relay_Log_File": "relay-bin.000004",
        "Relay_Log_Pos": 1190,
        "Relay_Master_Log_File": "mariadb-bin.000002",
        "Slave_IO_Running": "Yes",
        "Slave_SQL_Running": "Yes",
        "Replicate_Do_DB": "",
        "Replicate_Ignore_DB": "",
        "Replicate_Do_Table": "",
        "Replicate_Ignore_Table": "",
        "Replicate_Wild_Do_Table": "",
        "Replicate_Wild_Ignore_Table": "",
        "Last_Errno": 0,
        "Last_Error": "",
        "Skip_Counter": 0,
        "Exec_Master_Log_Pos": 1893,
        "Relay_Log_Space": 1797,
        "Until_Condition": "None",
        "Until_Log_File": "",
        "Until_Log_Pos": 0,
        "Master_SSL_Allowed": "Yes",
        "Master_SSL_CA_File": "/etc/mysql/tls/ca.pem",
        "Master_SSL_CA_Path": "",
        "Master_SSL_Cert": "",
        "Master_SSL_Cipher": "",
        "Master_SSL_Key": "",
        "Seconds_Behind_Master": 0,
        "Master_SSL_Verify_Server_Cert": "Yes",
        "Last_IO_Errno": 0,
        "Last_IO_Error": "",
        "Last_SQL_Errno": 0,
        "Last_SQL_Error": "",
        "Replicate_Ignore_Server_Ids": "",
        "Master_Server_Id": 2,
        "Master_SSL_Crl": "",
        "Master_SSL_Crlpath": "",
        "Using_Gtid": "Slave_Pos",
        "Gtid_IO_Pos": "1-1-12,2-2-57",
        "Replicate_Do_Domain_Ids": "",
        "Replicate_Ignore_Domain_Ids": "",
        "Parallel_Mode": "optimistic",
        "SQL_Delay": 0,
        "SQL_Remaining_Delay": None,
        "Slave_SQL_Running_State": SQL_WAITING,
        "Slave_DDL_Groups": 3,
        "Slave_Non_Transactional_Groups": 0,
        "Slave_Transactional_Groups": 54,
        "Replicate_Rewrite_DB": "",
        "Retried_transactions": 0,
        "Max_relay_log_size": 1073741824,
        "Executed_log_entries": 412,
        "Slave_received_heartbeats": 37,
        "Slave_heartbeat_period": 1.0,
        "Gtid_Slave_Pos": "1-1-12,2-2-57",
    }
    for key, value in changes.items():
        assert key in row, key  # a typo in a test must not pass as an "extra column"
        row[key] = value
    return row


HEALTHY = ReplicationChannel(
    name="",
    source_host="127.0.0.2",
    source_port=3307,
    io_running="Yes",
    sql_running="Yes",
    io_state="Waiting for master to send event",
    sql_state=SQL_WAITING,
    last_io_errno=0,
    last_io_error="",
    last_sql_errno=0,
    last_sql_error="",
    seconds_behind=0,
    gtid_io_pos="1-1-12,2-2-57",
    ssl_verify=True,
    ssl_allowed=True,
    connect_retry=1,
    heartbeat_period=1.0,
)

MYSQL57_GTID = "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4e11fa47-71ca-11e1-9e33-c80aa9429562:1-3"


def mysql57_row(**changes: object) -> dict:
    """A healthy row of MySQL 5.7.44 SHOW SLAVE STATUS (single default channel)."""
    row = {
        "Slave_IO_State": "Waiting for master to send event",
        "Master_Host": "10.0.0.1",
        "Master_User": "repl",
        "Master_Port": 3306,
        "Connect_Retry": 60,
        "Master_Log_File": "mysql-bin.000012",
        "Read_Master_Log_Pos": 154,
        "Relay_Log_File": "relay-bin.000031",
        "Relay_Log_Pos": 367,
        "Relay_Master_Log_File": "mysql-bin.000012",
        "Slave_IO_Running": "Yes",
        "Slave_SQL_Running": "Yes",
        "Replicate_Do_DB": "",
        "Replicate_Ignore_DB": "",
        "Replicate_Do_Table": "",
        "Replicate_Ignore_Table": "",
        "Replicate_Wild_Do_Table": "",
        "Replicate_Wild_Ignore_Table": "",
        "Last_Errno": 0,
        "Last_Error": "",
        "Skip_Counter": 0,
        "Exec_Master_Log_Pos": 154,
        "Relay_Log_Space": 741,
        "Until_Condition": "None",
        "Until_Log_File": "",
        "Until_Log_Pos": 0,
        "Master_SSL_Allowed": "No",
        "Master_SSL_CA_File": "",
        "Master_SSL_CA_Path": "",
        "Master_SSL_Cert": "",
        "Master_SSL_Cipher": "",
        "Master_SSL_Key": "",
        "Seconds_Behind_Master": 3,
        "Master_SSL_Verify_Server_Cert": "No",
        "Last_IO_Errno": 0,
        "Last_IO_Error": "",
        "Last_SQL_Errno": 0,
        "Last_SQL_Error": "",
        "Replicate_Ignore_Server_Ids": "",
        "Master_Server_Id": 1,
        "Master_UUID": "3e11fa47-71ca-11e1-9e33-c80aa9429562",
        "Master_Info_File": "mysql.slave_master_info",
        "SQL_Delay": 0,
        "SQL_Remaining_Delay": None,
        "Slave_SQL_Running_State": "Slave has read all relay log; waiting for more updates",
        "Master_Retry_Count": 86400,
        "Master_Bind": "",
        "Last_IO_Error_Timestamp": "",
        "Last_SQL_Error_Timestamp": "",
        "Master_SSL_Crl": "",
        "Master_SSL_Crlpath": "",
        "Retrieved_Gtid_Set": MYSQL57_GTID,
        "Executed_Gtid_Set": MYSQL57_GTID,
        "Auto_Position": 1,
        "Replicate_Rewrite_DB": "",
        "Channel_Name": "",
        "Master_TLS_Version": "",
    }
    row.update(changes)
    return row


def mysql80_row(**changes: object) -> dict:
    """A row of MySQL 8.0.22+ / 8.4 SHOW REPLICA STATUS, renamed columns included."""
    row = {
        "Replica_IO_State": "Waiting for source to send event",
        "Source_Host": "db-a.internal",
        "Source_User": "repl",
        "Source_Port": 3306,
        "Connect_Retry": 60,
        "Source_Log_File": "binlog.000007",
        "Read_Source_Log_Pos": 1307,
        "Relay_Log_File": "replica-relay-bin.000003",
        "Relay_Log_Pos": 1508,
        "Relay_Source_Log_File": "binlog.000007",
        "Replica_IO_Running": "Yes",
        "Replica_SQL_Running": "Yes",
        "Replicate_Do_DB": "",
        "Replicate_Ignore_DB": "",
        "Replicate_Do_Table": "",
        "Replicate_Ignore_Table": "",
        "Replicate_Wild_Do_Table": "",
        "Replicate_Wild_Ignore_Table": "",
        "Last_Errno": 0,
        "Last_Error": "",
        "Skip_Counter": 0,
        "Exec_Source_Log_Pos": 1307,
        "Relay_Log_Space": 1858,
        "Until_Condition": "None",
        "Until_Log_File": "",
        "Until_Log_Pos": 0,
        "Source_SSL_Allowed": "Yes",
        "Source_SSL_CA_File": "/etc/mysql/ca.pem",
        "Source_SSL_CA_Path": "",
        "Source_SSL_Cert": "",
        "Source_SSL_Cipher": "",
        "Source_SSL_Key": "",
        "Seconds_Behind_Source": 0,
        "Source_SSL_Verify_Server_Cert": "Yes",
        "Last_IO_Errno": 0,
        "Last_IO_Error": "",
        "Last_SQL_Errno": 0,
        "Last_SQL_Error": "",
        "Replicate_Ignore_Server_Ids": "",
        "Source_Server_Id": 1,
        "Source_UUID": "8a94f357-aab4-11df-86ab-c80aa9429562",
        "Source_Info_File": "mysql.slave_master_info",
        "SQL_Delay": 0,
        "SQL_Remaining_Delay": None,
        "Replica_SQL_Running_State": "Replica has read all relay log; waiting for more updates",
        "Source_Retry_Count": 86400,
        "Source_Bind": "",
        "Last_IO_Error_Timestamp": "",
        "Last_SQL_Error_Timestamp": "",
        "Source_SSL_Crl": "",
        "Source_SSL_Crlpath": "",
        "Retrieved_Gtid_Set": "8a94f357-aab4-11df-86ab-c80aa9429562:1-9",
        "Executed_Gtid_Set": "8a94f357-aab4-11df-86ab-c80aa9429562:1-9",
        "Auto_Position": 1,
        "Replicate_Rewrite_DB": "",
        "Channel_Name": "",
        "Source_TLS_Version": "TLSv1.3",
        "Source_public_key_path": "",
        "Get_Source_public_key": 0,
        "Network_Namespace": "",
    }
    row.update(changes)
    return row


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
    (channel,) = parse_channels(
        [mariadb_row(Slave_IO_Running="Connecting", Last_IO_Errno=2026, Last_IO_Error=message)]
    )
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
    assert channel == ReplicationChannel(**{**HEALTHY.__dict__, "heartbeat_period": None})


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


# --- unreadable ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, words",
    [
        ("Slave_IO_Running", "IO thread running"),
        ("Slave_SQL_Running", "SQL thread running"),
        ("Last_IO_Errno", "last IO errno"),
        ("Last_SQL_Errno", "last SQL errno"),
    ],
)
def test_missing_required_column(column: str, words: str) -> None:
    row = mariadb_row(Connection_name="dc1")
    del row[column]
    with pytest.raises(UnreadableStatus) as info:
        parse_channels([row])
    assert words in str(info.value)
    assert column in str(info.value)
    assert "'dc1'" in str(info.value)  # says which channel


def test_missing_io_column_under_every_name() -> None:
    with pytest.raises(UnreadableStatus, match="Replica_IO_Running"):
        parse_channels([{"Last_IO_Errno": 0, "Last_SQL_Errno": 0, "Slave_SQL_Running": "Yes"}])


def test_non_numeric_errno() -> None:
    with pytest.raises(UnreadableStatus, match=r"row 0: column Last_IO_Errno is not a whole number: 'oops'"):
        parse_channels([mariadb_row(Last_IO_Errno="oops")])


def test_null_errno() -> None:
    with pytest.raises(UnreadableStatus, match="Last_SQL_Errno is NULL"):
        parse_channels([mariadb_row(Last_SQL_Errno=None)])


@pytest.mark.parametrize("value", ["3.5", 3.5, Decimal("NaN"), Decimal("sNaN"), float("inf"), "9" * 5000])
def test_bad_seconds_behind(value: object) -> None:
    with pytest.raises(UnreadableStatus, match="Seconds_Behind_Master"):
        parse_channels([mariadb_row(Seconds_Behind_Master=value)])


@pytest.mark.parametrize("value", ["fast", float("nan"), "1e999", [1]])
def test_bad_heartbeat_period(value: object) -> None:
    with pytest.raises(UnreadableStatus, match="Slave_heartbeat_period"):
        parse_channels([mariadb_row(Slave_heartbeat_period=value)])


def test_value_of_a_type_no_driver_returns() -> None:
    with pytest.raises(UnreadableStatus, match="Master_Host has a value of unexpected type dict"):
        parse_channels([mariadb_row(Master_Host={"x": 1})])


def test_row_that_is_not_a_dict() -> None:
    with pytest.raises(UnreadableStatus, match="row 1 is a tuple, not a dict"):
        parse_channels([mariadb_row(), tuple(mariadb_row().values())])


@pytest.mark.parametrize("rows", [None, "rows", {"Slave_IO_Running": "Yes"}, 7])
def test_rows_that_are_not_a_list(rows: object) -> None:
    with pytest.raises(UnreadableStatus, match="expected a list of rows"):
        parse_channels(rows)  # type: ignore[arg-type]


def test_unknown_ssl_word_is_none_not_an_error() -> None:
    (channel,) = parse_channels([mariadb_row(Master_SSL_Verify_Server_Cert="Maybe")])
    assert channel.ssl_verify is None


_KNOWN_COLUMNS = sorted(
    set(MARIADB_1011_COLUMNS)
    | set(mysql80_row())
    | {"Channel_Name", "Retrieved_Gtid_Set", "Source_Connect_Retry", "slave_io_running"}
)
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
    st.sampled_from(["Yes", "No", "Connecting", "Preparing", "", " 12 ", "-1", "1e5", "0x10"]),
    st.lists(st.integers(), max_size=2),
    st.builds(object),
)
_keys = st.one_of(st.sampled_from(_KNOWN_COLUMNS), st.text(max_size=12), st.integers(), st.binary(max_size=8))
_rows = st.one_of(
    st.dictionaries(_keys, _values, max_size=30),
    st.builds(
        lambda changes: {**mariadb_row(), **changes},
        st.dictionaries(st.sampled_from(_KNOWN_COLUMNS), _values),
    ),
    st.builds(
        lambda changes: {**mysql80_row(), **changes},
        st.dictionaries(st.sampled_from(_KNOWN_COLUMNS), _values),
    ),
    st.none(),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=3),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_rows, max_size=4))
def test_junk_rows_only_ever_raise_unreadable_status(rows: list) -> None:
    try:
        channels = parse_channels(rows)
    except UnreadableStatus as exc:
        assert str(exc)
    else:
        assert len(channels) == len(rows)
        assert all(isinstance(channel, ReplicationChannel) for channel in channels)
        for channel in channels:
            assert isinstance(channel.last_io_errno, int)
            assert channel.seconds_behind is None or isinstance(channel.seconds_behind, int)
            assert isinstance(channel.gtid_io_pos, str)


# --- flavour ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, comment, expected",
    [
        ("10.11.19-MariaDB-0+deb12u1", "Debian 12", ("mariadb", (10, 11, 19))),
        ("5.5.5-10.11.6-MariaDB", "", ("mariadb", (10, 11, 6))),
        ("8.0.36", "MySQL Community Server - GPL", ("mysql", (8, 0, 36))),
        ("8.4.2-log", "", ("mysql", (8, 4, 2))),
        ("5.7.44-log", "MySQL Community Server (GPL)", ("mysql", (5, 7, 44))),
        ("11.4.3-MariaDB-log", "", ("mariadb", (11, 4, 3))),
        ("10.6.18", "mariadb.org binary distribution", ("mariadb", (10, 6, 18))),
        ("8.0.35-27", "Percona Server (GPL), Release 27", ("mysql", (8, 0, 35))),
        (b"10.11.6-MariaDB", b"", ("mariadb", (10, 11, 6))),
        ("5.5.5", "", ("mysql", (5, 5, 5))),
    ],
)
def test_parse_version(version: str, comment: str, expected: tuple) -> None:
    assert parse_version(version, comment) == expected


@pytest.mark.parametrize("version", ["", "MariaDB", "banana-8.0.1", "8", "8.0.x", "1.2.3.4", None, "８.0.1"])
def test_parse_version_garbage(version: str) -> None:
    with pytest.raises(UnreadableStatus):
        parse_version(version)


@given(st.text(max_size=30), st.text(max_size=30))
def test_parse_version_never_raises_anything_else(version: str, comment: str) -> None:
    try:
        flavour, numbers = parse_version(version, comment)
    except UnreadableStatus:
        return
    assert flavour in ("mariadb", "mysql")
    assert len(numbers) == 3


@pytest.mark.parametrize(
    "flavour, version, statement",
    [
        ("mariadb", (10, 11, 19), "SHOW ALL SLAVES STATUS"),
        ("mariadb", (10, 0, 0), "SHOW ALL SLAVES STATUS"),
        ("mariadb", (11, 4, 3), "SHOW ALL SLAVES STATUS"),
        ("mariadb", (5, 5, 68), "SHOW SLAVE STATUS"),
        ("mysql", (8, 0, 22), "SHOW REPLICA STATUS"),
        ("mysql", (8, 4, 2), "SHOW REPLICA STATUS"),
        ("mysql", (9, 1, 0), "SHOW REPLICA STATUS"),
        ("mysql", (8, 0, 21), "SHOW SLAVE STATUS"),
        ("mysql", (5, 7, 44), "SHOW SLAVE STATUS"),
    ],
)
def test_replica_status_statement(flavour: str, version: tuple[int, ...], statement: str) -> None:
    assert replica_status_statement(flavour, version) == statement


def test_statement_from_parsed_version() -> None:
    assert replica_status_statement(*parse_version("5.5.5-10.11.6-MariaDB")) == "SHOW ALL SLAVES STATUS"
    assert replica_status_statement(*parse_version("8.0.36")) == "SHOW REPLICA STATUS"


def test_gtid_position_query() -> None:
    assert gtid_position_query("mariadb") == "SELECT @@gtid_current_pos"
    assert gtid_position_query("mysql") == "SELECT @@gtid_executed"


def test_unknown_flavour() -> None:
    with pytest.raises(UnreadableStatus, match="unknown server flavour"):
        gtid_position_query("postgres")
    with pytest.raises(UnreadableStatus, match="unknown server flavour"):
        replica_status_statement("postgres", (16, 0, 0))
