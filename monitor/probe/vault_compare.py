"""Vault consistency, the reading half: the vault's tables on both nodes, checksummed under consistent snapshots at
the same GTID position. No Django here; `monitor/risks/vault.py` judges.

Only reads, with no locks: `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY`, SELECTs, status and
system variables, and the wait for a position (`MASTER_GTID_WAIT` on MariaDB, `WAIT_FOR_EXECUTED_GTID_SET` on
MySQL). An account with SELECT on the vault is enough: emergency access's reader.

1. The primary opens a snapshot and names its position: MariaDB gives the binary log position that snapshot
   stands at (`binlog_snapshot_file`/`_position`, turned into GTIDs by `BINLOG_GTID_POS`); MySQL has no such
   status, so the position read just after opening it stands for it (it holds at least what the snapshot holds).
2. The secondary waits until it has applied that position, then opens its own snapshot.
3. Each table is summed up in buckets of rows (the bucket from a hash of the key, so any key type works): a row
   count and an XOR of the rows' MD5s. Buckets that differ are read row by row (key and hash) on both sides.
4. The rows that differ are asked again (`settle`): the secondary's snapshot may be later than the primary's,
   and a row the primary changed in between is in flight, not drift. Monitor heartbeats move the position
   every second, so the two snapshots are rarely at the very same position; this is why rows are settled
   instead of positions being required equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pymysql

from monitor.probe.flavour import MARIADB, parse_version
from monitor.risks import vault
from monitor.risks.vault import Buckets, Comparison, Hashes, Key, TableResult, TableShape

BUCKETS = 256  # per table: a differing row costs reading about 1/256 of its table, row by row
ROUNDS = 5  # looks at rows the primary keeps changing, before they are left unjudged
KEYS_PER_QUERY = 500


class CompareError(Exception):
    """A node did not reach the position it was asked to wait for, or cannot be read: the comparison's error."""


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _text(value: object) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value or "")


def row_hash(shape: TableShape) -> str:
    """MD5 of the row's columns, each as the hex of its bytes (NULL as N): no two different rows read alike."""
    return "MD5(CONCAT_WS('|', " + ", ".join(f"COALESCE(HEX(CONCAT({_q(c)})), 'N')" for c in shape.columns) + "))"


def _key_hash(shape: TableShape) -> str:
    return f"CRC32(CONCAT_WS('|', {', '.join(f'HEX(CONCAT({_q(c)}))' for c in shape.key)})) % {BUCKETS}"


