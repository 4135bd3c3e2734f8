"""What the small repair reads on the nodes, with the monitor account: SELECTs and SHOWs only. No Django.

On the stopped replica: its channel from the other node (the error, where the SQL thread stands in the relay log),
its GTID position, and the failing transaction's events (`SHOW RELAYLOG EVENTS`: MariaDB allows it to SLAVE
MONITOR, which the monitor holds; MySQL asks REPLICATION SLAVE, which it does not, so a MySQL replica's
transaction is left to the operator's mysqlbinlog). On both nodes: the row, when the account may read its table.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pymysql

from monitor.probe.errors import classify
from monitor.probe.flavour import parse_version, replica_status_statement
from monitor.probe.target import NodeTarget
from pairs.checks import connect, names_peer
from pairs.repair import row_lookup
from pairs.repair.apply_error import DUPLICATE_KEY, ApplyError, parse
from pairs.repair.reading import as_text, fetch_rows
from pairs.repair.row_lookup import RowLookup
from pairs.repair.skip_event import Relay
from pairs.repair.skip_judge import DENIED, FAILED, READ, ReplicaState, Rows, Transaction

EVENTS_READ = 60  # a transaction of one row event is 5 events; more say it is not one to skip anyway
_DENIED = {1044, 1142, 1143, 1227, 1370}  # access denied to a schema, table, column, privilege, routine


@dataclass(frozen=True)
class Failure:
    """The stopped replica as the repair opens: everything the steps are generated from."""

    flavour: str
    version: str
    channel: Mapping  # the raw status row of its channel from the other node
    error: ApplyError
    position: str  # MariaDB gtid_slave_pos; MySQL gtid_executed
    transaction: Transaction
    relay: Relay
    lookup: RowLookup

    @property
    def connection(self) -> str:
        return as_text(_field(self.channel, "Connection_name", "Channel_Name"))


def _field(row: Mapping, *names: str) -> object:
    return next((row[n] for n in names if n in row), None)


def _failed(exc: Exception) -> str:
    reach, errno, message = classify(exc)
    return f"{reach}: {message}" + (f" ({errno})" if errno else "")


def _head(conn: pymysql.Connection) -> tuple[str, tuple[int, int, int], str]:
    head = fetch_rows(conn, "SELECT @@version AS v, @@version_comment AS c")[0]
    flavour, version = parse_version(as_text(head["v"]), as_text(head["c"]))
    return flavour, version, as_text(head["v"])


def _channel(conn: pymysql.Connection, flavour: str, version: tuple[int, ...], peers: set[str]) -> Mapping | None:
    for row in fetch_rows(conn, replica_status_statement(flavour, version)):
        host, port = as_text(_field(row, "Master_Host", "Source_Host")), _field(row, "Master_Port", "Source_Port")
        if names_peer(host, int(port) if port is not None else None, peers):
            return row
    return None


def _position(conn: pymysql.Connection, flavour: str) -> str:
    sql = "SELECT @@gtid_slave_pos AS p" if flavour == "mariadb" else "SELECT @@GLOBAL.gtid_executed AS p"
    return as_text(fetch_rows(conn, sql)[0]["p"]).replace("\n", "")


def read_failure(target: NodeTarget, peers: set[str], vault_schema: str) -> Failure | str:
    """The replica's failure, or why it cannot be read (a sentence). Never raises."""
    try:
        conn = connect(target)
    except Exception as exc:  # noqa: BLE001 (classified: refused, timeout, TLS, auth ...)
        return f"the {target.role} does not answer the monitor ({_failed(exc)})"
    try:
        return _failure(conn, target.role, peers, vault_schema)
    except Exception as exc:  # noqa: BLE001 (a bad answer or a lost connection: said, not raised)
        return f"the {target.role} could not be read ({_failed(exc)})"
    finally:
        conn.close()


def _failure(conn: pymysql.Connection, role: str, peers: set[str], vault_schema: str) -> Failure | str:
    flavour, version, version_text = _head(conn)
    channel = _channel(conn, flavour, version, peers)
    if channel is None:
        return f"the {role} has no replication channel from the other node"
    errno = int(_field(channel, "Last_SQL_Errno") or 0)
    if not errno:
        running = as_text(_field(channel, "Slave_SQL_Running", "Replica_SQL_Running"))
        return f"the {role}'s SQL thread reports no error now (SQL thread {running})"
    text = as_text(_field(channel, "Last_SQL_Error"))
    detail = _worker_error(conn) if flavour == "mysql" else ""
    error = parse(errno, text, detail)
    transaction, relay = _transaction(conn, flavour, channel)
    vault = error.schema == vault_schema or any(t.split(".")[0] == vault_schema for t in transaction.tables)
    if error.errno == DUPLICATE_KEY:
        columns = _key_columns(conn, error) if error.table else ()
        lookup = row_lookup.from_duplicate(error, columns, vault)
    else:
        lookup = row_lookup.from_statement(error, transaction.statement, vault)
    if vault:
        transaction = _without_statement(transaction)
    return Failure(flavour=flavour, version=version_text, channel=channel, error=error,
                   position=_position(conn, flavour), transaction=transaction, relay=relay, lookup=lookup)


def _worker_error(conn: pymysql.Connection) -> str:
    """A multithreaded MySQL replica's failing worker's own words; "" when the account may not read them."""
    try:
        rows = fetch_rows(conn, "SELECT LAST_ERROR_MESSAGE AS m FROM "
                           "performance_schema.replication_applier_status_by_worker WHERE LAST_ERROR_NUMBER <> 0 "
                           "ORDER BY LAST_ERROR_TIMESTAMP DESC LIMIT 1")
    except pymysql.err.MySQLError:
        return ""
    return as_text(rows[0]["m"]) if rows else ""


