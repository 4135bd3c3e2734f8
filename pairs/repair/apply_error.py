"""What a replica's Last_SQL_Error says about the row it stopped on. Pure: no Django, no I/O.

MariaDB and a single-threaded MySQL replica write the applier's own words ("Could not execute Write_rows_v1 event
on table db.t; Duplicate entry '7' for key 'PRIMARY', Error_code: 1062; ..."); a multithreaded MySQL replica
writes its coordinator's ("Coordinator stopped because there were error(s) in the worker(s). The most recent
failure being: Worker 1 failed executing transaction 'uuid:n' at source log ...") and keeps the applier's words
in performance_schema.replication_applier_status_by_worker. Whatever a text leaves out stays empty: the panel
then says what it could not read, never guesses.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

DUPLICATE_KEY, MISSING_ROW = 1062, 1032
SMALL_ERRNOS = (DUPLICATE_KEY, MISSING_ROW)
# A transaction's row events: MariaDB appends _v1, MySQL has none or _v2 in older texts.
WRITE, UPDATE, DELETE = "Write_rows", "Update_rows", "Delete_rows"
# MariaDB cuts a duplicate value at 64 characters and appends "...": such a value cannot find the row.
TRUNCATED = "..."

_EVENT = re.compile(r"Could not execute (\w+?)(?:_v\d)? event on table ([^.;\s]+)\.([^;\s]+?);")
_DUPLICATE = re.compile(r"Duplicate entry '(.*)' for key '([^']*)'", re.DOTALL)
_MISSING = re.compile(r"Can't find record in '([^']*)'")
_TRANSACTION = re.compile(r"failed executing transaction '([^']*)'")
_POSITION = re.compile(r"(?:master|source) log ([^,\s]+), end_log_pos (\d+)")
_COORDINATOR = "Coordinator stopped"


@dataclass(frozen=True)
class ApplyError:
    errno: int
    text: str
    event: str = ""  # WRITE | UPDATE | DELETE, or another event type; "" when the text names none
    schema: str = ""
    table: str = ""
    key_value: str = ""  # 1062: the duplicate value as the server printed it (several columns joined by "-")
    key_name: str = ""  # 1062: the key's name, PRIMARY or the unique key's
    gtid: str = ""  # the failing transaction, when the text names it (MySQL's workers)
    source_log: str = ""  # where the failing event ends in the source's binary log
    end_log_pos: int | None = None
    coordinator: bool = False  # the text is a MySQL coordinator's: the row's words are in performance_schema

    @property
    def small(self) -> bool:
        """A duplicate key or a missing row on a named table: what the small repair examines."""
        return self.errno in SMALL_ERRNOS and bool(self.table)

    @property
    def truncated(self) -> bool:
        return self.key_value.endswith(TRUNCATED)

    @property
    def what(self) -> str:
        """The error in a few words, for headings and the repair log."""
        where = f" in {self.schema}.{self.table}" if self.table else ""
        if self.errno == DUPLICATE_KEY:
            key = f" '{self.key_value}' for key {self.key_name}" if self.key_name else ""
            return f"duplicate key{key}{where} (error 1062)"
        if self.errno == MISSING_ROW:
            event = f", {self.event} event" if self.event else ""
            return f"row not found{where}{event} (error 1032)"
        return f"error {self.errno}{where}"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ApplyError:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def parse(errno: int, text: str, detail: str = "") -> ApplyError:
    """The error as the replica reports it; `detail` is a worker's own message when the text is its
    coordinator's (performance_schema), which names the row where the coordinator does not."""
    text = text or ""
    words = detail if detail and _COORDINATOR in text else text
    found = _EVENT.search(words)
    event, schema, table = found.groups() if found else ("", "", "")
    key_value = key_name = ""
    if duplicate := _DUPLICATE.search(words):
        key_value, key_name = duplicate.groups()
        # MySQL 8.0.19 and later qualify the key with its table: 't.PRIMARY'.
        if table and key_name.startswith(f"{table}."):
            key_name = key_name[len(table) + 1:]
    elif (missing := _MISSING.search(words)) and not table:
        table = missing.group(1)
    transaction = _TRANSACTION.search(text) or _TRANSACTION.search(detail or "")
    gtid = transaction.group(1) if transaction and transaction.group(1) != "ANONYMOUS" else ""
    positions = _POSITION.findall(words) or _POSITION.findall(text)
    source_log, end = positions[-1] if positions else ("", None)
    return ApplyError(errno=int(errno or 0), text=text, event=event, schema=schema, table=table,
                      key_value=key_value, key_name=key_name, gtid=gtid, source_log=source_log,
                      end_log_pos=int(end) if end is not None else None, coordinator=_COORDINATOR in text)


def key_values(error: ApplyError, columns: int) -> tuple[str, ...] | None:
    """The duplicate value split over a key of `columns` columns, or None when the text cannot say which part
    belongs to which column (a value holding "-", or one the server cut short)."""
    if not error.key_value or error.truncated or columns < 1:
        return None
    if columns == 1:
        return (error.key_value,)
    parts = error.key_value.split("-")
    return tuple(parts) if len(parts) == columns else None
