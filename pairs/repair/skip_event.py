"""The small repair: skip the one transaction a replica stopped on, once the rows show that is safe. Pure.

For a duplicate key (1062) or a missing row (1032) whose row is the same on both nodes (or absent from both, for a
delete), skipping the failing transaction leaves the replica as its source is. Three steps: compare the row (the
panel reads it on both nodes), skip the transaction (the operator runs the statements), verify the pair.

How a transaction is skipped, per flavour:
- MariaDB: `SET GLOBAL sql_slave_skip_counter = 1` between STOP and START SLAVE skips the next event group, with
  GTIDs too (the replica's gtid_slave_pos then holds the skipped GTID; the tests run it on MariaDB 10.11). Setting
  gtid_slave_pos to the failing GTID would name it, but the value must also hold every other domain at least as
  far as the replica's own binary log (error 1947 otherwise), and a replica that is also a source (a bidirectional
  pair) moves its own domain with every heartbeat: a position generated beforehand is refused by then.
- MySQL with GTID auto-positioning refuses sql_slave_skip_counter: the failing GTID is committed empty
  (`SET GTID_NEXT`, `BEGIN`, `COMMIT`), so the replica takes it as applied.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from monitor.causes import server_words
from pairs.repair.apply_error import ApplyError
from pairs.repair.procedure import SHELL, SOURCE, SQL, TARGET, Block, Procedure, Step
from pairs.repair.row_lookup import RowLookup, sql_string
from pairs.repair.skip_judge import Transaction

KIND = "skip-event"
TITLE = "Skip one failing transaction"
MYSQL_GTID = "<uuid:number of the failing transaction>"


@dataclass(frozen=True)
class Relay:
    """Where the failing transaction is in the replica's relay log."""

    file: str = ""
    start: int | None = None
    stop: int | None = None  # the first position after its commit
    folder: str = ""  # where the relay logs are (relay_log_basename's folder, else the datadir)

    @property
    def path(self) -> str:
        return self.file if self.file.startswith("/") else posixpath.join(self.folder or "<datadir>", self.file)


@dataclass(frozen=True)
class SkipInput:
    flavour: str  # mariadb | mysql
    version: str
    replica: str  # the role of the node that stopped: primary | secondary
    replica_address: str
    source_address: str
    error: ApplyError
    lookup: RowLookup
    transaction: Transaction = Transaction()
    connection: str = ""  # MariaDB's connection name, MySQL's channel; "" is the default one
    replica_pos: str = ""  # MariaDB: the replica's gtid_slave_pos while it is stopped
    relay: Relay = Relay()

    @property
    def source(self) -> str:
        return "primary" if self.replica == "secondary" else "secondary"

    @property
    def gtid(self) -> str:
        return self.transaction.gtid or self.error.gtid

    @property
    def mysql(self) -> bool:
        return self.flavour == "mysql"


def _channel(s: SkipInput) -> str:
    if not s.connection:
        return ""
    return f" FOR CHANNEL {sql_string(s.connection)}" if s.mysql else f" {sql_string(s.connection)}"


def skip_statements(s: SkipInput) -> list[str]:
    """What the operator runs on the replica to skip the failing transaction, and only it."""
    words = server_words(s.flavour, s.version)
    stop, start = words["stop_replica"] + _channel(s), words["start_replica"] + _channel(s)
    if s.mysql:
        return [stop, f"SET GTID_NEXT = {sql_string(s.gtid or MYSQL_GTID)}", "BEGIN", "COMMIT",
                "SET GTID_NEXT = 'AUTOMATIC'", start]
    named = [f"SET @@default_master_connection = {sql_string(s.connection)}"] if s.connection else []
    return [stop, *named, "SET GLOBAL sql_slave_skip_counter = 1", start]


