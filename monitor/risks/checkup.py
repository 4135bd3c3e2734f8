"""What the checkup reads of a pair, as plain data, and the `Risk` the rules make of it. No Django, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.vocabulary import Severity


@dataclass(frozen=True)
class ChannelCheckup:
    """One replication channel of a replica, as far as the warnings need it."""

    name: str = ""
    io_running: str | None = None  # Yes / Connecting / Preparing / No
    last_io_errno: int = 0
    using_gtid: str | None = None  # MariaDB's Using_Gtid: No, Slave_Pos, Current_Pos
    auto_position: bool | None = None  # MySQL's Auto_Position
    ssl_allowed: bool | None = None
    gtid_io_pos: str = ""
    ssl_verify: bool | None = None  # Master_SSL_Verify_Server_Cert: the source's certificate is checked
    ssl_ca: str = ""  # Master_SSL_CA_File
    ssl_cert: str = ""  # Master_SSL_Cert: the replica's own client certificate, if it shows one


@dataclass(frozen=True)
class CertificateSeen:
    """A server's TLS certificate as the panel's own handshake with it presented it."""

    where: str  # in words: which connection saw it
    not_after: float  # seconds since the epoch
    subject: str = ""
    issuer: str = ""


@dataclass(frozen=True)
class NodeCheckup:
    role: str  # primary / secondary
    address: str = ""
    error: str = ""  # why the node could not be read; "" when it was
    flavour: str = ""  # mariadb / mysql
    version: str = ""
    variables: dict[str, str] = field(default_factory=dict)  # lower-case names, values as text
    channels: tuple[ChannelCheckup, ...] = ()
    binlogs: tuple[str, ...] | None = None  # SHOW BINARY LOGS, oldest first; None when not read
    binlogs_error: str = ""  # why they could not be read (a missing grant, usually)
    oldest_gtid_list: str | None = None  # MariaDB: the GTID state the oldest binary log starts from
    # The certificate the panel's handshake was shown (also when the login then failed on it), and the server's
    # own Ssl_server_not_after as it prints it ("" without a certificate loaded; None when not read).
    certificate: CertificateSeen | None = None
    cert_not_after: str | None = None

    @property
    def read(self) -> bool:
        return not self.error

    def var(self, *names: str) -> str | None:
        """The first of these variables the server has, as text; None when it has none of them."""
        for name in names:
            if name in self.variables and self.variables[name] is not None:
                return str(self.variables[name])
        return None


@dataclass(frozen=True)
class PairCheckup:
    topology: str  # one-way / bidirectional
    primary: NodeCheckup
    secondary: NodeCheckup
    # Seconds since the pair's recorded statuses turned Failed (None while they are not): how long a replica
    # that is away has been away. The checkup runs once a minute, the statuses know to the second.
    away_for: float | None = None
    at: float | None = None  # when the checkup read the nodes, in seconds since the epoch: the rules' clock

    def node(self, role: str) -> NodeCheckup:
        return self.primary if role == "primary" else self.secondary


@dataclass(frozen=True)
class Risk:
    """One warning before a failure: what it is, about which node or direction, why, and what to do."""

    code: str  # monitor.vocabulary.RiskCode
    severity: Severity
    subject: str  # "primary", "secondary", a direction "primary→secondary", or "pair"
    summary: str
    remediation: str
    evidence: dict = field(default_factory=dict)
    nodes: tuple[str, ...] = ()  # the roles whose reading it rests on: unread, they keep it as it was

    @property
    def key(self) -> str:
        """What makes two checkups' warnings the same episode: the rule and its subject, not the numbers."""
        return f"{self.code}:{self.subject}"

    def to_dict(self) -> dict:
        return {"code": self.code, "severity": str(self.severity), "subject": self.subject, "summary": self.summary,
                "remediation": self.remediation, "evidence": self.evidence, "nodes": list(self.nodes)}


@dataclass(frozen=True)
class Assessment:
    risks: list[Risk]
    blind: frozenset[str]  # roles the checkup could not read: their warnings are neither raised nor cleared


@dataclass(frozen=True)
class Direction:
    """source → replica, as a rule sees it."""

    source: NodeCheckup
    replica: NodeCheckup
    src_role: str
    rep_role: str

    @property
    def label(self) -> str:
        return f"{self.src_role}→{self.rep_role}"

    def channel(self) -> ChannelCheckup | None:
        """The replica's channel: a pair set up as hapanel describes has one."""
        return self.replica.channels[0] if self.replica.channels else None


def directions(c: PairCheckup) -> list[Direction]:
    out = [Direction(c.primary, c.secondary, "primary", "secondary")]
    if c.topology == "bidirectional":
        out.append(Direction(c.secondary, c.primary, "secondary", "primary"))
    return out