@dataclass
class Node:
    """One node's connection, its flavour, and the snapshot it has open."""

    conn: pymysql.Connection
    role: str
    flavour: str = MARIADB
    position: str = ""
    shapes: dict[str, TableShape] = field(default_factory=dict)

    @classmethod
    def on(cls, conn: pymysql.Connection, role: str) -> Node:
        node = cls(conn, role)
        head = node.run("SELECT @@version AS v, @@version_comment AS c")[0]
        node.flavour, _ = parse_version(_text(head["v"]), _text(head["c"]))
        # REPEATABLE READ is what makes a consistent snapshot hold; a session setting, nothing on the server.
        node.run("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return node

    def run(self, sql: str, args: tuple | list | None = None) -> list[dict]:
        try:
            with self.conn.cursor(pymysql.cursors.DictCursor) as cur:
                cur.execute(sql, args)
                return list(cur.fetchall())
        except pymysql.MySQLError as exc:
            code = f"({exc.args[0]}) " if len(exc.args) > 1 else ""
            raise CompareError(f"the {self.role} could not be read: {code}{exc.args[-1] if exc.args else exc}") from exc

    def open(self) -> str:
        """Opens a read-only consistent snapshot; returns the GTID position it stands at ("" when unknown)."""
        self.run("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        if self.flavour == MARIADB:
            status = {_text(r["Variable_name"]).lower(): _text(r["Value"])
                      for r in self.run("SHOW STATUS LIKE 'binlog_snapshot_%'")}
            name, offset = status.get("binlog_snapshot_file", ""), status.get("binlog_snapshot_position", "")
            found = (self.run("SELECT BINLOG_GTID_POS(%s, %s) AS p", (name, int(offset)))[0]["p"]
                     if name and offset.isdigit() else None)
            self.position = _text(found) if found is not None else ""
        else:
            self.position = _text(self.run("SELECT @@GLOBAL.gtid_executed AS p")[0]["p"]).replace("\n", "")
        return self.position

    def close(self) -> None:
        self.run("ROLLBACK")  # a read-only transaction: nothing to commit

    def reach(self, position: str, timeout: float) -> None:
        """Waits until this node has applied `position`; raises `CompareError` after `timeout` seconds."""
        if not position:
            return
        if self.flavour == MARIADB:
            here = self.run("SELECT @@GLOBAL.gtid_current_pos AS p")[0]["p"]
            wanted = vault.maria_behind(_text(here), position)
            done = not wanted or self.run("SELECT MASTER_GTID_WAIT(%s, %s) AS w", (wanted, timeout))[0]["w"] == 0
        else:
            done = self.run("SELECT WAIT_FOR_EXECUTED_GTID_SET(%s, %s) AS w", (position, timeout))[0]["w"] == 0
        if not done:
            raise CompareError(f"the {self.role} did not reach the position {position} within {timeout:.0f} s")

    def read_shapes(self, schema: str, tables: tuple[str, ...]) -> dict[str, TableShape]:
        marks = ", ".join(["%s"] * len(tables))
        columns: dict[str, list[str]] = {}
        for r in self.run("SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS"
                          f" WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ({marks}) ORDER BY t, ORDINAL_POSITION",
                          (schema, *tables)):
            columns.setdefault(_text(r["t"]), []).append(_text(r["c"]))
        keys: dict[str, list[str]] = {}
        for r in self.run("SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.STATISTICS"
                          f" WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN ({marks}) AND INDEX_NAME = 'PRIMARY'"
                          " ORDER BY t, SEQ_IN_INDEX", (schema, *tables)):
            keys.setdefault(_text(r["t"]), []).append(_text(r["c"]))
        self.shapes = {t: TableShape(t, tuple(cols), tuple(keys.get(t, ()))) for t, cols in columns.items()}
        return self.shapes

    def buckets(self, schema: str, shape: TableShape) -> Buckets:
        h = row_hash(shape)
        sql = (f"SELECT b, COUNT(*) AS n, BIT_XOR(CAST(CONV(SUBSTRING(h, 1, 16), 16, 10) AS UNSIGNED)) AS x1,"
               f" BIT_XOR(CAST(CONV(SUBSTRING(h, 17, 16), 16, 10) AS UNSIGNED)) AS x2"
               f" FROM (SELECT {_key_hash(shape)} AS b, {h} AS h FROM {_q(schema)}.{_q(shape.name)}) AS r GROUP BY b")
        return {int(r["b"]): (int(r["n"]), int(r["x1"]), int(r["x2"])) for r in self.run(sql)}

    def rows_in(self, schema: str, shape: TableShape, buckets: list[int]) -> Hashes:
        cols = ", ".join(_q(c) for c in shape.key)
        sql = (f"SELECT {cols}, {row_hash(shape)} AS h FROM {_q(schema)}.{_q(shape.name)}"
               f" WHERE {_key_hash(shape)} IN ({', '.join(str(int(b)) for b in buckets)})")
        return self._hashes(sql, shape, None)

    def rows_by_key(self, schema: str, shape: TableShape, keys: set[Key]) -> Hashes:
        out: Hashes = dict.fromkeys(keys)
        ordered = sorted(keys)
        cols = ", ".join(_q(c) for c in shape.key)
        one = "(" + ", ".join(["%s"] * len(shape.key)) + ")"
        for i in range(0, len(ordered), KEYS_PER_QUERY):
            chunk = ordered[i:i + KEYS_PER_QUERY]
            sql = (f"SELECT {cols}, {row_hash(shape)} AS h FROM {_q(schema)}.{_q(shape.name)}"
                   f" WHERE ({cols}) IN ({', '.join([one] * len(chunk))})")
            out.update(self._hashes(sql, shape, [v for k in chunk for v in k]))
        return out

    def _hashes(self, sql: str, shape: TableShape, args: list | None) -> Hashes:
        return {tuple(r[c] for c in shape.key): _text(r["h"]) for r in self.run(sql, args)}


def compare(primary: Node, secondary: Node, schema: str, *, bidirectional: bool, wait: float,
            tables: tuple[str, ...] = vault.TABLES) -> Comparison:
    """Both copies of the vault, compared; a node that cannot be read, or that does not reach the other's position
    within `wait` seconds, is the result's `error`. Never writes; leaves no transaction open."""
    out = Comparison()
    try:
        _compare(primary, secondary, schema, tables, bidirectional, wait, out)
    except CompareError as exc:
        out.error, out.tables = str(exc), []
    finally:
        for node in (primary, secondary):
            try:
                node.close()
            except CompareError:
                pass  # the connection is gone, and its transaction with it
    return out


def _compare(primary: Node, secondary: Node, schema: str, tables: tuple[str, ...], bidirectional: bool,
             wait: float, out: Comparison) -> None:
    out.position = primary.open()
    if not out.position:
        raise CompareError("the primary's binary log position cannot be read (is log_bin on?): there is no "
                        "position to compare the copies at")
    p_shapes = primary.read_shapes(schema, tables)
    p_buckets = {t: primary.buckets(schema, s) for t, s in p_shapes.items()}
    secondary.reach(out.position, wait)
    out.secondary_position = secondary.open()
    s_shapes = secondary.read_shapes(schema, tables)
    if not p_shapes and not s_shapes:
        raise CompareError(f"neither node has any of the vault's tables ({', '.join(tables)}) in the schema {schema}"
                           " that the reader can see: has `manage.py vault init` run?")
    before_p: dict[str, Hashes] = {}
    before_s: dict[str, Hashes] = {}
    for table in tables:
        shape = p_shapes.get(table)
        result = TableResult(table, shape.key if shape else ())
        out.tables.append(result)
        result.problem = vault.shape_problem(table, shape, s_shapes.get(table))
        if result.problem:
            continue
        pb = p_buckets[table]
        result.rows = sum(n for n, _, _ in pb.values())
        differing = vault.differing_buckets(pb, secondary.buckets(schema, shape))
        if differing:
            before_p[table] = primary.rows_in(schema, shape, differing)
            before_s[table] = secondary.rows_in(schema, shape, differing)
    primary.close()
    secondary.close()
    _settle(primary, secondary, schema, out, before_p, before_s, bidirectional, wait)


def _settle(primary: Node, secondary: Node, schema: str, out: Comparison, before_p: dict[str, Hashes],
            before_s: dict[str, Hashes], bidirectional: bool, wait: float) -> None:
    """Looks again at the rows that differed, until each is drift or equal, or the rounds run out."""
    results = {t.table: t for t in out.tables}
    pending = {t: vault.differing_rows(before_p[t], before_s[t]) for t in before_p}
    drift: dict[str, set[Key]] = {t: set() for t in pending}
    for _ in range(ROUNDS):
        pending = {t: keys for t, keys in pending.items() if keys}
        if not pending:
            break
        out.rounds += 1
        if bidirectional:  # what the secondary wrote itself must have reached the primary too
            primary.reach(out.secondary_position, wait)
        p_pos = primary.open()
        now_p = {t: primary.rows_by_key(schema, primary.shapes[t], keys) for t, keys in pending.items()}
        primary.close()
        moving: dict[str, set[Key]] = {}
        for t, keys in pending.items():
            found, moving[t] = vault.settle(before_p[t], before_s[t], now_p[t], keys)
            drift[t] |= found
        if not any(moving.values()):
            pending = {}
            break
        secondary.reach(p_pos, wait)
        out.secondary_position = secondary.open()
        now_s = {t: secondary.rows_by_key(schema, primary.shapes[t], keys) for t, keys in moving.items() if keys}
        secondary.close()
        pending = {t: vault.differing_rows({k: now_p[t][k] for k in keys}, now_s[t]) for t, keys in now_s.items()}
        before_p.update(now_p)
        before_s.update(now_s)
    for t, keys in drift.items():
        results[t].differing = sorted(keys)
    for t, keys in pending.items():
        results[t].unsettled = sorted(keys)
