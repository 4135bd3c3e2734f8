"""The words of the panel: statuses, the kinds of transition, and every cause code.

Pure (no Django): the rules, the models, the pages, the metrics and the alerts all take their words from
here, so that grepping a cause finds every place that produces or reads it. A cause that depends on the
node's role is still a named constant; `Cause.for_role` picks it.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    ALIVE = "Alive"
    FAILED = "Failed"
    UNKNOWN = "Unknown"

    @property
    def label(self) -> str:
        return self.value

    @property
    def css(self) -> str:
        """The CSS class of a status badge (static/css/base.css)."""
        return _CSS[self]

    @property
    def severity(self) -> int:
        """Higher is worse: the worst of several statuses is the one with the highest severity."""
        return _SEVERITY[self]

    @property
    def metric(self) -> int:
        """The number /metrics exports: 1 Alive, 0 Failed, -1 Unknown."""
        return _METRIC[self]


_CSS = {Status.ALIVE: "alive", Status.FAILED: "failed", Status.UNKNOWN: "unknown"}
_SEVERITY = {Status.ALIVE: 0, Status.UNKNOWN: 1, Status.FAILED: 2}
_METRIC = {Status.ALIVE: 1, Status.FAILED: 0, Status.UNKNOWN: -1}

STATUS_CHOICES = [(s.value, s.label) for s in Status]
# The board lists the worst pairs first.
BOARD_ORDER = sorted(Status, key=lambda s: -s.severity)


def worst(*statuses: str) -> Status:
    """The worst of the statuses given (Failed over Unknown over Alive); Alive when none is given."""
    return max((Status(s) for s in statuses), key=lambda s: s.severity, default=Status.ALIVE)


class Kind(StrEnum):
    """Which status of a pair a transition flips."""

    HA = "ha"
    REPLICATION = "replication"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]


_KIND_LABELS = {Kind.HA: "High Availability", Kind.REPLICATION: "Replication"}
KIND_CHOICES = [(k.value, k.label) for k in Kind]


class Cause:
    """Every cause code a status can carry. `monitor/causes.py` holds their summaries and remediation."""

    OK = "ok"
    # A node is gone: the process refused connections, or the replica confirmed its source is down.
    PRIMARY_DOWN = "primary-down"
    SECONDARY_DOWN = "secondary-down"
    # A node accepts connections but does not answer.
    PRIMARY_HUNG = "primary-hung"
    SECONDARY_HUNG = "secondary-hung"
    # Timeout or other error on a node the rules needed to read.
    PRIMARY_UNREACHABLE = "primary-unreachable"
    SECONDARY_UNREACHABLE = "secondary-unreachable"
    UNREACHABLE = "unreachable"  # the monitor reaches neither node
    LINK_CUT = "link-cut"
    TLS_FAILURE = "tls-failure"
    # TLS error 2026 while the monitor's own handshake with the source says its certificate has expired.
    CERTIFICATE_EXPIRED = "certificate-expired"
    AUTH_FAILURE = "auth-failure"
    BINLOG_MISSING = "binlog-missing"
    IO_ERROR = "io-error"  # the IO thread stopped on an error none of the words above names
    STOPPED_BY_OPERATOR = "stopped-by-operator"
    APPLY_ERROR = "apply-error"
    NOT_CONFIGURED = "not-configured"
    MONITOR_AUTH_FAILURE = "monitor-auth-failure"
    MONITOR_TLS_FAILURE = "monitor-tls-failure"
    UNREADABLE = "unreadable"  # a server answer the rules cannot interpret
    # The poll itself failed before any server answered: stored settings the probe cannot use (a password
    # that no longer decrypts, a broken certificate), or a fault in the monitor.
    POLL_ERROR = "poll-error"
    # Not from a poll: no poll recorded within the staleness bound, and a pair never polled yet.
    MONITOR_STALE = "monitor-stale"
    NOT_POLLED = "not-polled"

    _BY_ROLE = {
        ("primary", "down"): PRIMARY_DOWN, ("secondary", "down"): SECONDARY_DOWN,
        ("primary", "hung"): PRIMARY_HUNG, ("secondary", "hung"): SECONDARY_HUNG,
        ("primary", "unreachable"): PRIMARY_UNREACHABLE, ("secondary", "unreachable"): SECONDARY_UNREACHABLE,
    }

    @classmethod
    def for_role(cls, role: str, what: str) -> str:
        """`for_role("primary", "hung")` is `PRIMARY_HUNG`: the role-specific causes, by role."""
        return cls._BY_ROLE[(role, what)]

    @classmethod
    def all(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if k.isupper() and not k.startswith("_") and isinstance(v, str)]


class Severity(StrEnum):
    """How bad a warning before a failure is: `critical` will break the pair (or already diverged it),
    `warning` makes a failure likelier or worse, `unknown` means the monitor cannot see what it needs to judge."""

    CRITICAL = "critical"
    WARNING = "warning"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """Higher is worse: the board's marker takes the colour of the worst warning."""
        return _RISK_RANK[self]


_RISK_RANK = {Severity.UNKNOWN: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class RiskCode:
    """Every kind of warning before a failure (`monitor/risks/`): a code names one rule."""

    BINLOG_HORIZON = "binlog-horizon"  # how long a replica may stay away before its source purges what it needs
    BINLOG_PURGED = "binlog-purged"  # the source has purged binary logs its replica still needs
    ERRANT_TRANSACTIONS = "errant-transactions"  # transactions on the secondary the primary never had
    SERVER_ID = "config-server-id"
    AUTO_INCREMENT = "config-auto-increment"
    GTID_MODE = "config-gtid"
    GTID_REPLICATION = "config-gtid-replication"
    LOG_REPLICA_UPDATES = "config-log-replica-updates"
    BINLOG_FORMAT = "config-binlog-format"
    DURABILITY = "config-durability"
    READ_ONLY = "config-read-only"
    TLS = "config-tls"
    CERTIFICATE = "certificate-expiry"  # a server's TLS certificate expires within 30 days, or has expired
    UNREADABLE = "checkup-unreadable"  # a rule could not interpret what a server answered
    # The secondary's copy of the vault differs from the primary's (monitor/risks/vault.py): raised and cleared by
    # the vault comparison (emergency/vault_compare.py), never by a checkup.
    VAULT_DRIFT = "vault-drift"
