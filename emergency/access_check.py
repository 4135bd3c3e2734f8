"""Proof that a pair's emergency accounts work as emergency access uses them, on both nodes.

Connects as the reader and as the audit writer to each node and tries what each must and must not do.
Nothing is written: the write probes are INSERT ... SELECT of zero rows, which the server checks for
privileges like any INSERT but which insert nothing even where they are (wrongly) allowed; with the
row-based binary log the setup assistant sets, nothing reaches the binary log either, so no GTID is spent.
`vault init` and the pair page's "Check emergency accounts" run the same proofs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emergency import connect
from emergency.models import Access
from monitor.models import Node
from monitor.server_sql import SETUP_STEPS
from monitor.vault_sql import TABLES, quote

if TYPE_CHECKING:
    import pymysql  # loaded when a connection is made

TIMEOUT = 3.0
REPLICATION_WAIT = 5.0
READER, WRITER = "reader", "audit writer"
REFUSED = {1044, 1142, 1143}  # access denied to the schema, the table, a column
MISSING = {1049, 1146}  # unknown schema, unknown table
READ_ONLY = {1290, 1836}  # read_only refuses every write first, before privileges are looked at


@dataclass(frozen=True)
class Problem:
    role: str  # the node: primary | secondary
    step: str  # the setup assistant's step (a key of STEPS) that makes it right; "" when none does
    text: str

    @property
    def step_title(self) -> str:
        """The step as the setup assistant names it ("5. Vault schema"); empty when no step makes it right."""
        return dict(SETUP_STEPS).get(self.step, "")

    def line(self) -> str:
        if not self.step:
            return f"{self.role}: {self.text}"
        return f"{self.role}: {self.text}: apply step “{self.step_title}” of the setup assistant on the {self.role}"


@dataclass(frozen=True)
class AccountCheck:
    """The proofs of one account on one node."""

    role: str  # the node: primary | secondary
    account: str  # READER | WRITER
    user: str
    problems: tuple[Problem, ...]

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def proven(self) -> str:
        """What the account was shown to do and not to do, when it passed."""
        if self.account == READER:
            return f"logs in, reads every vault table ({', '.join(TABLES)}) and is refused an INSERT"
        return "logs in, may INSERT into the audit table, and is refused the secrets and any other INSERT"


def check_accounts(access: Access, replication_wait: float = REPLICATION_WAIT) -> list[AccountCheck]:
    """The reader and the audit writer on the primary, then on the secondary, each with what it lacks.

    A vault table the primary has and the secondary not yet is looked for again until `replication_wait`
    has passed: `vault init` has just created the schema, and replication takes a moment to bring it.
    """
    deadline = time.monotonic() + replication_wait
    while True:
        found = [
            AccountCheck(role, name, user, tuple(_as(access, role, user, password, probes)))
            for role in (Node.PRIMARY, Node.SECONDARY)
            for name, user, password, probes in ((READER, access.reader_user, access.reader_password(), _reader),
                                                  (WRITER, access.writer_user, access.writer_password(), _writer))
        ]
        replicating = any(p.step == "replication" for a in found for p in a.problems)
        if not replicating or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)  # the next look at the secondary: replication applies within milliseconds


def check(access: Access, replication_wait: float = REPLICATION_WAIT) -> list[Problem]:
    """Every problem found, one per missing step and account; empty when emergency access will work."""
    return [p for a in check_accounts(access, replication_wait) for p in a.problems]


def _probe(conn: pymysql.Connection, sql: str) -> int | None:
    """None when the statement ran, else the server's error number."""
    import pymysql

    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            cur.fetchall()
    except pymysql.MySQLError as exc:
        return exc.args[0] if exc.args and isinstance(exc.args[0], int) else -1
    return None


