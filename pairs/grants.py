"""Which privileges the monitor account lacks, read from SHOW GRANTS. No Django, no I/O.

Role grants (`GRANT role TO user`) are not expanded: a privilege that only comes through a role
is reported missing, which errs on the side of telling the admin to look.
"""

from __future__ import annotations

import re

from monitor.server_sql import HEARTBEAT_PRIVILEGES

_GRANT = re.compile(r"^\s*GRANT\s+(?P<privs>.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE(?:\s+BODY)?)\s+)?"
                    r"(?P<object>(?:`(?:[^`]|``)*`|[^\s.`]+|\*)\.(?:`(?:[^`]|``)*`|[^\s`]+|\*))\s+TO\s", re.I | re.S)
_PART = re.compile(r"`((?:[^`]|``)*)`|([^\s.`]+|\*)")
HEARTBEAT_NEEDS = HEARTBEAT_PRIVILEGES


def parse(lines: list[str]) -> list[tuple[set[str], str, str]]:
    """[(privileges, schema pattern, table)] of every `GRANT ... ON ...` line."""
    out = []
    for line in lines:
        match = _GRANT.match(line if isinstance(line, str) else str(line))
        if not match:
            continue
        privs = re.sub(r"\([^)]*\)", "", match["privs"])  # column lists: SELECT (a, b)
        names = {" ".join(p.split()).upper() for p in privs.split(",") if p.strip()}
        parts = [(m[1].replace("``", "`") if m[1] is not None else m[2]) for m in _PART.finditer(match["object"])]
        schema, table = (parts + ["*", "*"])[:2]
        out.append((names, schema, table))
    return out


def _like(pattern: str, name: str) -> bool:
    """A grant's schema is a LIKE pattern where `\\_` and `\\%` are literal."""
    regex, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.fullmatch(regex, name, re.I) is not None


def _global_names(flavour: str, version: tuple[int, ...]) -> tuple[str, set[str]]:
    """(the privilege to ask for, the privileges that allow reading replica status)."""
    every = {"ALL", "ALL PRIVILEGES"}
    if flavour == "mariadb":
        if tuple(version) >= (10, 5, 9):
            return "SLAVE MONITOR", every | {"SLAVE MONITOR", "REPLICA MONITOR"}
        return "SLAVE MONITOR", every | {"SUPER", "REPLICATION CLIENT", "REPLICATION SLAVE ADMIN", "SLAVE MONITOR"}
    return "REPLICATION CLIENT", every | {"REPLICATION CLIENT", "SUPER"}


def missing_for_warnings(lines: list[str], flavour: str, version: tuple[int, ...]) -> list[str]:
    """Privileges that only the warnings before failures need (the binary logs, for the binlog horizon): the
    statuses work without them, so they are reported apart from `missing`."""
    if flavour != "mariadb":
        return []  # MySQL's REPLICATION CLIENT, which the statuses need, lists the binary logs too
    # MariaDB 10.5.2 renamed REPLICATION CLIENT to BINLOG MONITOR (the old name stays an alias).
    wanted = "BINLOG MONITOR" if tuple(version) >= (10, 5, 2) else "REPLICATION CLIENT"
    allowing = {"ALL", "ALL PRIVILEGES", "SUPER", "BINLOG MONITOR", "REPLICATION CLIENT"}
    granted = any(names & allowing for names, s, t in parse(lines) if s == "*" and t == "*")
    return [] if granted else [wanted]


def missing(lines: list[str], flavour: str, version: tuple[int, ...], schema: str = "hapanel_monitor") -> list[str]:
    """Names of the privileges the monitor needs and lacks, e.g. ['SLAVE MONITOR', 'INSERT on x.heartbeat']."""
    grants = parse(lines)
    wanted, allowing = _global_names(flavour, version)
    absent = []
    if not any(names & allowing for names, s, t in grants if s == "*" and t == "*"):
        absent.append(wanted)
    for privilege in HEARTBEAT_NEEDS:
        covered = any(
            (privilege in names or names & {"ALL", "ALL PRIVILEGES"})
            and (s == "*" or _like(s, schema)) and t in ("*", "heartbeat")
            for names, s, t in grants
        )
        if not covered:
            absent.append(f"{privilege} on {schema}.heartbeat")
    return absent
