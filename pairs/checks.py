"""Test connection: what an admin needs to know about a node before saving it. Read-only; no Django.

Every statement here is a read (SELECT, SHOW): the check never writes the heartbeat, never changes
a server. The connection is made like the monitor's own (same NodeTarget, same TLS context), so a
node that passes here is a node the monitor can poll.
"""

from __future__ import annotations

import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pymysql

from monitor.probe.errors import classify
from monitor.probe.flavour import parse_version, replica_status_statement
from monitor.probe.replica_status import UnreadableStatus, parse_channels
from monitor.probe.target import NodeTarget, tls_context
from pairs import grants

CHECK_TIMEOUT = 3.0  # an admin waits for an answer; a hung node must not hang the page


@dataclass
class Direction:
    source: str
    io: str | None
    sql: str | None
    error: str = ""
    from_peer: bool = False  # the source is the other node of this pair


@dataclass
class NodeCheck:
    role: str
    address: str
    reach: str = "ok"
    errno: int | None = None
    error: str = ""
    version: str = ""
    flavour: str = ""
    tls_cipher: str = ""
    tls_verified: bool = False
    server_id: int | None = None
    read_only: bool | None = None
    log_bin: bool | None = None
    gtid: dict = field(default_factory=dict)
    gtid_ok: bool | None = None
    missing_privileges: list[str] = field(default_factory=list)
    missing_for_warnings: list[str] = field(default_factory=list)  # the statuses work without these
    replication: list[Direction] | None = None  # None: could not be read
    replication_error: str = ""
    heartbeat_schema: bool | None = None

    @property
    def reachable(self) -> bool:
        return self.reach == "ok"


def connect(target: NodeTarget) -> pymysql.Connection:
    """A short-lived connection made like the monitor's, with the check's timeouts."""
    ctx = tls_context(target)
    kwargs: dict = {"ssl": ctx} if ctx else {"ssl_disabled": True}
    return pymysql.connect(
        host=target.host, port=target.port, user=target.user, password=target.password, autocommit=True,
        connect_timeout=target.timeout, read_timeout=target.timeout, write_timeout=target.timeout,
        cursorclass=pymysql.cursors.DictCursor, charset="utf8mb4", **kwargs,
    )


def _rows(conn: pymysql.Connection, sql: str, args: tuple | None = None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def _on(value) -> bool | None:
    if value is None:
        return None
    text = str(value).upper()
    return text in ("1", "ON", "YES", "TRUE")


def check_node(target: NodeTarget, peer_addresses: set[str] | None = None) -> NodeCheck:
    """Connects with the target's settings and reads what the report shows; never raises."""
    result = NodeCheck(role=target.role, address=target.address)
    try:
        conn = connect(target)
    except (ssl.SSLError, ValueError) as exc:
        return replace(result, reach="tls", error=f"TLS settings unusable: {exc}")
    except Exception as exc:  # noqa: BLE001 (every failure is classified and reported)
        reach, errno, message = classify(exc)
        return replace(result, reach=str(reach), errno=errno, error=message)
    try:
        _read(conn, target, result, peer_addresses or set())
    except Exception as exc:  # noqa: BLE001
        reach, errno, message = classify(exc)
        result.reach, result.errno, result.error = str(reach), errno, message
    finally:
        conn.close()
    return result


def _read(conn: pymysql.Connection, target: NodeTarget, result: NodeCheck, peers: set[str]) -> None:
    row = _rows(conn, "SELECT @@version AS v, @@version_comment AS c, @@server_id AS sid, "
                      "@@read_only AS ro, @@log_bin AS lb")[0]
    result.flavour, version = parse_version(row["v"] or "", row["c"] or "")
    result.version, result.server_id = str(row["v"]), row["sid"]
    result.read_only, result.log_bin = _on(row["ro"]), _on(row["lb"])
    sock = getattr(conn, "_sock", None)
    result.tls_cipher = (sock.cipher() or ("",))[0] if isinstance(sock, ssl.SSLSocket) else ""
    result.tls_verified = bool(result.tls_cipher) and target.tls_mode in ("verify-ca", "verify-identity")
    _read_gtid(conn, result)
    lines = [next(iter(r.values())) for r in _rows(conn, "SHOW GRANTS")]
    result.missing_privileges = grants.missing(lines, result.flavour, version, target.heartbeat_schema)
    result.missing_for_warnings = grants.missing_for_warnings(lines, result.flavour, version)
    _read_replication(conn, result, version, peers)
    found = _rows(conn, "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = %s "
                        "AND table_name = 'heartbeat'", (target.heartbeat_schema,))
    result.heartbeat_schema = bool(found and found[0]["n"])


def _read_gtid(conn: pymysql.Connection, result: NodeCheck) -> None:
    if result.flavour == "mariadb":
        row = _rows(conn, "SELECT @@gtid_strict_mode AS gtid_strict_mode, @@gtid_domain_id AS gtid_domain_id")[0]
        result.gtid = {"gtid_strict_mode": "ON" if _on(row["gtid_strict_mode"]) else "OFF",
                       "gtid_domain_id": row["gtid_domain_id"]}
        result.gtid_ok = _on(row["gtid_strict_mode"])
    else:
        row = _rows(conn, "SELECT @@gtid_mode AS gtid_mode, @@enforce_gtid_consistency AS enforce_gtid_consistency")[0]
        result.gtid = {k: str(v) for k, v in row.items()}
        result.gtid_ok = str(row["gtid_mode"]).upper() == "ON"


def _read_replication(conn: pymysql.Connection, result: NodeCheck, version: tuple, peers: set[str]) -> None:
    try:
        channels = parse_channels(_rows(conn, replica_status_statement(result.flavour, version)))
    except pymysql.err.OperationalError as exc:
        result.replication_error = classify(exc)[2]  # typically 1227: the monitor lacks SLAVE MONITOR
        return
    except UnreadableStatus as exc:
        result.replication_error = str(exc)
        return
    result.replication = [
        Direction(source=f"{ch.source_host}:{ch.source_port}", io=ch.io_running, sql=ch.sql_running,
                  error=ch.last_io_error or ch.last_sql_error,
                  from_peer=names_peer(ch.source_host or "", ch.source_port, peers))
        for ch in channels
    ]


def names_peer(source_host: str, source_port: int | None, peers: set[str]) -> bool:
    """Does a replica's source (host and port as it reports them) name one of `peers` (see `endpoints`)?"""
    host = source_host.lower()
    return any(f"{a}:{source_port}" in peers for a in (host, *_addresses(host)))


def endpoints(host: str, port: int, known_as: str) -> set[str]:
    """Every host:port a replica may name as its source for this node: the names the admin gave, and the
    addresses they resolve to (a replica set up with an address sees a node the panel knows by name)."""
    names = [n.strip().lower() for n in [host, *known_as.split(",")] if n.strip()]
    return {f"{a}:{port}" for n in names for a in (n, *_addresses(n))}


@lru_cache(maxsize=256)
def _addresses(name: str) -> tuple[str, ...]:
    """The addresses a name resolves to here; none when it does not resolve (nothing else depends on it)."""
    try:
        return tuple(sorted({info[4][0].lower() for info in socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)}))
    except (OSError, UnicodeError, ValueError):
        return ()


