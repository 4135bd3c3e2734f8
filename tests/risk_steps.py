"""Making a real sandbox node show a warning before a failure, and putting it back: the steps the warning tests
share. Every change a step makes to a server is undone when its `with` block ends, whatever happened inside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from devtools.sandbox import SandboxPair
from devtools.sandbox.server_config import MONITOR_USER
from monitor import checkups
from monitor.models import PairRisk
from tests.services import wait_for


def value(sandbox: SandboxPair, role: str, name: str) -> str:
    return str(sandbox.sql(role, f"SELECT @@GLOBAL.{name} AS v")[0]["v"])


@contextmanager
def setting(sandbox: SandboxPair, role: str, name: str, new: object) -> Iterator[None]:
    """SET GLOBAL name = new on one node, restored afterwards."""
    old = value(sandbox, role, name)
    sandbox.sql(role, f"SET GLOBAL {name} = {new}")
    try:
        yield
    finally:
        sandbox.sql(role, f"SET GLOBAL {name} = {old}")


def open_risks(pair_id: int) -> dict[str, PairRisk]:
    """The pair's open warnings by key, after one real checkup of both nodes."""
    checkups.checkup(pair_id)
    return {r.key: r for r in PairRisk.objects.filter(pair_id=pair_id, cleared_at__isnull=True)}


def replica_pos(sandbox: SandboxPair) -> str:
    """Where the secondary may resume from the primary: the primary's domains as the primary has them, the
    secondary's own domain as its binary log has it (gtid_strict_mode refuses anything older)."""
    own = sandbox.sql("secondary", "SELECT @@gtid_domain_id AS d, @@gtid_binlog_pos AS pos")[0]
    theirs = [g for g in value(sandbox, "primary", "gtid_binlog_pos").split(",") if g and
              not g.startswith(f"{own['d']}-")]
    mine = [g for g in str(own["pos"]).split(",") if g.startswith(f"{own['d']}-")]
    return ",".join(theirs + mine)


@contextmanager
def secondary_stopped(sandbox: SandboxPair) -> Iterator[None]:
    """The secondary's replication from the primary stopped; afterwards resumed where the primary now stands
    (events it missed and that were purged are then written by the step that purged them, by hand)."""
    sandbox.sql("secondary", "STOP SLAVE")
    try:
        yield
    finally:
        sandbox.sql("secondary", "STOP SLAVE")
        if sandbox.replica_status("secondary").get("Last_IO_Errno") == 1236:
            sandbox.sql("secondary", f"SET GLOBAL gtid_slave_pos = '{replica_pos(sandbox)}'")
        sandbox.sql("secondary", "START SLAVE")
        wait_for(lambda: sandbox.replica_status("secondary").get("Slave_IO_Running") == "Yes", 10,
                 "the secondary to replicate from the primary again")


@contextmanager
def primary_stopped(sandbox: SandboxPair) -> Iterator[None]:
    """The primary's replication from the secondary stopped (the sandbox replicates both ways), restarted after."""
    sandbox.sql("primary", "STOP SLAVE")
    try:
        yield
    finally:
        sandbox.sql("primary", "START SLAVE")


def purge_all_but_newest(sandbox: SandboxPair, role: str) -> str:
    """FLUSH BINARY LOGS, then PURGE BINARY LOGS TO the newest: returns the one left."""
    sandbox.sql(role, "FLUSH BINARY LOGS")
    newest = sandbox.sql(role, "SHOW BINARY LOGS")[-1]["Log_name"]

    def purged() -> bool:
        # MariaDB keeps a file until its binlog checkpoint has moved on (crash recovery), a moment after FLUSH.
        sandbox.sql(role, f"PURGE BINARY LOGS TO '{newest}'")
        return [r["Log_name"] for r in sandbox.sql(role, "SHOW BINARY LOGS")] == [newest]
    wait_for(purged, 10, f"the {role} to purge every binary log but {newest}")
    return newest


@contextmanager
def monitor_without(sandbox: SandboxPair, role: str, privilege: str) -> Iterator[None]:
    """The monitor account without one privilege on one node (kept out of the binary log), granted back after."""
    account = f"'{MONITOR_USER}'@'{sandbox.client_hosts}'"
    sandbox.sql(role, "SET sql_log_bin = 0", f"REVOKE {privilege} ON *.* FROM {account}")
    try:
        yield
    finally:
        sandbox.sql(role, "SET sql_log_bin = 0", f"GRANT {privilege} ON *.* TO {account}")