def print_command(s: SkipInput) -> str:
    """The command that prints the failing transaction's rows, on the replica's host (or the source's)."""
    tool = server_words(s.flavour, s.version)["binlog_tool"]
    decode = f"{tool} --base64-output=decode-rows -vv"
    if s.relay.file and s.relay.start is not None:
        stop = f" --stop-position={s.relay.stop}" if s.relay.stop else ""
        return f"{decode} --start-position={s.relay.start}{stop} {s.relay.path}"
    if s.mysql and s.gtid:
        return f"{decode} --include-gtids={s.gtid} <the binary log {s.error.source_log or 'holding it'}>"
    end = s.error.end_log_pos
    return f"{decode}{f' --stop-position={end}' if end else ''} {s.error.source_log or '<binary log>'} | tail -n 80"


def _where(s: SkipInput, host: str, kind: str) -> str:
    role, address = (s.replica, s.replica_address) if host == TARGET else (s.source, s.source_address)
    if kind == SHELL:
        return f"On the {role}'s host ({address.rsplit(':', 1)[0]}), as root or the mysql user"
    return f"On the {role} ({address}), as an administrator"


def _sql(s: SkipInput, host: str, lines: list[str]) -> Block:
    text = "".join(f"{part.rstrip(';')};\n" for line in lines for part in line.split("\n"))
    return Block(host=host, kind=SQL, where=_where(s, host, SQL), text=text)


def procedure(s: SkipInput) -> Procedure:
    error, lookup = s.error, s.lookup
    select = lookup.statement(error.key_name)
    printed = "" if s.relay.file else " (on the source's host: the replica's relay log could not be read)"
    compare = Step(
        key="compare-row", title="Compare the row on both nodes",
        does=(f"The {s.replica} stopped on {error.what}. The panel reads the row on both nodes (the same SELECT "
              "below) and compares: a skip is safe only when the replica ends up as the source is. The printed "
              f"event{printed} shows every row the failing transaction changes."),
        blocks=(_sql(s, SOURCE, [select]), _sql(s, TARGET, [select]),
                Block(host=TARGET if s.relay.file else SOURCE, kind=SHELL,
                      where=_where(s, TARGET if s.relay.file else SOURCE, SHELL), text=print_command(s) + "\n")),
        check="skip-compare",
        proves=("the row is the same on both nodes (a duplicate key), or neither node has it (a missing row's "
                "delete), and the failing transaction holds this one row event. It cannot see how many rows one "
                "row event holds: the statement the source logged, or the printed event, says"),
    )
    skip = Step(
        key="skip-event", title="Skip the failing transaction",
        does=(f"On the {s.replica}: stop the replica, skip the failing transaction {s.gtid or '(its GTID)'}, start "
              "the replica. Run it once, and only while this step's check says the replica is still stopped on this "
              "error: run again, it would skip the next transaction too."),
        blocks=(_sql(s, TARGET, skip_statements(s)),),
        check="skip-applied",
        proves=(f"the {s.replica}'s SQL thread runs again without an error, past the skipped transaction. It does "
                "not prove the copies agree elsewhere: Compare vault copies does"),
    )
    verify = Step(
        key="verify", title="Verify the pair",
        does="The panel polls the pair as the monitor does: both statuses must be Alive.",
        blocks=(), check="verify",
        proves="High Availability and Replication are both Alive, read as the monitor reads them",
    )
    return Procedure(kind=KIND, title=TITLE, steps=(compare, skip, verify), notes=notes(s))


def notes(s: SkipInput) -> tuple[str, ...]:
    out = [f"The {s.replica}'s error: {s.error.text}"]
    if s.transaction.statement:
        out.append(f"The statement the source logged: {s.transaction.statement}")
    if not s.transaction.read:
        out.append(f"The relay log could not be read ({s.transaction.why}).")
    if s.mysql and not s.gtid:
        out.append("The failing transaction's GTID is not known: on the replica, SELECT APPLYING_TRANSACTION, "
                   "LAST_ERROR_MESSAGE FROM performance_schema.replication_applier_status_by_worker WHERE "
                   "LAST_ERROR_NUMBER <> 0 names it; put it in place of the placeholder.")
    if s.mysql:
        out.append("With super_read_only=ON the empty transaction's COMMIT may be refused: SET GLOBAL "
                   "super_read_only = OFF before it and ON again after.")
    if s.lookup.vault:
        out.append("This is the vault: its secrets are compared as MD5 hashes and never shown.")
    return tuple(out)
