"""Which rows an apply error is about, and the SELECT that reads them on each node. Pure: no Django, no I/O.

A duplicate key (1062) names its value and key: the key's columns come from information_schema (the monitor sees
them for tables it may read) or, for the vault, from its own schema. A missing row (1032) names only its table:
the rows come from the failing statement as the source logged it beside its row events (MariaDB's Annotate_rows),
when that statement picks them by plain equalities (`WHERE id = 7`). Anything else is left to the operator, with
the command that prints the event's rows.

The vault's secret columns are never selected: a vault row is read by its key and its plain columns, and each
secret as an MD5, which is enough to tell whether the two copies agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pairs.repair.apply_error import ApplyError, key_values

# The vault's tables (monitor/vault_sql.py): the columns that may be shown, the secret ones compared by MD5 only,
# and the keys a duplicate can name. A test holds these against the vault's CREATE TABLE statements.
VAULT_PLAIN = {
    "users": ("id", "username", "active"),
    "resources": ("id", "name", "address"),
    "accounts": ("id", "resource_id", "login"),
    "grants": ("user_id", "resource_id"),
    "audit": ("event_id", "at", "username", "operation", "resource", "account", "served_by", "client_addr",
              "origin", "detail"),
}
VAULT_SECRET = {"users": ("password_hash", "totp_secret"), "accounts": ("secret", "notes")}
VAULT_KEYS = {
    ("users", "PRIMARY"): ("id",), ("users", "username"): ("username",),
    ("resources", "PRIMARY"): ("id",), ("resources", "name"): ("name",),
    ("accounts", "PRIMARY"): ("id",), ("accounts", "resource_id"): ("resource_id", "login"),
    ("grants", "PRIMARY"): ("user_id", "resource_id"), ("audit", "PRIMARY"): ("event_id",),
}
# A plain equality in a logged statement: `col` = 12, -3.5 or 'text' ('' and \' inside).
_LITERAL = r"(-?\d+(?:\.\d+)?|'(?:[^'\\]|''|\\.)*')"
_EQUALITY = re.compile(r"\s*`?(\w+)`?\s*=\s*" + _LITERAL + r"\s*(?:AND\b(.*))?", re.IGNORECASE | re.DOTALL)
_STATEMENT = re.compile(r"^\s*(?:DELETE\s+FROM|UPDATE)\s+((?:`?\w+`?\.)?`?\w+`?)\s+(?:SET\s+.+?\s+)?"
                        r"WHERE\s+(.+?)\s*(?:LIMIT\s+1\s*)?;?\s*$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class RowLookup:
    schema: str
    table: str
    columns: tuple[str, ...]  # empty: the key is not known (the statement then holds placeholders)
    values: tuple[str, ...]
    vault: bool = False  # the table is the vault's: secrets are compared by MD5, never read
    origin: str = ""  # where the key came from, in words

    @property
    def known(self) -> bool:
        return bool(self.columns) and len(self.columns) == len(self.values)

    @property
    def key_text(self) -> str:
        return ", ".join(f"{c} = {v!r}" for c, v in zip(self.columns, self.values, strict=False))

    @property
    def table_name(self) -> str:
        return f"{_quote(self.schema)}.{_quote(self.table)}"

    def select_list(self) -> str:
        if not self.vault:
            return "*"
        plain = [_quote(c) for c in VAULT_PLAIN.get(self.table, self.columns)]
        secret = [f"MD5({_quote(c)}) AS {_quote(c + '_md5')}" for c in VAULT_SECRET.get(self.table, ())]
        return ", ".join(plain + secret)

    def query(self) -> tuple[str, tuple[str, ...]]:
        """The panel's SELECT, with the key as parameters."""
        where = " AND ".join(f"{_quote(c)} = %s" for c in self.columns)
        return f"SELECT {self.select_list()} FROM {self.table_name} WHERE {where} ORDER BY 1 LIMIT 20", self.values

    def statement(self, key_name: str = "") -> str:
        """The same SELECT for an operator to paste, the key written out (or placeholders when it is not known)."""
        table = self.table_name
        if self.known:
            where = " AND ".join(f"{_quote(c)} = {sql_string(v)}" for c, v in zip(self.columns, self.values,
                                                                                   strict=True))
            return f"SELECT {self.select_list()} FROM {table} WHERE {where};"
        keys = f"SHOW KEYS FROM {table} WHERE Key_name = {sql_string(key_name)};\n" if key_name else ""
        return f"{keys}SELECT {self.select_list()} FROM {table} WHERE <the key's columns> = <the row's values>;"


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sql_string(value: str) -> str:
    """A string literal for MariaDB and MySQL alike (default sql_mode: backslashes escape)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _unquote(literal: str) -> str:
    if not literal.startswith("'"):
        return literal
    body = literal[1:-1]
    return re.sub(r"''|\\(.)", lambda m: "'" if m.group(0) == "''" else m.group(1), body)


def from_duplicate(error: ApplyError, columns: tuple[str, ...], vault: bool) -> RowLookup:
    """The row a duplicate key names, by the key's columns (empty when not known)."""
    if vault and not columns:
        columns = VAULT_KEYS.get((error.table, error.key_name), ())
    values = key_values(error, len(columns)) if columns else None
    if values is None:
        why = ("the server cut the value short" if error.truncated else
               f"the key {error.key_name}'s columns are not known" if not columns else
               f"the value '{error.key_value}' cannot be split over {len(columns)} columns")
        return RowLookup(error.schema, error.table, (), (), vault, why)
    return RowLookup(error.schema, error.table, columns, values, vault,
                     f"the duplicate value of key {error.key_name}")


def from_statement(error: ApplyError, statement: str, vault: bool) -> RowLookup:
    """The rows a logged DELETE or UPDATE picked, when it picked them by plain equalities only."""
    found = _STATEMENT.match(statement or "")
    if not found:
        return RowLookup(error.schema, error.table, (), (), vault,
                         "the source logged no statement that names the row" if not statement else
                         "the statement the source logged does not pick its rows by plain equalities")
    named = found.group(1).replace("`", "").split(".")
    if named[-1] != error.table or (len(named) == 2 and named[0] != error.schema):
        return RowLookup(error.schema, error.table, (), (), vault,
                         f"the statement logged changes {'.'.join(named)}, not {error.schema}.{error.table}")
    columns: list[str] = []
    values: list[str] = []
    rest = found.group(2)
    while rest is not None:
        equality = _EQUALITY.fullmatch(rest)
        if not equality:
            return RowLookup(error.schema, error.table, (), (), vault,
                             "the statement the source logged does not pick its rows by plain equalities")
        columns.append(equality.group(1))
        values.append(_unquote(equality.group(2)))
        rest = equality.group(3)
    if vault and set(columns) & set(VAULT_SECRET.get(error.table, ())):
        return RowLookup(error.schema, error.table, (), (), vault,
                         "the statement the source logged picks its rows by a secret of the vault, never shown")
    return RowLookup(error.schema, error.table, tuple(columns), tuple(values), vault,
                     "the WHERE of the statement the source logged")
