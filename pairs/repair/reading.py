"""What a repair's checks read on a node, with the monitor account: SELECTs and SHOWs only. No Django.

The connection is Test connection's (`pairs.checks.connect`), so a node the monitor can poll is a node the
checks can read. The source's heartbeat row is read on the target by the key the monitor writes it under.
"""

from __future__ import annotations

import pymysql

from monitor.probe.errors import classify
from monitor.probe.flavour import parse_version, replica_status_statement
from monitor.probe.replica_status import UnreadableStatus, parse_channels
from monitor.probe.target import NodeTarget
from monitor.server_sql import heartbeat_table
from pairs.checks import connect, names_peer
from pairs.repair.judge import Channel, NodeFacts


def fetch_rows(conn: pymysql.Connection, sql: str, args: tuple | None = None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def as_text(value: object) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value or "")


def read_node(target: NodeTarget, peer_origin: str, peer_endpoints: set[str]) -> NodeFacts:
    """The node's facts; a node that cannot be read says why in `reach` and `error`. Never raises."""
    try:
        conn = connect(target)
    except Exception as exc:  # noqa: BLE001 (classified: refused, timeout, TLS, auth ...)
        reach, errno, message = classify(exc)
        return NodeFacts(target.role, str(reach), f"{message}" + (f" ({errno})" if errno else ""))
    try:
        return _read(conn, target, peer_origin, peer_endpoints)
    except (UnreadableStatus, ValueError) as exc:
        return NodeFacts(target.role, "error", f"unreadable answer: {exc}")
    except Exception as exc:  # noqa: BLE001
        reach, errno, message = classify(exc)
        return NodeFacts(target.role, str(reach), f"{message}" + (f" ({errno})" if errno else ""))
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 (closing a dead socket may fail any way it likes)
            pass


def _read(conn: pymysql.Connection, target: NodeTarget, peer_origin: str, peers: set[str]) -> NodeFacts:
    head = fetch_rows(conn, "SELECT @@version AS v, @@version_comment AS c, @@server_id AS sid, @@log_bin AS lb")[0]
    flavour, version = parse_version(as_text(head["v"]), as_text(head["c"]))
    if flavour == "mariadb":
        gtid = fetch_rows(conn, "SELECT @@gtid_binlog_pos AS b, @@gtid_slave_pos AS r")[0]
        binlog_pos, replica_pos = as_text(gtid["b"]), as_text(gtid["r"])
        uuid = ""
    else:
        row = fetch_rows(conn, "SELECT @@GLOBAL.gtid_executed AS e, @@server_uuid AS u")[0]
        binlog_pos = replica_pos = as_text(row["e"])
        uuid = as_text(row["u"])
    uptime = fetch_rows(conn, "SHOW GLOBAL STATUS LIKE 'Uptime'")
    try:
        channels = parse_channels(fetch_rows(conn, replica_status_statement(flavour, version)))
    except pymysql.err.OperationalError:
        channels = ()  # the monitor lacks the replica-status privilege: Test connection says so
    beat = fetch_rows(conn, f"SELECT ts FROM {heartbeat_table(target.heartbeat_schema)} WHERE origin = %s",
                 (peer_origin,)) if _has_heartbeat(conn, target) else []
    return NodeFacts(
        role=target.role, reach="ok", flavour=flavour, server_id=head["sid"],
        uptime=float(as_text(uptime[0]["Value"])) if uptime else None,
        log_bin=as_text(head["lb"]).upper() in ("1", "ON"),
        binlog_pos=binlog_pos.replace("\n", ""), replica_pos=replica_pos.replace("\n", ""),
        channels=tuple(Channel(source=f"{ch.source_host}:{ch.source_port}",
                               from_peer=names_peer(ch.source_host or "", ch.source_port, peers),
                               io=ch.io_running, sql=ch.sql_running,
                               error=ch.last_io_error or ch.last_sql_error, ssl=ch.ssl_allowed)
                       for ch in channels),
        peer_heartbeat=float(beat[0]["ts"]) if beat else None, uuid=uuid,
    )


def _has_heartbeat(conn: pymysql.Connection, target: NodeTarget) -> bool:
    """A freshly initialised node has no heartbeat table yet: that is a `not yet`, not an error."""
    return bool(fetch_rows(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = %s "
                            "AND table_name = 'heartbeat'", (target.heartbeat_schema,))[0]["n"])
