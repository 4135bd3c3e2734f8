"""Vault consistency: is the secondary's copy of the vault the primary's? The judging half, pure: no Django, no
sockets, no clock. `monitor/probe/vault_compare.py` reads both nodes; this module tells what differs and how to
say it.

Emergency access reveals passwords from the secondary's copy: a row that differs there is a wrong password
shown to a user. Both copies are read under consistent snapshots, the secondary's at or after the primary's
position, so a row changed on the primary in between looks different too. Such a row is asked again (`settle`)
until the primary holds it still across one of the secondary's snapshots: only then is a difference drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.risks import gtid
from monitor.risks.checkup import Risk
from monitor.vocabulary import RiskCode, Severity

# The tables emergency access reads. The audit table is history the drain appends on the primary; it is not
# what a user is shown, and it only grows.
TABLES = ("users", "resources", "accounts", "grants")
KEYS_KEPT = 200  # differing keys stored per table; the count is always exact
KEYS_SHOWN = 20  # in a warning's summary, evidence and remediation

Key = tuple  # a row's primary key values, in key order
Hashes = dict[Key, str | None]  # a row's key -> its hash; None: no such row on that node
Buckets = dict[int, tuple]  # bucket -> (rows, checksum parts): what a group of rows sums up to


@dataclass(frozen=True)
class TableShape:
    """A table as information_schema shows it: its columns in order and its primary key."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]


@dataclass
class TableResult:
    table: str
    key_columns: tuple[str, ...] = ()
    rows: int = 0  # on the primary, at the compared position
    differing: list[Key] = field(default_factory=list)  # keys whose rows differ, or exist on one node only
    unsettled: list[Key] = field(default_factory=list)  # changed on the primary at every look: not judged
    problem: str = ""  # the table itself cannot be compared row by row (missing, other columns, no key)

    @property
    def differs(self) -> bool:
        return bool(self.differing or self.problem)

    def keys_text(self, limit: int = KEYS_SHOWN) -> str:
        shown = ", ".join(key_text(self.key_columns, k) for k in self.differing[:limit])
        more = len(self.differing) - limit
        return shown + (f" and {more} more" if more > 0 else "")

    def to_dict(self) -> dict:
        return {"table": self.table, "key_columns": list(self.key_columns), "rows": self.rows,
                "differing": len(self.differing), "keys": [list(k) for k in self.differing[:KEYS_KEPT]],
                "unsettled": len(self.unsettled), "problem": self.problem}


@dataclass
class Comparison:
    """One comparison of the two copies: where, what, and either the tables' results or why it could not run."""

    position: str = ""  # the primary's GTID position the copies were compared at
    secondary_position: str = ""  # the secondary's, when it writes a binary log
    tables: list[TableResult] = field(default_factory=list)
    rounds: int = 0  # re-reads of rows that changed on the primary during the comparison
    error: str = ""

    @property
    def differs(self) -> bool:
        return any(t.differs for t in self.tables)

    @property
    def outcome(self) -> str:
        return "error" if self.error else "differs" if self.differs else "equal"

    def to_dict(self) -> dict:
        return {"position": self.position, "secondary_position": self.secondary_position, "rounds": self.rounds,
                "error": self.error, "tables": [t.to_dict() for t in self.tables]}


def shape_problem(table: str, primary: TableShape | None, secondary: TableShape | None) -> str:
    """Why a table cannot be compared row by row; "" when it can."""
    if primary is None and secondary is None:
        return f"the table {table} is missing on both nodes"
    if primary is None or secondary is None:
        return f"the table {table} is missing on the {'primary' if primary is None else 'secondary'}"
    if primary.columns != secondary.columns:
        return (f"the table {table} has other columns on the secondary ({', '.join(secondary.columns)}) than on "
                f"the primary ({', '.join(primary.columns)})")
    if not primary.key:
        return f"the table {table} has no primary key on the primary: its rows cannot be told apart"
    if primary.key != secondary.key:
        return f"the table {table} has another primary key on the secondary"
    return ""


def differing_buckets(primary: Buckets, secondary: Buckets) -> list[int]:
    return sorted(b for b in primary.keys() | secondary.keys() if primary.get(b) != secondary.get(b))