def check_pair(targets: dict[str, NodeTarget], known_as: dict[str, str]) -> dict[str, NodeCheck]:
    """Both nodes at once (an unreachable one costs its timeout, not twice)."""
    roles = list(targets)

    def one(role: str) -> NodeCheck:
        peer = targets[roles[1 - roles.index(role)]]
        return check_node(targets[role], endpoints(peer.host, peer.port, known_as.get(peer.role, "")))

    with ThreadPoolExecutor(len(roles)) as pool:
        return dict(zip(roles, pool.map(one, roles), strict=True))


def problems(check: NodeCheck, replicates: bool) -> list[tuple[str, str]]:
    """[(setup step, what is missing)] in the order of the setup assistant; empty when all is well."""
    if not check.reachable:
        return [("connect", f"the monitor cannot connect ({check.reach}): {check.error}")]
    found = []
    if check.log_bin is False:
        found.append(("server-options", "the binary log is off (log_bin)"))
    if check.gtid_ok is False:
        found.append(("server-options", "GTID is not enforced (" +
                      ", ".join(f"{k}={v}" for k, v in check.gtid.items()) + ")"))
    if check.missing_privileges:
        found.append(("accounts", "the monitor account lacks " + ", ".join(check.missing_privileges)))
    if check.heartbeat_schema is False:
        found.append(("heartbeat", "the heartbeat table is missing (or invisible to the monitor account)"))
    if replicates:
        from_peer = [d for d in check.replication or [] if d.from_peer]
        if check.replication is not None and not from_peer:
            elsewhere = ", ".join(d.source for d in check.replication)
            found.append(("replication", "replication from the other node is not configured" + (
                f": this node replicates from {elsewhere}, which is not the other node's address as entered; if "
                "it is that node under another name or address, add it to the other node's “Known as”"
                if elsewhere else "")))
        for d in from_peer:
            if d.io != "Yes" or d.sql != "Yes":
                found.append(("replication", f"replication from {d.source} is not running "
                                             f"(IO {d.io}, SQL {d.sql}){': ' + d.error if d.error else ''}"))
    return found


def replica_roles(topology: str) -> set[str]:
    return {"secondary", "primary"} if topology == "bidirectional" else {"secondary"}


def report(checks: dict[str, NodeCheck], topology: str) -> list[tuple[str, NodeCheck, list[tuple[str, str]]]]:
    """[(role, check, problems)] for the page: every node with what it lacks."""
    replicas = replica_roles(topology)
    return [(role, check, problems(check, role in replicas)) for role, check in checks.items()]
