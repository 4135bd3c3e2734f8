"""Which server we talk to, and which statements it understands for replica status and GTID position."""

from __future__ import annotations

import re

from monitor.probe.replica_status import UnreadableStatus

MARIADB = "mariadb"
MYSQL = "mysql"

# MariaDB before 11 could announce itself as "5.5.5-10.x.y-MariaDB" so that old MySQL clients,
# which reject major versions >= 10, still connect; the real version follows the prefix.
_VERSION_RE = re.compile(
    r"\s*(?:5\.5\.5-(?=\d+\.\d+))?(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?(?![\d.])", re.ASCII
)


def parse_version(version: str, version_comment: str = "") -> tuple[str, tuple[int, int, int]]:
    """("mariadb" | "mysql", (major, minor, patch)) from @@version and @@version_comment.

    Raises `UnreadableStatus` when `version` does not start with a dotted version number.
    """
    if isinstance(version, bytes | bytearray):
        version = bytes(version).decode("utf-8", "replace")
    if isinstance(version_comment, bytes | bytearray):
        version_comment = bytes(version_comment).decode("utf-8", "replace")
    if not isinstance(version, str):
        raise UnreadableStatus(f"server version is a {type(version).__name__}, not text")
    match = _VERSION_RE.match(version)
    if match is None:
        raise UnreadableStatus(f"server version {version!r:.80} is not a dotted version number")
    major, minor, patch = (int(part) if part else 0 for part in match.groups())
    # MariaDB always says so in @@version ("10.11.19-MariaDB-0+deb12u1"); packagers may replace
    # @@version_comment (Debian's is "Debian 12"), so the comment is only a second opinion.
    comment = version_comment if isinstance(version_comment, str) else ""
    flavour = MARIADB if "mariadb" in version.lower() or "mariadb" in comment.lower() else MYSQL
    return flavour, (major, minor, patch)


def _check_flavour(flavour: str) -> None:
    if flavour not in (MARIADB, MYSQL):
        raise UnreadableStatus(f"unknown server flavour {flavour!r:.40} (expected mariadb or mysql)")


def replica_status_statement(flavour: str, version: tuple[int, ...]) -> str:
    """The statement that lists every replication channel of this server."""
    _check_flavour(flavour)
    if flavour == MARIADB:
        # Multi-source (and with it SHOW ALL SLAVES STATUS) arrived in MariaDB 10.0. The SLAVES
        # spelling is kept because REPLICAS only exists from 10.5.1.
        return "SHOW ALL SLAVES STATUS" if tuple(version) >= (10, 0) else "SHOW SLAVE STATUS"
    # MySQL renamed the statement and its columns in 8.0.22 and dropped the old name in 8.4.
    # Its SHOW REPLICA STATUS already returns one row per channel.
    return "SHOW REPLICA STATUS" if tuple(version) >= (8, 0, 22) else "SHOW SLAVE STATUS"


def gtid_position_query(flavour: str) -> str:
    """A query whose single value is the set of transactions this server has applied."""
    _check_flavour(flavour)
    return "SELECT @@gtid_current_pos" if flavour == MARIADB else "SELECT @@gtid_executed"
