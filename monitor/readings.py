"""Plain data that flows from the probe to `evaluate`: no Django, no sockets, no clock.

A `NodeReading` is what one poll saw on one node; a `PairReadings` bundles both nodes of a pair
with the pair's topology and thresholds. `evaluate()` turns a `PairReadings` into a `PairHealth`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from monitor.vocabulary import Status


class Reach(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # process gone: 2003 with errno 111, or a reset right after a crash
    TIMEOUT = "timeout"  # hung node or black-holed network
    AUTH = "auth"  # the monitor's credentials were refused (1045, 1044, 1227 ...)
    TLS = "tls"  # certificate verification or handshake failed (2026)
    ERROR = "error"  # anything else; `error` says what


@dataclass(frozen=True)
class ReplicationChannel:
    """One replication channel as the replica reports it (one row of SHOW ALL SLAVES STATUS)."""

    name: str = ""
    source_host: str | None = None
    source_port: int | None = None
    io_running: str | None = None  # Yes / Connecting / Preparing / No
    sql_running: str | None = None  # Yes / No
    io_state: str = ""
    sql_state: str = ""
    last_io_errno: int = 0
    last_io_error: str = ""
    last_sql_errno: int = 0
    last_sql_error: str = ""
    seconds_behind: int | None = None
    gtid_io_pos: str = ""
    ssl_verify: bool | None = None  # Master_SSL_Verify_Server_Cert
    ssl_allowed: bool | None = None  # Master_SSL_Allowed
    connect_retry: int | None = None
    heartbeat_period: float | None = None
    received_heartbeats: int | None = None  # Slave_received_heartbeats (MariaDB)
    read_position: str = ""  # Master_Log_File:Read_Master_Log_Pos: what the IO thread has received
    # Seconds the replica has received nothing from its source (no heartbeat event, no position moved), as
    # the monitor saw it between its own reads; None when the server shows neither counter.
    quiet_for: float | None = None


@dataclass(frozen=True)
class Heartbeat:
    """The heartbeat row of the peer (the source) as read on this node (the replica)."""

    age: float | None = None  # seconds between the monitor's clock and the newest row seen; None: no row
    caught_up: bool = False  # the row written in this poll arrived while we waited
    error: str = ""  # e.g. "heartbeat table hapanel_monitor.heartbeat is missing"


@dataclass(frozen=True)
class NodeReading:
    role: str  # "primary" or "secondary"
    address: str  # host:port as the monitor reaches it
    reach: Reach = Reach.OK
    errno: int | None = None
    error: str = ""
    version: str = ""
    flavour: str = ""  # "mariadb" or "mysql"
    server_id: int | None = None
    read_only: bool | None = None
    slave_net_timeout: int | None = None
    gtid_position: str = ""
    channels: tuple[ReplicationChannel, ...] = ()
    heartbeat_written: bool = False  # the monitor wrote its own heartbeat row here this poll
    heartbeat_error: str = ""  # why it could not
    peer_heartbeat: Heartbeat | None = None  # the source's row as seen here (None: not read)
    parse_error: str = ""  # the server answered something the probe does not understand
    tls_cipher: str = ""  # the monitor's own connection
    latency_ms: float | None = None


@dataclass(frozen=True)
class PairReadings:
    name: str
    topology: str  # "one-way" or "bidirectional"
    primary: NodeReading
    secondary: NodeReading
    poll_interval: float = 1.0
    lag_warning: float = 5.0  # seconds of heartbeat age that raise a lag warning
    heartbeat_stale: float = 1.0  # seconds of heartbeat age beyond which the link is not flowing


@dataclass(frozen=True)
class Verdict:
    status: Status
    cause: str  # machine word: primary-down, link-cut, apply-error, ... or "ok"
    summary: str  # the cause in plain words, for the page and the alerts
    remediation: str = ""
    evidence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PairHealth:
    ha: Verdict
    replication: Verdict
    warnings: tuple[str, ...] = ()
    lag: float | None = None  # worst heartbeat age over the directions, seconds

    def to_dict(self) -> dict:
        return plain(self)


def plain(value):
    """Dataclasses to JSON-ready dicts and lists; `dataclasses.asdict` deep-copies every leaf, ten times slower."""
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {name: plain(getattr(value, name)) for name in fields}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, StrEnum):
        return str(value)
    return value