def _transaction(conn: pymysql.Connection, flavour: str, channel: Mapping) -> tuple[Transaction, Relay]:
    """The failing transaction's events, from where the SQL thread stands to its commit."""
    file, start = as_text(_field(channel, "Relay_Log_File")), _field(channel, "Relay_Log_Pos")
    name = as_text(_field(channel, "Connection_name", "Channel_Name"))
    folder = _relay_folder(conn)
    if not file or start is None:
        return Transaction(why="the replica status names no relay log position"), Relay(folder=folder)
    relay = Relay(file=file, start=int(start), folder=folder)
    conn_name = f" {conn.escape(name)}" if name and flavour == "mariadb" else ""
    for_channel = f" FOR CHANNEL {conn.escape(name)}" if name and flavour == "mysql" else ""
    sql = (f"SHOW RELAYLOG{conn_name} EVENTS IN {conn.escape(file)} FROM {int(start)} LIMIT {EVENTS_READ}"
           f"{for_channel}")
    try:
        rows = fetch_rows(conn, sql)
    except pymysql.err.MySQLError as exc:
        return Transaction(why=_failed(exc)), relay
    events, gtid, statement, stop, complete = [], "", "", None, False
    for row in rows:
        kind, info = as_text(row.get("Event_type")), as_text(row.get("Info"))
        if complete:
            stop = int(row["Pos"])
            break
        events.append((kind, info))
        if kind == "Gtid" and not gtid:
            gtid = _gtid(info)
        elif kind == "Annotate_rows" and not statement:
            statement = info
        elif kind == "Xid" or (kind == "Query" and info.strip().upper() == "COMMIT"):
            complete = True
    return (Transaction(read=True, gtid=gtid, events=tuple(events), statement=statement, complete=complete),
            Relay(file=file, start=int(start), stop=stop, folder=folder))


def _without_statement(tx: Transaction) -> Transaction:
    """The vault's logged statements may carry its secrets: kept for nothing but finding the row's key."""
    hidden = "(a statement on the vault: not shown)"
    return replace(tx, statement="", events=tuple((kind, hidden if kind == "Annotate_rows" else info)
                                                  for kind, info in tx.events))


def _gtid(info: str) -> str:
    """MariaDB: `BEGIN GTID 1-1-42` (with ` cid=…` when group-committed); MySQL: `SET @@SESSION.GTID_NEXT= 'u:n'`."""
    words = info.replace("'", " ").split()
    if "GTID" in words and words.index("GTID") + 1 < len(words):
        return words[words.index("GTID") + 1]
    return next((w for w in words if ":" in w), "")


def _relay_folder(conn: pymysql.Connection) -> str:
    row = fetch_rows(conn, "SELECT @@relay_log_basename AS r, @@datadir AS d")[0]
    basename = as_text(row["r"])
    return posixpath.dirname(basename) if basename else as_text(row["d"]).rstrip("/")


def _key_columns(conn: pymysql.Connection, error: ApplyError) -> tuple[str, ...]:
    """The key's columns, as information_schema shows them to the account (nothing for a table it may not read)."""
    rows = fetch_rows(conn, "SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND "
                       "TABLE_NAME = %s AND INDEX_NAME = %s ORDER BY SEQ_IN_INDEX",
                 (error.schema, error.table, error.key_name))
    return tuple(as_text(r["c"]) for r in rows)


def read_rows(target: NodeTarget, lookup: RowLookup) -> Rows:
    """The rows for the key on one node; DENIED when the account may not read the table. Never raises."""
    try:
        conn = connect(target)
    except Exception as exc:  # noqa: BLE001
        return Rows(target.role, FAILED, error=_failed(exc))
    try:
        if not lookup.known:
            # No key to read by: still say whether the account may read the table at all.
            fetch_rows(conn, f"SELECT 1 FROM {lookup.table_name} LIMIT 0")
            return Rows(target.role, FAILED, error="the row's key is not known")
        sql, args = lookup.query()
        with conn.cursor(pymysql.cursors.Cursor) as cur:
            cur.execute(sql, args)
            columns = [d[0] for d in cur.description]
            rows = cur.fetchall()
        return Rows(target.role, READ, tuple(tuple((c, None if v is None else as_text(v)) for c, v in zip(
            columns, row, strict=True)) for row in rows))
    except pymysql.err.MySQLError as exc:
        errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        return Rows(target.role, DENIED if errno in _DENIED else FAILED, error=_failed(exc))
    finally:
        conn.close()


def read_state(target: NodeTarget, peers: set[str]) -> ReplicaState:
    """The replica's channel from the other node and its GTID position, after the skip. Never raises."""
    try:
        conn = connect(target)
    except Exception as exc:  # noqa: BLE001
        return ReplicaState(target.role, "error", _failed(exc))
    try:
        flavour, version, _ = _head(conn)
        channel = _channel(conn, flavour, version, peers)
        if channel is None:
            return ReplicaState(target.role, "ok", flavour=flavour)
        return ReplicaState(
            target.role, "ok", flavour=flavour, found=True,
            io=as_text(_field(channel, "Slave_IO_Running", "Replica_IO_Running")) or None,
            sql=as_text(_field(channel, "Slave_SQL_Running", "Replica_SQL_Running")) or None,
            errno=int(_field(channel, "Last_SQL_Errno") or 0), text=as_text(_field(channel, "Last_SQL_Error")),
            position=_position(conn, flavour))
    except Exception as exc:  # noqa: BLE001
        return ReplicaState(target.role, "error", _failed(exc))
    finally:
        conn.close()