def _as(access: Access, role: str, user: str, password: str,
        probes: Callable[[Access, str, pymysql.Connection], list[Problem]]) -> list[Problem]:
    """Logs in to the node as the account and runs its probes; a refused login is the one problem."""
    from monitor.probe.errors import classify
    from monitor.readings import Reach

    try:
        conn = connect.connect(access.pair.node(role), access.pair, user, password, TIMEOUT)
    except Exception as exc:  # noqa: BLE001 (every failure is classified and named)
        reach, _errno, message = classify(exc)
        step = "accounts" if reach == Reach.AUTH else ""
        return [Problem(role, step, f"{user} cannot log in ({reach}): {message}")]
    try:
        return probes(access, role, conn)
    finally:
        conn.close()


def _missing(access: Access, role: str, table: str) -> Problem:
    if role == Node.PRIMARY:
        return Problem(role, "vault", f"the vault table {access.schema}.{table} is missing")
    return Problem(role, "replication", f"the vault table {access.schema}.{table} has not replicated here")


def _zero_row_insert(schema: str, table: str, column: str, ignore: bool = False) -> str:
    return (f"INSERT {'IGNORE ' if ignore else ''}INTO {quote(schema)}.`{table}` ({column}) "
            "SELECT NULL FROM DUAL WHERE 1 = 0")


def _may_insert(conn: pymysql.Connection, schema: str, table: str) -> bool:
    """Whether the account's grants allow INSERT on the table: for a read-only node, where probes cannot tell."""
    with conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        lines = [next(iter(row.values())) for row in cur.fetchall()]
    objects = {"*.*", f"`{schema}`.*", f"`{schema}`.`{table}`"}
    for line in lines:
        match = re.match(r"GRANT (.+?) ON (\S+) TO ", line)
        if match and match.group(2) in objects and re.search(r"\b(INSERT|ALL PRIVILEGES)\b", match.group(1)):
            return True
    return False


def _reader(access: Access, role: str, conn: pymysql.Connection) -> list[Problem]:
    user, schema = access.reader_user, access.schema
    for table in TABLES:
        errno = _probe(conn, f"SELECT 1 FROM {quote(schema)}.`{table}` LIMIT 0")
        if errno in MISSING:
            return [_missing(access, role, table)]
        if errno is not None:
            return [Problem(role, "accounts", f"{user} may not SELECT {schema}.{table} (error {errno})")]
    errno = _probe(conn, _zero_row_insert(schema, "audit", "event_id"))
    if errno is None or (errno in READ_ONLY and _may_insert(conn, schema, "audit")):
        return [Problem(role, "", f"{user} may INSERT into {schema}.audit: it must only SELECT the vault; "
                                  "revoke the rest")]
    return []


def _writer(access: Access, role: str, conn: pymysql.Connection) -> list[Problem]:
    user, schema = access.writer_user, access.schema
    problems: list[Problem] = []
    errno = _probe(conn, _zero_row_insert(schema, "audit", "event_id", ignore=True))
    if errno in MISSING:
        return [_missing(access, role, "audit")]
    if errno in REFUSED or (errno in READ_ONLY and not _may_insert(conn, schema, "audit")):
        return [Problem(role, "vault", f"{user} may not INSERT into {schema}.audit")]
    if errno is not None and errno not in READ_ONLY:
        return [Problem(role, "", f"{user} cannot INSERT into {schema}.audit (error {errno})")]
    # The writer must see nothing of the secrets and change nothing else.
    if _probe(conn, f"SELECT 1 FROM {quote(schema)}.`accounts` LIMIT 0") is None:
        problems.append(Problem(role, "", f"{user} may read {schema}.accounts (the secrets): it must only "
                                          f"INSERT into {schema}.audit; revoke the rest"))
    errno = _probe(conn, _zero_row_insert(schema, "accounts", "login"))
    if errno is None or (errno in READ_ONLY and _may_insert(conn, schema, "accounts")):
        problems.append(Problem(role, "", f"{user} may INSERT into {schema}.accounts: it must only INSERT "
                                          f"into {schema}.audit; revoke the rest"))
    return problems
