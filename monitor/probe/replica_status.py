"""Turn rows of SHOW ALL SLAVES STATUS / SHOW REPLICA STATUS / SHOW SLAVE STATUS into `ReplicationChannel`s.

Columns are read by name, never by position: their order differs between MariaDB versions, and MySQL
8.0.22+ renamed them (Slave_* -> Replica_*, Master_* -> Source_*). Every field lists the names it
may appear under, newest vendor spelling last; the first one present in the row wins.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from monitor.readings import ReplicationChannel


class UnreadableStatus(ValueError):
    """The server answered something the probe does not understand; str() says what and where."""


# Names per ReplicationChannel field. Absent optional columns leave the ReplicationChannel default in place.
_NAME = ("Connection_name", "Channel_Name")
_SOURCE_HOST = ("Master_Host", "Source_Host")
_SOURCE_PORT = ("Master_Port", "Source_Port")
_IO_RUNNING = ("Slave_IO_Running", "Replica_IO_Running")
_SQL_RUNNING = ("Slave_SQL_Running", "Replica_SQL_Running")
_IO_STATE = ("Slave_IO_State", "Replica_IO_State")
# MariaDB's SHOW ALL SLAVES STATUS also has Slave_SQL_State (same text); the plain form only the first.
_SQL_STATE = ("Slave_SQL_Running_State", "Replica_SQL_Running_State", "Slave_SQL_State")
_LAST_IO_ERRNO = ("Last_IO_Errno",)
_LAST_IO_ERROR = ("Last_IO_Error",)
_LAST_SQL_ERRNO = ("Last_SQL_Errno",)
_LAST_SQL_ERROR = ("Last_SQL_Error",)
_SECONDS_BEHIND = ("Seconds_Behind_Master", "Seconds_Behind_Source")
# MariaDB: Gtid_IO_Pos (domain-server-seqno list); MySQL: Retrieved_Gtid_Set (uuid:interval set).
_GTID_IO_POS = ("Gtid_IO_Pos", "Retrieved_Gtid_Set")
_SSL_VERIFY = ("Master_SSL_Verify_Server_Cert", "Source_SSL_Verify_Server_Cert")
_SSL_ALLOWED = ("Master_SSL_Allowed", "Source_SSL_Allowed")
# MySQL 8 SHOW REPLICA STATUS kept the old Connect_Retry name; Source_Connect_Retry is accepted too.
_CONNECT_RETRY = ("Connect_Retry", "Source_Connect_Retry")
# Only MariaDB's SHOW ALL SLAVES STATUS has it; MySQL keeps the period in performance_schema.
_HEARTBEAT_PERIOD = ("Slave_heartbeat_period",)
_RECEIVED_HEARTBEATS = ("Slave_received_heartbeats",)
_SOURCE_LOG_FILE = ("Master_Log_File", "Source_Log_File")
_READ_SOURCE_POS = ("Read_Master_Log_Pos", "Read_Source_Log_Pos")

# Without these a row says nothing useful about the link, so their absence is an error rather than
# a silent default (a missing Last_IO_Errno read as 0 would hide a broken link).
_REQUIRED = {
    "IO thread running": _IO_RUNNING,
    "SQL thread running": _SQL_RUNNING,
    "last IO errno": _LAST_IO_ERRNO,
    "last SQL errno": _LAST_SQL_ERRNO,
}

_INT_RE = re.compile(r"[+-]?\d{1,30}", re.ASCII)
_HUGE = 10**30
_YES = {"yes", "1", "true", "on"}
# MySQL reports Master_SSL_Allowed "Ignored" when TLS was asked for but the replica cannot do it:
# the link then runs without TLS, so it counts as not allowed.
_NO = {"no", "0", "false", "off", "ignored"}


class _Row:
    """A status row with name lookup that tolerates differing key case and bytes keys."""

    def __init__(self, raw: Mapping[Any, Any], where: str) -> None:
        self.where = where
        self._exact: dict[str, Any] = {}
        self._folded: dict[str, str] = {}
        for key, value in raw.items():
            if isinstance(key, bytes | bytearray):
                key = bytes(key).decode("utf-8", "replace")
            if not isinstance(key, str):
                continue  # a non-text key cannot be a column name; ignore like any unknown column
            self._exact.setdefault(key, value)
            self._folded.setdefault(key.lower(), key)

    def find(self, names: Sequence[str]) -> tuple[str, Any] | None:
        """(column name, value) for the first of `names` present, or None when none is."""
        for name in names:
            if name in self._exact:
                return name, self._exact[name]
        for name in names:
            key = self._folded.get(name.lower())
            if key is not None:
                return key, self._exact[key]
        return None

    def fail(self, column: str, reason: str) -> UnreadableStatus:
        return UnreadableStatus(f"{self.where}: column {column} {reason}")


def _text(value: Any) -> str | None:
    """Column value as text; None stays None. Raises TypeError for types a driver never returns."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        # Binary-collated columns come back as bytes; a stray byte must not make the row unreadable.
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _get_text(row: _Row, names: Sequence[str]) -> tuple[str, str | None] | None:
    found = row.find(names)
    if found is None:
        return None
    column, value = found
    try:
        return column, _text(value)
    except TypeError as exc:
        raise row.fail(column, f"has a value of unexpected type {exc}") from None


