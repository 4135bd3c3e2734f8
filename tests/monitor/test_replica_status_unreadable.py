"""parse_channels on rows it cannot understand: a missing or junk column says which, and nothing else is raised."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.probe.replica_status import UnreadableStatus, parse_channels
from monitor.readings import ReplicationChannel
from tests.monitor.replica_status_rows import MARIADB_1011_COLUMNS, mariadb_row, mysql80_row


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
