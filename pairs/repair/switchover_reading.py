"""What the switchover checks read on a node, with the monitor account: SELECTs and SHOWs only. No Django.

Beyond the rebuild's reading: read_only and super_read_only, the GTID state per server, and each channel's read
and executed positions (a stopped replica has applied all it read when they meet).
"""

from __future__ import annotations

from collections.abc import Mapping

import pymysql

from monitor.probe.errors import classify
from monitor.probe.flavour import parse_version, replica_status_statement
from monitor.probe.target import NodeTarget
from pairs.checks import connect, names_peer
from pairs.repair.judge_switchover import Facts, Link
from pairs.repair.reading import as_text, fetch_rows


def _field(row: Mapping, *names: str) -> object:
    for name in names:
        if name in row:
            return row[name]
    return None


def _at(row: Mapping, file_names: tuple[str, ...], pos_names: tuple[str, ...]) -> str:
    file, pos = _field(row, *file_names), _field(row, *pos_names)
    return f"{as_text(file)}:{as_text(pos)}" if file and pos is not None else ""


def _flag(value: object) -> bool | None:
    return None if value is None else as_text(value).upper() in ("1", "ON", "YES")


def _link(row: Mapping) -> Link:
    behind = _field(row, "Seconds_Behind_Master", "Seconds_Behind_Source")
    return Link(
        io=as_text(_field(row, "Slave_IO_Running", "Replica_IO_Running")) or None,
        sql=as_text(_field(row, "Slave_SQL_Running", "Replica_SQL_Running")) or None,
        error=as_text(_field(row, "Last_IO_Error")) or as_text(_field(row, "Last_SQL_Error")),
        ssl=_flag(_field(row, "Master_SSL_Allowed", "Source_SSL_Allowed")),
        read_at=_at(row, ("Master_Log_File", "Source_Log_File"), ("Read_Master_Log_Pos", "Read_Source_Log_Pos")),
        exec_at=_at(row, ("Relay_Master_Log_File", "Relay_Source_Log_File"),
                    ("Exec_Master_Log_Pos", "Exec_Source_Log_Pos")),
        behind=int(behind) if behind not in (None, "") else None,
    )


def read_facts(target: NodeTarget, name: str, peers: set[str]) -> Facts:
    """The node's facts; a node that cannot be read says why in `reach` and `error`. Never raises."""
    try:
        conn = connect(target)
    except Exception as exc:  # noqa: BLE001 (classified: refused, timeout, TLS, auth ...)
        reach, errno, message = classify(exc)
        return Facts(name, str(reach), f"{message}" + (f" ({errno})" if errno else ""))
    try:
        return _read(conn, name, peers)
    except ValueError as exc:
        return Facts(name, "error", f"unreadable answer: {exc}")
    except Exception as exc:  # noqa: BLE001
        reach, errno, message = classify(exc)
        return Facts(name, str(reach), f"{message}" + (f" ({errno})" if errno else ""))
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 (closing a dead socket may fail any way it likes)
            pass


def _read(conn: pymysql.Connection, name: str, peers: set[str]) -> Facts:
    head = fetch_rows(conn, "SELECT @@version AS v, @@version_comment AS c, @@server_id AS sid, @@read_only AS ro")[0]
    flavour, version = parse_version(as_text(head["v"]), as_text(head["c"]))
    if flavour == "mariadb":
        g = fetch_rows(conn, "SELECT @@gtid_binlog_pos AS b, @@gtid_slave_pos AS r, @@gtid_binlog_state AS s")[0]
        # What it holds, per domain: its own binary log, and what it applied without logging it.
        position = ",".join(p for p in (as_text(g["b"]), as_text(g["r"])) if p)
        state, uuid, super_ro = as_text(g["s"]), "", None
    else:
        g = fetch_rows(conn, "SELECT @@GLOBAL.gtid_executed AS e, @@server_uuid AS u, @@super_read_only AS sro")[0]
        position = state = as_text(g["e"]).replace("\n", "")
        uuid, super_ro = as_text(g["u"]), _flag(g["sro"])
    try:
        rows = fetch_rows(conn, replica_status_statement(flavour, version))
    except pymysql.err.OperationalError:
        rows = []  # the monitor lacks the replica-status privilege: Test connection says so
    links, elsewhere = [], []
    for row in rows:
        host, port = as_text(_field(row, "Master_Host", "Source_Host")), _field(row, "Master_Port", "Source_Port")
        if names_peer(host, int(port) if port is not None else None, peers):
            links.append(_link(row))
        else:
            elsewhere.append(f"{host}:{port}")
    return Facts(name=name, reach="ok", flavour=flavour, server_id=head["sid"], uuid=uuid,
                 read_only=_flag(head["ro"]), super_read_only=super_ro, position=position.replace("\n", ""),
                 state=state.replace("\n", ""), links=tuple(links), elsewhere=tuple(elsewhere))
