"""The small repair's checks, decided from what the nodes answered. Pure: no Django, no I/O, no clock.

Skipping a transaction is safe only when the replica ends up as the source is: a duplicate key whose row is the
same on both nodes (the insert the replica refuses is already there), or a missing row that neither node has
(the delete the replica cannot apply is already true there), and only when the failing transaction holds that one
row event. Everything else is refused, with why: skipping would leave the copies different.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from monitor.risks.rules_base import Unreadable
from pairs.repair.apply_error import DELETE, DUPLICATE_KEY, MISSING_ROW, UPDATE, WRITE, ApplyError
from pairs.repair.judge import DONE, NOT_YET, UNKNOWN, Outcome, covers
from pairs.repair.row_lookup import RowLookup

READ, DENIED, FAILED = "read", "denied", "failed"
ROW_EVENTS = (WRITE, UPDATE, DELETE)
_SHOWN = 80  # characters of one value in a sentence


@dataclass(frozen=True)
class Rows:
    """The rows a node holds for the key, as text (the vault's secrets as their MD5)."""

    role: str
    state: str  # READ | DENIED (the account may not read the table) | FAILED (the node did not answer)
    rows: tuple[tuple[tuple[str, str | None], ...], ...] = ()
    error: str = ""

    def as_dict(self) -> dict:
        return {"role": self.role, "state": self.state, "rows": [list(map(list, r)) for r in self.rows],
                "error": self.error}

    @classmethod
    def from_dict(cls, data: dict) -> Rows:
        return cls(data["role"], data["state"], tuple(tuple((c, v) for c, v in r) for r in data.get("rows", ())),
                   data.get("error", ""))


@dataclass(frozen=True)
class Transaction:
    """The failing transaction as the replica's relay log shows it (SHOW RELAYLOG EVENTS)."""

    read: bool = False
    why: str = ""  # why it could not be read
    gtid: str = ""
    events: tuple[tuple[str, str], ...] = ()  # (event type, info), from its GTID event to its commit
    statement: str = ""  # the statement the source logged beside its row events (MariaDB's Annotate_rows)
    complete: bool = False  # its commit was seen

    @property
    def row_events(self) -> list[str]:
        return [kind for kind, _ in self.events if kind.split("_v")[0] in ROW_EVENTS]

    @property
    def tables(self) -> list[str]:
        return sorted({info.rsplit("(", 1)[-1].rstrip(")") for kind, info in self.events
                       if kind == "Table_map" and "(" in info})

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Transaction:
        return cls(**{**data, "events": tuple(tuple(e) for e in data.get("events", ()))})


@dataclass(frozen=True)
class ReplicaState:
    """The replica's channel from its source, after the skip."""

    role: str
    reach: str
    error: str = ""
    flavour: str = ""
    found: bool = False  # it has a channel from the pair's other node
    io: str | None = None
    sql: str | None = None
    errno: int = 0
    text: str = ""
    position: str = ""  # MariaDB @@gtid_slave_pos; MySQL @@gtid_executed


@dataclass(frozen=True)
class Comparison:
    error: ApplyError
    transaction: Transaction
    lookup: RowLookup
    source: Rows
    replica: Rows
    notes: list[str] = field(default_factory=list)


def format_row(row: tuple[tuple[str, str | None], ...]) -> str:
    def shown(value: str | None) -> str:
        if value is None:
            return "NULL"
        return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")
    return "(" + ", ".join(f"{column}={shown(value)}" for column, value in row) + ")"


def _rows_text(rows: Rows) -> str:
    return "no row" if not rows.rows else "; ".join(format_row(r) for r in rows.rows)


def _refusal(error: ApplyError, tx: Transaction) -> str:
    """Why this error is not one a skip can mend, whatever the rows say; "" when it may be."""
    event = error.event.split("_v")[0]
    if error.errno == DUPLICATE_KEY and event != WRITE:
        return (f"the replica refused an {event or 'unnamed'} event on a duplicate key: skipping it drops a change "
                "the source made, and the copies stay different")
    if error.errno == MISSING_ROW and event == UPDATE:
        return ("the replica lacks the row the source updated: skipping the update leaves it missing there; "
                "copy the row over by hand, or rebuild the replica")
    if error.errno == MISSING_ROW and event != DELETE:
        return f"the replica could not apply a {event or 'unnamed'} event: only a missing row's delete can be skipped"
    if tx.read and len(tx.row_events) != 1:
        return (f"the failing transaction holds {len(tx.row_events)} row events ({', '.join(tx.tables) or '?'}): "
                "skipping it drops all of them on the replica")
    if tx.read and tx.tables and tx.tables != [f"{error.schema}.{error.table}"]:
        return f"the failing transaction changes {', '.join(tx.tables)}: skipping it drops all of them"
    if tx.read and not tx.complete:
        return "the end of the failing transaction was not found in the relay log: it may hold more changes"
    return ""


def compare_rows(c: Comparison) -> Outcome:
    """Step 1: is the row the same on both nodes, or is the difference exactly what the failing event does?"""
    error, source, replica = c.error, c.source, c.replica
    if error.coordinator and not error.event:
        return Outcome(UNKNOWN, "the replica's error does not name the failing event (a MySQL coordinator's words): "
                                "read performance_schema.replication_applier_status_by_worker on the replica")
    if error.errno not in (DUPLICATE_KEY, MISSING_ROW) or not error.table or not error.event:
        return Outcome(UNKNOWN, f"the replica's error is not a duplicate key or missing row on a named table: "
                                f"{error.text[:300]}")
    if refused := _refusal(error, c.transaction):
        return Outcome(NOT_YET, f"do not skip: {refused}. Rebuild the {replica.role} from the {source.role} instead")
    if not c.transaction.read:
        return Outcome(UNKNOWN, f"the failing transaction cannot be read ({c.transaction.why}): print it with the "
                                "command below and skip only if it holds this one row")
    for rows in (source, replica):
        if rows.state == DENIED:
            return Outcome(UNKNOWN, f"the monitor account may not read {error.schema}.{error.table} on the "
                                    f"{rows.role} ({rows.error}): run the SELECT below on both nodes and compare; "
                                    "skip only when the rows are the same")
    if not c.lookup.known:
        return Outcome(UNKNOWN, f"the row's key is not known ({c.lookup.origin}): print the event with the command "
                                "below, run the SELECT on both nodes with its key and compare")
    for rows in (source, replica):
        if rows.state != READ:
            return Outcome(UNKNOWN, f"the {rows.role} could not be read: {rows.error}")
    key = f"{error.schema}.{error.table} where {c.lookup.key_text}"
    if error.errno == DUPLICATE_KEY:
        if len(replica.rows) == 1 and source.rows == replica.rows:
            return Outcome(DONE, f"the row is the same on both nodes ({key}): {format_row(replica.rows[0])}; "
                                 f"skipping the insert the {replica.role} refused leaves it as the {source.role} "
                                 "has it")
        return Outcome(NOT_YET, f"do not skip: the rows differ ({key}): the {source.role} has {_rows_text(source)}, "
                                f"the {replica.role} has {_rows_text(replica)}; skipping keeps the "
                                f"{replica.role}'s. Fix the row by hand or rebuild the {replica.role}")
    if not source.rows and not replica.rows:
        return Outcome(DONE, f"neither node has the row ({key}): the delete the {replica.role} could not apply is "
                             "already true there; skipping it leaves both alike")
    return Outcome(NOT_YET, f"do not skip: the delete's rows ({key}) are not gone from both nodes: the "
                            f"{source.role} has {_rows_text(source)}, the {replica.role} has {_rows_text(replica)}. "
                            f"Fix the row by hand or rebuild the {replica.role}")


def skip_applied(error: ApplyError, gtid: str, state: ReplicaState) -> Outcome:
    """Step 2: the replica's SQL thread runs again, past the skipped transaction, without an error."""
    who = state.role
    if state.reach != "ok":
        return Outcome(NOT_YET, f"the {who} does not answer the monitor ({state.reach}: {state.error})")
    if not state.found:
        return Outcome(NOT_YET, f"the {who} has no replication channel from the other node")
    if state.sql != "Yes":
        if state.errno and state.text == error.text:
            return Outcome(NOT_YET, f"the {who}'s SQL thread is still stopped on the same error: run the statements")
        if state.errno:
            return Outcome(NOT_YET, f"the {who}'s SQL thread stopped on another error ({state.errno}): "
                                    f"{state.text[:300]}; open the small repair again for it, or rebuild")
        return Outcome(NOT_YET, f"the {who}'s SQL thread is {state.sql or 'not running'}: start the replica")
    if state.errno:
        return Outcome(NOT_YET, f"the {who}'s SQL thread runs but reports error {state.errno}: {state.text[:300]}")
    if gtid:
        try:
            if not covers(state.flavour, state.position, gtid):
                return Outcome(NOT_YET, f"the {who}'s SQL thread runs, but its position ({state.position or 'empty'}) "
                                        f"does not include the skipped transaction {gtid} yet")
        except Unreadable as exc:
            return Outcome(UNKNOWN, f"a GTID position cannot be read: {exc}")
        past = f", past the skipped transaction {gtid} (position {state.position})"
    else:
        past = ""
    return Outcome(DONE, f"the {who}'s SQL thread runs without an error{past}; IO thread {state.io}")
