"""One node's probe: a kept PyMySQL connection, a TLS context built once, two reads per poll.

No Django here. A `NodeProbe` belongs to one node of one pair and is used by one poll at a time;
it is never shared between pairs. `read()` takes the node's own view and writes the monitor's
heartbeat row where the node is a source; `read_peer_heartbeat()` reads the source's row on a
replica, waiting briefly for the row written in this very poll.
"""

from __future__ import annotations

import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import pymysql
from pymysql.constants import CLIENT
from pymysql.converters import escape_float

from monitor.probe.driver import DescribingConnection
from monitor.probe.errors import classify
from monitor.probe.flavour import gtid_position_query, parse_version, replica_status_statement
from monitor.probe.replica_status import QuietClock, UnreadableStatus, parse_channels
from monitor.probe.target import NodeTarget, tls_context
from monitor.readings import Heartbeat, NodeReading, Reach
from monitor.server_sql import heartbeat_table

TRANSIT_SAMPLES = 30  # rows whose arrival `transit` takes the shortest of: half a minute at a 1 s interval
S = TypeVar("S", str, tuple[str, str])  # a kept statement: whole, or split where the per-poll value goes


class NodeProbe:
    def __init__(self, target: NodeTarget) -> None:
        self.target = target
        self.conn: pymysql.Connection | None = None
        self._ctx_error = ""
        try:
            self._ctx = tls_context(target)
        except Exception as exc:  # noqa: BLE001 (ssl raises several types for bad PEM; any one stops polling)
            self._ctx, self._ctx_error = None, f"TLS settings unusable: {exc}"
        self.flavour, self.version = "", (0, 0, 0)
        self.last_write_ts: float | None = None
        self._transit = 0.0  # seconds the source's heartbeat row last took to show here
        self._arrivals: deque[float] = deque(maxlen=TRANSIT_SAMPLES)  # write-to-read ages of rows caught up
        self._quiet = QuietClock()  # how long each replica channel has received nothing, across polls
        # The poll's statements with their fixed values written in, per connection (escaping depends on its
        # sql_mode): binding the same values at every poll took about 2% of a worker's CPU at 1,000 pairs.
        self._sql: dict[tuple, str | tuple[str, str]] = {}

    @property
    def transit(self) -> float:
        """The shortest time a source's heartbeat row took lately from its write to showing on this replica: the
        link's own delay, without the moments a busy machine added."""
        return min(self._arrivals, default=0.0)

    # ---- connection ------------------------------------------------------------------------
    def _connect(self) -> pymysql.Connection:
        t = self.target
        kwargs: dict = {"ssl": self._ctx} if self._ctx else {"ssl_disabled": True}
        conn = DescribingConnection(
            host=t.host, port=t.port, user=t.user, password=t.password, autocommit=True,
            connect_timeout=t.connect_timeout, read_timeout=t.timeout, write_timeout=t.timeout,
            cursorclass=pymysql.cursors.DictCursor, charset="utf8mb4",
            client_flag=CLIENT.MULTI_STATEMENTS, **kwargs,
        )
        return conn

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 (closing a dead socket may fail any way it likes)
                pass
            self.conn = None
        self._sql = {}

    def socket(self):
        """The kept connection's socket, for the crash watcher (None when not connected)."""
        return getattr(self.conn, "_sock", None) if self.conn is not None else None

    def _one(self, sql: str) -> tuple:
        rows = self._query(sql)
        if not rows:
            raise UnreadableStatus(f"the server returned no row for {sql}")
        return tuple(rows[0].values())

    def _query(self, sql: str, args: tuple | None = None) -> list[dict]:
        assert self.conn is not None
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    # ---- phase 1 -----------------------------------------------------------------------------
    def read(self, now=time.time) -> NodeReading:
        t = self.target
        base = NodeReading(role=t.role, address=t.address)
        self.last_write_ts = None
        if self._ctx_error:
            return replace(base, reach=Reach.TLS, error=self._ctx_error)
        started = time.monotonic()
        for attempt in (1, 2):
            kept = self.conn is not None
            try:
                if self.conn is None:
                    self.conn = self._connect()
                reading = self._read_views(base, now)
                break
            except UnreadableStatus as exc:
                self.close()
                return replace(base, reach=Reach.OK, parse_error=str(exc))
            except Exception as exc:  # noqa: BLE001 (every failure is classified, never raised)
                self.close()
                reach, errno, message = classify(exc)
                # A kept connection may be stale (the server restarted since, or dropped it idle):
                # that says nothing about the server now, so ask again on a fresh connection. Not
                # after a timeout: a hung server would cost a second timeout for nothing.
                if kept and attempt == 1 and reach is not Reach.TIMEOUT:
                    continue
                return replace(base, reach=reach, errno=errno, error=message)
        return replace(reading, latency_ms=round((time.monotonic() - started) * 1000, 1))

    def _statement(self, key: tuple, build: Callable[[], S]) -> S:
        """A statement of this connection, built once: its fixed values are escaped for this connection."""
        kept = self._sql.get(key)
        if kept is None:
            kept = self._sql[key] = build()
        return kept

    def _views_sql(self) -> tuple[str, str]:
        """The poll's statements for this server, split where the heartbeat's time goes (when written)."""
        assert self.conn is not None
        timeout_var = "@@replica_net_timeout" if self.flavour == "mysql" and self.version >= (8, 0, 26) \
            else "@@slave_net_timeout"
        gtid_var = gtid_position_query(self.flavour).removeprefix("SELECT ")
        head = (f"SELECT @@version, @@version_comment, @@server_id, @@read_only, {timeout_var}, {gtid_var}; "
                f"{replica_status_statement(self.flavour, self.version)}")
        if not self.target.write_heartbeat:
            return head, ""
        return (f"{head}; INSERT INTO {heartbeat_table(self.target.heartbeat_schema)} (origin, server_id, ts) VALUES "
                f"({self.conn.escape(self.target.origin)}, @@server_id, ",
                ") ON DUPLICATE KEY UPDATE server_id = VALUES(server_id), ts = VALUES(ts)")

    def _read_views(self, base: NodeReading, now) -> NodeReading:
        if not self.flavour:  # first contact: the variable names depend on flavour and version
            v, c = self._one("SELECT @@version, @@version_comment")[:2]
            self.flavour, self.version = parse_version(v or "", c or "")
        head, tail = self._statement(("views",), self._views_sql)
        # One round trip for the whole poll of this node: the scalars, the channels and the heartbeat
        # write. At a thousand pairs the round trips, not the server, are what the monitor pays for.
        ts = now()
        writes = self.target.write_heartbeat
        scalars, channel_rows, heartbeat_error = self._run(head + escape_float(ts) + tail if writes else head, writes)
        if not scalars:
            raise UnreadableStatus(f"the server returned no row for {head.split(';')[0]}")
        v, c, sid, ro, net_timeout, gtid = tuple(scalars[0].values())
        flavour, version = parse_version(v or "", c or "")
        if (flavour, version) != (self.flavour, self.version):  # upgraded in place: relearn next poll
            self.flavour, self.version = "", (0, 0, 0)
            raise UnreadableStatus(f"the server changed version to {v!r} since the last poll")
        channels = self._quiet.stamp(parse_channels(channel_rows), time.monotonic())
        sock = self.socket()
        cipher = (sock.cipher() or ("",))[0] if isinstance(sock, ssl.SSLSocket) else ""
        if writes and heartbeat_error is None:
            self.last_write_ts = ts
        return replace(
            base, version=str(v or ""), flavour=self.flavour, server_id=_int(sid),
            read_only=None if _int(ro) is None else bool(_int(ro)),
            slave_net_timeout=_int(net_timeout), gtid_position=str(gtid or ""),
            channels=channels, tls_cipher=cipher,
            heartbeat_written=writes and heartbeat_error is None, heartbeat_error=heartbeat_error or "",
        )

    def _run(self, sql: str, writes: bool) -> tuple[list[dict], list[dict], str | None]:
        """(scalar rows, channel rows, why the heartbeat was not written or None) in one round trip."""
        assert self.conn is not None
        with self.conn.cursor() as cur:
            cur.execute(sql)
            scalars = list(cur.fetchall())
            cur.nextset()
            channel_rows = list(cur.fetchall())
            return scalars, channel_rows, self._heartbeat_result(cur) if writes else None

    def _heartbeat_result(self, cur) -> str | None:
        """The heartbeat write's outcome, the last result of the poll's statements: None when written."""
        try:
            cur.nextset()
        except pymysql.err.ProgrammingError as exc:  # 1146: no table, 1049: no schema
            return _heartbeat_problem(exc, self.target)
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] in (1142, 1290, 1044, 1227, 1836):  # denied / read-only
                return _heartbeat_problem(exc, self.target)
            raise
        return None

    # ---- phase 2 -----------------------------------------------------------------------------
    def read_peer_heartbeat(self, origin: str, written_at: float | None, wait: float, now=time.time) -> Heartbeat:
        """The source's row as this replica has it; waits up to `wait` s for the row of this poll."""
        if self.conn is None:
            return Heartbeat(error="not connected")
        started = time.monotonic()
        deadline = started + wait
        if written_at is not None and wait > 0 and self._transit:
            # Asking before this poll's row can have arrived costs a query for nothing: wait about as
            # long as the row took to show up last time.
            time.sleep(min(self._transit, wait / 2))
        pause = 0.01
        try:
            while True:
                rows = self._query(self._statement(("peer", origin), lambda: (
                    f"SELECT ts FROM {heartbeat_table(self.target.heartbeat_schema)} WHERE origin = "
                    f"{self.conn.escape(origin)}")))
                ts = float(rows[0]["ts"]) if rows and rows[0].get("ts") is not None else None
                caught_up = ts is not None and written_at is not None and ts >= written_at
                if caught_up:
                    self._transit = 0.8 * (time.monotonic() - started)
                    break
                if written_at is None or time.monotonic() >= deadline:
                    break
                # Ever longer pauses: a row that is late on a busy machine is usually late by a lot, and each
                # ask costs both ends a query (a second's lateness took a hundred at a fixed 10 ms).
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 1.5, 0.1)
        except (pymysql.err.ProgrammingError, pymysql.err.OperationalError) as exc:
            if isinstance(exc, pymysql.err.ProgrammingError) or (exc.args and exc.args[0] in (1142, 1044)):
                return Heartbeat(error=_heartbeat_problem(exc, self.target))
            self.close()
            return Heartbeat(error=classify(exc)[2])
        except Exception as exc:  # noqa: BLE001
            self.close()
            return Heartbeat(error=classify(exc)[2])
        if ts is None:
            return Heartbeat(error=f"no heartbeat row from {origin} yet")
        age = round(max(0.0, now() - ts), 3)
        if caught_up:
            self._arrivals.append(age)
        return Heartbeat(age=age, caught_up=caught_up)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _heartbeat_problem(exc: BaseException, target: NodeTarget) -> str:
    code = exc.args[0] if exc.args else None
    table = f"{target.heartbeat_schema}.heartbeat"  # as an admin would type it
    if code in (1146, 1049):
        return f"heartbeat table {table} is missing on {target.address}: create it (see the setup assistant)"
    if code in (1142, 1044):
        return f"the monitor user may not write {table} on {target.address}: grant it INSERT, UPDATE, SELECT"
    if code in (1290, 1836):
        return f"{target.address} is read-only: the monitor cannot write its heartbeat there"
    return f"heartbeat on {target.address}: {exc}"