def differing_rows(primary: Hashes, secondary: Hashes) -> set[Key]:
    return {k for k in primary.keys() | secondary.keys() if primary.get(k) != secondary.get(k)}


def settle(before_p: Hashes, before_s: Hashes, now_p: Hashes, keys: set[Key]) -> tuple[set[Key], set[Key]]:
    """Rows that differed between the primary's snapshot `before_p` and the secondary's later one `before_s`,
    looked at again on the primary (`now_p`, a snapshot taken after the secondary's): (drift, still moving).

    A row the primary held still from before to now had that value all along, so the secondary, which read
    between the two, should have had it too: it is drift. A row the primary changed meanwhile may just have been
    caught in flight: it is compared again, once the secondary has reached `now_p`'s position."""
    drift, moving = set(), set()
    for k in keys:
        if now_p.get(k) != before_p.get(k):
            moving.add(k)
        elif before_s.get(k) != before_p.get(k):
            drift.add(k)
    return drift, moving


def maria_behind(current: str, target: str) -> str:
    """The part of MariaDB GTID position `target` that position `current` has not reached, per domain, as a
    position to wait for ("" when it has reached all of it). A node counts its own transactions in its binary
    log, not in gtid_slave_pos, which MASTER_GTID_WAIT watches: domains it has reached are left out."""
    have = gtid.per_domain(gtid.maria_state(current))
    want = gtid.maria_state(target)
    last: dict[int, tuple[int, int]] = {}
    for (domain, server), seq in want.items():
        if seq > last.get(domain, (0, 0))[1]:
            last[domain] = (server, seq)
    return ",".join(gtid.maria_text(d, server, seq) for d, (server, seq) in sorted(last.items())
                    if seq > have.get(d, 0))


def key_text(columns: tuple[str, ...], key: Key) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(columns, key, strict=False)) if len(columns) > 1 else \
        f"{columns[0] if columns else 'key'}={key[0] if key else ''}"


def sql_literal(value: object) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def where(columns: tuple[str, ...], keys: list[Key]) -> str:
    """The SQL condition that selects these rows by key."""
    if len(columns) == 1:
        return f"{columns[0]} IN ({', '.join(sql_literal(k[0]) for k in keys)})"
    rows = ", ".join("(" + ", ".join(sql_literal(v) for v in k) + ")" for k in keys)
    return f"({', '.join(columns)}) IN ({rows})"


def _rows(n: int) -> str:
    return f"{n} row{'s' if n != 1 else ''}"


def summary(c: Comparison) -> str:
    parts = [f"{_rows(len(t.differing))} of {t.table} ({t.keys_text()})" if not t.problem else t.problem
             for t in c.tables if t.differs]
    return (f"the copy of the vault on the secondary differs from the primary in {'; '.join(parts)}, at the "
            f"primary's position {c.position or 'unknown'}; emergency access would show what the secondary has")


def remediation(c: Comparison, schema: str) -> str:
    dumps = [f"mysqldump --single-transaction --no-create-info --replace --skip-add-locks "
             f"--where=\"{where(t.key_columns, t.differing[:KEYS_SHOWN])}\" {schema} {t.table}"
             for t in c.tables if t.differing]
    how = (" Copy the primary's rows over the secondary's, with binary logging off for that session: "
           + "; ".join(f"`{d} | mysql --init-command='SET sql_log_bin=0' -h <secondary> {schema}`" for d in dumps)
           + "; rows the primary does not have are deleted on the secondary the same way.") if dumps else ""
    return ("Find out how the copy changed on the secondary (a write made there with sql_log_bin=0 or read_only "
            "off, a skipped replication error, a restored backup, a replication filter)." + how +
            " Or rebuild the secondary from the primary. Then compare the copies again from the pair page.")


def drift_risks(c: Comparison, schema: str) -> list[Risk]:
    """The warning a comparison raises: none when the copies are equal. A comparison that could not run judges
    nothing; its caller leaves the warning as it was."""
    if c.error or not c.differs:
        return []
    evidence: dict = {"position": c.position}
    for t in c.tables:
        if t.differs:
            evidence[t.table] = t.problem or f"{_rows(len(t.differing))}: {t.keys_text()}"
    return [Risk(RiskCode.VAULT_DRIFT, Severity.WARNING, "secondary", summary(c), remediation(c, schema), evidence,
                 ("primary", "secondary"))]