def _str_field(row: _Row, names: Sequence[str], default: str = "") -> str:
    found = _get_text(row, names)
    if found is None or found[1] is None:
        return default
    return found[1]


def _to_int(row: _Row, column: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):  # bool included: True/False read as 1/0
        return int(value)
    try:
        if isinstance(value, float | Decimal):
            # Bound before int(): int(Decimal("1E+999999999")) would build a gigantic number.
            # Decimal("sNaN") raises on any comparison, hence ArithmeticError below.
            if not math.isfinite(value) or abs(value) >= _HUGE or value != int(value):
                raise ValueError
            return int(value)
        text = _text(value)
    except (TypeError, ValueError, ArithmeticError):
        raise row.fail(column, f"is not a whole number: {value!r:.60}") from None
    text = (text or "").strip()
    if text == "":
        return None  # some proxies send NULL as an empty string
    if not _INT_RE.fullmatch(text):
        raise row.fail(column, f"is not a whole number: {text!r:.60}")
    return int(text)


def _int_field(row: _Row, names: Sequence[str]) -> int | None:
    found = row.find(names)
    if found is None:
        return None
    return _to_int(row, *found)


def _errno_field(row: _Row, names: Sequence[str]) -> int:
    found = row.find(names)
    assert found is not None  # required columns are checked before
    number = _to_int(row, *found)
    if number is None:
        raise row.fail(found[0], "is NULL, an error number was expected")
    return number


def _float_field(row: _Row, names: Sequence[str]) -> float | None:
    found = row.find(names)
    if found is None or found[1] is None:
        return None
    column, value = found
    try:
        if isinstance(value, int | float | Decimal):
            number = float(value)
        else:
            text = (_text(value) or "").strip()
            if text == "":
                return None
            number = float(text)
    except (TypeError, ValueError, ArithmeticError):  # OverflowError is an ArithmeticError
        raise row.fail(column, f"is not a number: {value!r:.60}") from None
    if not math.isfinite(number):
        raise row.fail(column, f"is not a finite number: {value!r:.60}")
    return number


def _bool_field(row: _Row, names: Sequence[str]) -> bool | None:
    found = _get_text(row, names)
    if found is None or found[1] is None:
        return None
    word = found[1].strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None  # a value we do not know says nothing either way; not worth failing the whole row


