"""A PyMySQL connection that parses each distinct set of column descriptions once.

A poll asks every node the same questions, and the answers' column descriptions are the same bytes every time:
`SHOW ALL SLAVES STATUS` alone sends 60-odd of them. PyMySQL parses each into an object per result, which was
three quarters of a probe's client CPU (1.2 ms per node round trip on the project's machine, where a C driver
takes 0.2). Here the raw description packets are read as bytes and looked up; only a set not seen before is
parsed, the way PyMySQL does it. Everything else (TLS, timeouts and their errors, sequence checks) is PyMySQL's.

This leans on PyMySQL's internals (`_read_bytes`, `_next_seq_id`, ...), hence its exact pin in pyproject.toml;
tests/test_probe_driver.py compares the answers with plain PyMySQL's, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import struct
from typing import Any

from pymysql import converters, err
from pymysql.connections import MAX_PACKET_LEN, TEXT_TYPES, Connection, MySQLResult
from pymysql.constants import CR, FIELD_TYPE
from pymysql.protocol import FieldDescriptorPacket

_HEADER = struct.Struct("<HBB")
_KEEP = 256  # distinct description sets: a handful per server version in practice
# (encoding, use_unicode, raw packets) -> (fields, converters, description)
_known: dict[tuple, tuple[list, list, tuple]] = {}


class _Result(MySQLResult):
    def _get_descriptions(self) -> None:
        conn = self.connection
        raw = tuple(_payload(conn) for _ in range(self.field_count))
        key = (conn.encoding, conn.use_unicode, raw)
        known = _known.get(key)
        if known is None:
            if len(_known) >= _KEEP:
                _known.clear()
            known = _known[key] = _describe(conn, raw)
        self.fields, self.converters, self.description = known
        eof_packet = conn._read_packet()
        if not eof_packet.is_eof_packet():
            raise err.InternalError("Protocol error, expecting EOF after the column descriptions")


class DescribingConnection(Connection):
    """`pymysql.Connection` with the cache above; take it where `pymysql.connect()` would be called."""

    def _read_query_result(self, unbuffered: bool = False) -> int:
        if unbuffered:  # not used by the probe: PyMySQL's own way
            return super()._read_query_result(unbuffered)
        self._result = None
        result = _Result(self)
        result.read()
        self._result = result
        if result.server_status is not None:
            self.server_status = result.server_status
        return result.affected_rows


def _payload(conn: Connection) -> bytes:
    """One packet's bytes, with PyMySQL's checks: its read timeout, lost connection and sequence errors."""
    if conn._current_timeout != conn._read_timeout:
        conn._sock.settimeout(conn._read_timeout)
        conn._current_timeout = conn._read_timeout
    length_low, length_high, seq = _HEADER.unpack(conn._read_bytes(4))
    length = length_low + (length_high << 16)
    if seq != conn._next_seq_id:
        conn._force_close()
        if seq == 0:
            raise err.OperationalError(CR.CR_SERVER_LOST, "Lost connection to MySQL server during query")
        raise err.InternalError(f"Packet sequence number wrong - got {seq} expected {conn._next_seq_id}")
    conn._next_seq_id = (conn._next_seq_id + 1) % 256
    if length >= MAX_PACKET_LEN:  # a 16 MB column description cannot happen; refuse rather than misread
        conn._force_close()
        raise err.InternalError("column description too large")
    return conn._read_bytes(length)


def _describe(conn: Connection, raw: tuple[bytes, ...]) -> tuple[list, list, tuple]:
    """What `MySQLResult._get_descriptions` sets, from the raw packets (its rules as of PyMySQL 1.2)."""
    fields: list[Any] = []
    decoders: list[tuple[str | None, Any]] = []
    for data in raw:
        field = FieldDescriptorPacket(data, conn.encoding)
        fields.append(field)
        if not conn.use_unicode:
            encoding = None
        elif field.type_code == FIELD_TYPE.JSON:
            encoding = conn.encoding
        elif field.type_code in TEXT_TYPES:
            encoding = None if field.charsetnr == 63 else conn.encoding  # 63: binary
        else:
            encoding = "ascii"
        converter = conn.decoders.get(field.type_code)
        decoders.append((encoding, None if converter is converters.through else converter))
    return fields, decoders, tuple(f.description() for f in fields)
