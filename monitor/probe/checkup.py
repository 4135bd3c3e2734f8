"""The slow checkup of one node: the settings, binary logs and GTID state the warnings before failures need.

No Django here. Its own short-lived connection, once a minute or so, never the poll's kept one: the regular poll
pays nothing for it. Only reads: SHOW GLOBAL VARIABLES, the replica status, SHOW BINARY LOGS, on MariaDB the first
events of the oldest binary log (the GTID state it starts from), and the server's certificate (the handshake's, and
its Ssl_server_not_after status).
"""

from __future__ import annotations

from dataclasses import replace

import pymysql

from monitor.probe import certificate
from monitor.probe.errors import classify
from monitor.probe.flavour import parse_version, replica_status_statement
from monitor.probe.replica_status import UnreadableStatus, parse_channels
from monitor.probe.target import NodeTarget, tls_context
from monitor.readings import Reach
from monitor.risks.checkup import ChannelCheckup, NodeCheckup

# Every setting a rule reads (monitor/risks/); a server lacks some of them (flavour, version): they are left out.
VARIABLES = (
    "server_id", "server_uuid", "auto_increment_increment", "auto_increment_offset", "log_bin", "log_slave_updates",
    "log_replica_updates", "binlog_format", "sync_binlog", "innodb_flush_log_at_trx_commit", "read_only",
    "super_read_only", "binlog_expire_logs_seconds", "expire_logs_days", "gtid_mode", "enforce_gtid_consistency",
    "gtid_binlog_state", "gtid_current_pos", "gtid_executed", "gtid_purged", "gtid_domain_id", "ssl_cert", "ssl_key",
)
TIMEOUT = 5.0  # seconds a read may take: nothing waits on a checkup but the next one
_DENIED = {1044, 1045, 1142, 1227}
_NO_BINLOG = 1381  # "You are not using binary logging"


def _connect(target: NodeTarget) -> pymysql.Connection:
    ctx = tls_context(target)
    kwargs: dict = {"ssl": ctx} if ctx else {"ssl_disabled": True}
    return pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password,
                           connect_timeout=max(target.connect_timeout, 2.0), read_timeout=TIMEOUT,
                           write_timeout=TIMEOUT, autocommit=True, charset="utf8mb4",
                           cursorclass=pymysql.cursors.DictCursor, **kwargs)


def read_checkup(target: NodeTarget) -> NodeCheckup:
    """What the rules need of this node; a node that cannot be read says why in `error`. Never raises."""
    base = NodeCheckup(role=target.role, address=target.address)
    try:
        conn = _connect(target)
    except Exception as exc:  # noqa: BLE001 (classified: refused, timeout, TLS, auth ...)
        failed = _failed(base, exc)
        # A login that fails on the certificate (an expired one) still shows it, read without logging in.
        if failed.error.startswith(f"{Reach.TLS.value}:"):
            return replace(failed, certificate=certificate.fetch(target, TIMEOUT, "the panel's login failed on TLS"))
        return failed
    try:
        node = _read(conn, base)
        if node.certificate is None and target.tls_mode == "off":
            node = replace(node, certificate=certificate.fetch(target, TIMEOUT, "the panel's connection has no TLS"))
        return node
    except UnreadableStatus as exc:
        return NodeCheckup(base.role, base.address, error=f"unreadable: {exc}")
    except Exception as exc:  # noqa: BLE001
        return _failed(base, exc)
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 (closing a dead socket may fail any way it likes)
            pass


def _failed(base: NodeCheckup, exc: BaseException) -> NodeCheckup:
    reach, errno, message = classify(exc)
    return NodeCheckup(base.role, base.address, error=f"{reach.value}: {message}" + (f" ({errno})" if errno else ""))


def _rows(conn: pymysql.Connection, sql: str, args: tuple | None = None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def _text(value: object) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)


def _read(conn: pymysql.Connection, base: NodeCheckup) -> NodeCheckup:
    head = _rows(conn, "SELECT @@version AS v, @@version_comment AS c")[0]
    version, comment = _text(head["v"] or ""), _text(head["c"] or "")
    flavour, numbers = parse_version(version, comment)
    marks = ", ".join(["%s"] * len(VARIABLES))
    variables = {_text(r["Variable_name"]).lower(): _text(r["Value"]) for r in _rows(
        conn, f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({marks})", VARIABLES)}
    raw = _rows(conn, replica_status_statement(flavour, numbers))
    binlogs, binlogs_error, oldest = _binlogs(conn, flavour, variables.get("log_bin", "").upper() != "OFF")
    not_after = _rows(conn, "SHOW GLOBAL STATUS LIKE 'Ssl_server_not_after'")
    return NodeCheckup(base.role, base.address, flavour=flavour, version=version, variables=variables,
                       channels=_channels(raw), binlogs=binlogs, binlogs_error=binlogs_error,
                       oldest_gtid_list=oldest, certificate=certificate.of_connection(conn, base.address),
                       cert_not_after=_text(not_after[0]["Value"] or "") if not_after else None)


def _channels(raw: list[dict]) -> tuple[ChannelCheckup, ...]:
    parsed = parse_channels(raw)
    out = []
    for row, ch in zip(raw, parsed, strict=True):
        folded = {str(k).lower(): v for k, v in row.items()}
        using = folded.get("using_gtid")
        auto = folded.get("auto_position")
        out.append(ChannelCheckup(
            name=ch.name, io_running=ch.io_running, last_io_errno=ch.last_io_errno,
            using_gtid=_text(using) if using is not None else None,
            auto_position=None if auto is None else _text(auto).strip() == "1",
            ssl_allowed=ch.ssl_allowed, gtid_io_pos=ch.gtid_io_pos, ssl_verify=ch.ssl_verify,
            ssl_ca=_text(_first(folded, "master_ssl_ca_file", "source_ssl_ca_file")),
            ssl_cert=_text(_first(folded, "master_ssl_cert", "source_ssl_cert"))))
    return tuple(out)


def _first(folded: dict, *names: str) -> object:
    return next((folded[n] for n in names if folded.get(n) is not None), "")


def _binlogs(conn: pymysql.Connection, flavour: str, logging: bool) -> tuple[tuple[str, ...] | None, str, str | None]:
    """(binary log names oldest first, why they cannot be read, the GTID state the oldest starts from)."""
    if not logging:
        return (), "", None
    try:
        names = tuple(_text(r.get("Log_name")) for r in _rows(conn, "SHOW BINARY LOGS"))
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args else None
        if code == _NO_BINLOG:
            return (), "", None
        if code in _DENIED:
            return None, f"({code}) {exc.args[1] if len(exc.args) > 1 else exc}", None
        raise
    if flavour != "mariadb" or not names:
        return names, "", None
    # The Gtid_list event right after the format description: the GTID state before the file's first event.
    events = _rows(conn, "SHOW BINLOG EVENTS IN %s LIMIT 3", (names[0],))
    oldest = next((_text(e.get("Info") or "") for e in events if _text(e.get("Event_type")) == "Gtid_list"), None)
    return names, "", oldest