def _parse_row(raw: Any, index: int) -> ReplicationChannel:
    if not isinstance(raw, Mapping):
        raise UnreadableStatus(
            f"row {index} is a {type(raw).__name__}, not a dict (the query needs a DictCursor)"
        )
    row = _Row(raw, f"row {index}")
    # Name the channel in messages when we can: with several sources that says which one is odd.
    try:
        named = _get_text(row, _NAME)
    except UnreadableStatus:
        named = None
    if named is not None and named[1]:
        row.where = f"row {index} (channel {named[1]!r:.60})"
    where = row.where

    for what, names in _REQUIRED.items():
        if row.find(names) is None:
            raise UnreadableStatus(f"{where}: no {what} column (looked for {', '.join(names)})")

    io_running = _get_text(row, _IO_RUNNING)
    sql_running = _get_text(row, _SQL_RUNNING)
    gtid = _str_field(row, _GTID_IO_POS)
    return ReplicationChannel(
        name=_str_field(row, _NAME),
        source_host=_str_field(row, _SOURCE_HOST, default="") or None,
        source_port=_int_field(row, _SOURCE_PORT),
        # Thread states outside Yes/Connecting/Preparing/No pass through unchanged on purpose.
        io_running=io_running[1] if io_running else None,
        sql_running=sql_running[1] if sql_running else None,
        io_state=_str_field(row, _IO_STATE),
        sql_state=_str_field(row, _SQL_STATE),
        last_io_errno=_errno_field(row, _LAST_IO_ERRNO),
        last_io_error=_str_field(row, _LAST_IO_ERROR),
        last_sql_errno=_errno_field(row, _LAST_SQL_ERRNO),
        last_sql_error=_str_field(row, _LAST_SQL_ERROR),
        seconds_behind=_int_field(row, _SECONDS_BEHIND),
        # MySQL wraps long GTID sets with a newline after each comma; the set itself has none.
        gtid_io_pos=gtid.replace("\r", "").replace("\n", ""),
        ssl_verify=_bool_field(row, _SSL_VERIFY),
        ssl_allowed=_bool_field(row, _SSL_ALLOWED),
        connect_retry=_int_field(row, _CONNECT_RETRY),
        heartbeat_period=_float_field(row, _HEARTBEAT_PERIOD),
        received_heartbeats=_int_field(row, _RECEIVED_HEARTBEATS),
        read_position=_read_position(row),
    )


def _read_position(row: _Row) -> str:
    pos = _int_field(row, _READ_SOURCE_POS)
    return f"{_str_field(row, _SOURCE_LOG_FILE)}:{pos}" if pos is not None else ""


class QuietClock:
    """How long each channel of one replica has received nothing from its source.

    A living source sends the replica something at least every heartbeat period: its events, or a
    heartbeat event when it has none. Either moves a counter (the read position, the heartbeats received),
    so a counter that stops while the monitor keeps reading means a source gone silent, which the IO
    thread only admits after slave_net_timeout. The clock is the monitor's own (monotonic), read at each
    poll: the time a change was first seen, so the quiet time is never overstated.
    """

    def __init__(self) -> None:
        self._seen: dict[str, tuple[tuple, float]] = {}

    def stamp(self, channels: tuple[ReplicationChannel, ...], now: float) -> tuple[ReplicationChannel, ...]:
        seen: dict[str, tuple[tuple, float]] = {}
        out = []
        for ch in channels:
            mark = (ch.received_heartbeats, ch.read_position, ch.gtid_io_pos)
            if ch.received_heartbeats is None and not ch.read_position:
                out.append(ch)  # nothing to watch on this server
                continue
            before = self._seen.get(ch.name)
            since = before[1] if before is not None and before[0] == mark else now
            seen[ch.name] = (mark, since)
            out.append(replace(ch, quiet_for=round(now - since, 3)))
        self._seen = seen
        return tuple(out)


def parse_channels(rows: list[dict]) -> tuple[ReplicationChannel, ...]:
    """One `ReplicationChannel` per status row, in the server's order; no rows means "not a replica".

    Raises `UnreadableStatus` (and nothing else) when a row cannot be understood.
    """
    if isinstance(rows, Mapping) or isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise UnreadableStatus(f"expected a list of rows, got a {type(rows).__name__}")
    return tuple(_parse_row(raw, index) for index, raw in enumerate(rows))
