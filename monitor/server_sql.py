"""What the monitor needs on each monitored server, as SQL: the heartbeat schema and the monitor's grants.

The one source for the setup assistant, the sandbox and the operations guide. Pure: no Django, no I/O.
"""

from __future__ import annotations

import re

# The setup assistant's steps, in order: what the assistant, verify and `vault init` name to an admin.
SETUP_STEPS = [("server-options", "1. Server options"), ("accounts", "2. Accounts"),
               ("heartbeat", "3. Heartbeat schema"), ("replication", "4. Replication"), ("vault", "5. Vault schema")]
HEARTBEAT_TABLE = "heartbeat"
# The monitor upserts its own row on each source and reads the peer's row on each replica: no DELETE.
HEARTBEAT_PRIVILEGES = ("SELECT", "INSERT", "UPDATE")
_IDENT = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


def is_identifier(name: str) -> bool:
    """A plain schema or user name: letters, digits, `_` and `$`, at most 64 characters."""
    return bool(_IDENT.match(name))


def quote(name: str) -> str:
    """A schema or table name as an SQL identifier (backticks doubled inside)."""
    return "`" + name.replace("`", "``") + "`"


def heartbeat_table(schema: str) -> str:
    return f"{quote(schema)}.{HEARTBEAT_TABLE}"


def heartbeat_ddl(schema: str) -> list[str]:
    """The heartbeat schema and table, idempotent."""
    return [
        f"CREATE DATABASE IF NOT EXISTS {quote(schema)}",
        f"CREATE TABLE IF NOT EXISTS {heartbeat_table(schema)} ("
        " origin VARCHAR(255) NOT NULL PRIMARY KEY,"
        " server_id INT UNSIGNED NOT NULL,"
        " ts DOUBLE NOT NULL"
        ") ENGINE=InnoDB",
    ]


def replica_status_privilege(mysql: bool) -> str:
    """What lets the monitor read SHOW REPLICA/SLAVE STATUS: MariaDB 10.5.9+ calls it SLAVE MONITOR."""
    return "REPLICATION CLIENT" if mysql else "SLAVE MONITOR"


def binlog_privilege(mysql: bool) -> str | None:
    """What lets the monitor list binary logs and read the oldest one's GTID state (the binlog horizon): MariaDB
    10.5.2+ calls it BINLOG MONITOR; MySQL's REPLICATION CLIENT, granted for the replica status, covers it."""
    return None if mysql else "BINLOG MONITOR"


def monitor_grants(account: str, schema: str, mysql: bool) -> list[str]:
    """The monitor account's grants, least privilege; `account` is already quoted ('user'@'host')."""
    binlogs = binlog_privilege(mysql)
    return [
        f"GRANT {replica_status_privilege(mysql)} ON *.* TO {account}",
        *([f"GRANT {binlogs} ON *.* TO {account}"] if binlogs else []),
        f"GRANT {', '.join(HEARTBEAT_PRIVILEGES)} ON {quote(schema)}.* TO {account}",
    ]
