"""The small repair's pure parts, from tables: what a replica's error says, which row it is about, the statements
that skip the failing transaction per flavour, and the checks' verdicts.

The MariaDB texts are what MariaDB 10.11's replica reported on the sandbox pair; the MySQL texts are MySQL 8.0's
and 8.4's as its error reference and bug reports print them (`source log` since 8.0.26, keys qualified by their
table since 8.0.19, a multithreaded replica's coordinator naming the failing worker's transaction).
"""

from __future__ import annotations

import re

import pytest

from monitor.vault_sql import tables as vault_tables
from pairs.repair.apply_error import key_values, parse
from pairs.repair.judge import DONE, NOT_YET, UNKNOWN
from pairs.repair.procedure import SQL, TARGET
from pairs.repair.row_lookup import VAULT_KEYS, VAULT_PLAIN, VAULT_SECRET, from_duplicate, from_statement
from pairs.repair.skip_event import (
    MYSQL_GTID,
    Relay,
    SkipInput,
    print_command,
    procedure,
    skip_statements,
)
from pairs.repair.skip_judge import (
    DENIED,
    FAILED,
    READ,
    Comparison,
    ReplicaState,
    Rows,
    Transaction,
    compare_rows,
    skip_applied,
)

MARIA_1062 = ("Could not execute Write_rows_v1 event on table hapanel_sandbox.skiptest; Duplicate entry '1' for key "
              "'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log "
              "mysql-bin.000001, end_log_pos 805")
MARIA_1062_UNIQUE = ("Could not execute Write_rows_v1 event on table hapanel_sandbox.skiptest; Duplicate entry 'five' "
                     "for key 'name', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log "
                     "mysql-bin.000001, end_log_pos 1624")
MARIA_1062_COMPOSITE = ("Could not execute Write_rows_v1 event on table hapanel_sandbox.comp; Duplicate entry "
                        "'1-it's-x' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the "
                        "event's master log mysql-bin.000001, end_log_pos 2644")
MARIA_1062_CUT = ("Could not execute Write_rows_v1 event on table hapanel_sandbox.comp; Duplicate entry '2-"
                  + "y" * 59 + "...' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the "
                  "event's master log mysql-bin.000001, end_log_pos 3063")
MARIA_1032_DELETE = ("Could not execute Delete_rows_v1 event on table hapanel_sandbox.skiptest; Can't find record in "
                     "'skiptest', Error_code: 1032; handler error HA_ERR_KEY_NOT_FOUND; the event's master log "
                     "mysql-bin.000001, end_log_pos 1881")
MARIA_1032_UPDATE = ("Could not execute Update_rows_v1 event on table hapanel_sandbox.skiptest; Can't find record in "
                     "'skiptest', Error_code: 1032; handler error HA_ERR_KEY_NOT_FOUND; the event's master log "
                     "mysql-bin.000001, end_log_pos 2169")
MYSQL_UUID = "c7258e28-4c06-11e7-b189-0a26f8645d98"
MYSQL_80_1062 = ("Could not execute Write_rows event on table shop.orders; Duplicate entry '123' for key "
                 "'orders.PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's source log "
                 "binlog.000123, end_log_pos 4567")
MYSQL_57_1032 = ("Could not execute Delete_rows event on table test.t1; Can't find record in 't1', Error_code: 1032; "
                 "handler error HA_ERR_KEY_NOT_FOUND; the event's master log master-bin.000001, end_log_pos 1692")
MYSQL_COORDINATOR = ("Coordinator stopped because there were error(s) in the worker(s). The most recent failure "
                     f"being: Worker 2 failed executing transaction '{MYSQL_UUID}:242101388' at source log "
                     "binlog.000406, end_log_pos 906634781. See error log and/or "
                     "performance_schema.replication_applier_status_by_worker table for more details about this "
                     "failure or others, if any.")
MYSQL_WORKER = (f"Worker 2 failed executing transaction '{MYSQL_UUID}:242101388' at source log binlog.000406, "
                "end_log_pos 906634781; Could not execute Write_rows event on table test_jfg.t; Duplicate entry 'C' "
                "for key 't.str', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's source log "
                "binlog.000406, end_log_pos 906634781")
MYSQL_ANONYMOUS = ("Coordinator stopped because there were error(s) in the worker(s). The most recent failure "
                   "being: Worker 1 failed executing transaction 'ANONYMOUS' at source log mysql-bin-changelog.397390, "
                   "end_log_pos 7392217. See error log and/or performance_schema.replication_applier_status_by_worker "
                   "table for more details about this failure or others, if any.")


@pytest.mark.parametrize(("errno", "text", "detail", "expected"), [
    (1062, MARIA_1062, "", ("Write_rows", "hapanel_sandbox", "skiptest", "1", "PRIMARY", "", "mysql-bin.000001", 805)),
    (1062, MARIA_1062_UNIQUE, "", ("Write_rows", "hapanel_sandbox", "skiptest", "five", "name", "", "mysql-bin.000001",
                                   1624)),
    (1062, MARIA_1062_COMPOSITE, "", ("Write_rows", "hapanel_sandbox", "comp", "1-it's-x", "PRIMARY", "",
                                      "mysql-bin.000001", 2644)),
    (1032, MARIA_1032_DELETE, "", ("Delete_rows", "hapanel_sandbox", "skiptest", "", "", "", "mysql-bin.000001", 1881)),
    (1032, MARIA_1032_UPDATE, "", ("Update_rows", "hapanel_sandbox", "skiptest", "", "", "", "mysql-bin.000001", 2169)),
    (1062, MYSQL_80_1062, "", ("Write_rows", "shop", "orders", "123", "PRIMARY", "", "binlog.000123", 4567)),
    (1032, MYSQL_57_1032, "", ("Delete_rows", "test", "t1", "", "", "", "master-bin.000001", 1692)),
    # The coordinator's words alone name the transaction but not the row ...
    (1062, MYSQL_COORDINATOR, "", ("", "", "", "", "", f"{MYSQL_UUID}:242101388", "binlog.000406", 906634781)),
    # ... its worker's words (performance_schema) name the row too.
    (1062, MYSQL_COORDINATOR, MYSQL_WORKER, ("Write_rows", "test_jfg", "t", "C", "str", f"{MYSQL_UUID}:242101388",
                                             "binlog.000406", 906634781)),
    (1062, MYSQL_ANONYMOUS, "", ("", "", "", "", "", "", "mysql-bin-changelog.397390", 7392217)),
    (1062, "", "", ("", "", "", "", "", "", "", None)),
])
def test_the_error_text_names_the_event_table_key_and_transaction(errno, text, detail, expected):
    e = parse(errno, text, detail)
    assert (e.event, e.schema, e.table, e.key_value, e.key_name, e.gtid, e.source_log, e.end_log_pos) == expected
    assert e.coordinator == text.startswith("Coordinator")
    assert e.small == bool(expected[2])


@pytest.mark.parametrize(("text", "columns", "values"), [
    (MARIA_1062, 1, ("1",)),
    (MARIA_1062_COMPOSITE, 2, None),  # "1-it's-x": which "-" separates the columns?
    (MARIA_1062_CUT, 2, None),  # cut at 64 characters
    (MARIA_1062_CUT.replace("2-" + "y" * 59 + "...", "2-abc"), 2, ("2", "abc")),
    (MARIA_1062, 0, None),
])
def test_a_duplicate_value_is_split_over_its_key_only_when_unambiguous(text, columns, values):
    assert key_values(parse(1062, text), columns) == values


@pytest.mark.parametrize(("statement", "columns", "values", "known"), [
    ("DELETE FROM hapanel_sandbox.skiptest WHERE id = 2", ("id",), ("2",), True),
    ("delete from `hapanel_sandbox`.`skiptest` where `id`=2 and name = 'it''s AND x' limit 1", ("id", "name"),
     ("2", "it's AND x"), True),
    ("UPDATE skiptest SET note='upd' WHERE id = 3", ("id",), ("3",), True),
    ("DELETE FROM hapanel_sandbox.skiptest WHERE id > 2", (), (), False),
    ("DELETE FROM hapanel_sandbox.skiptest WHERE id = 2 OR id = 3", (), (), False),
    ("DELETE FROM other.skiptest WHERE id = 2", (), (), False),
    ("DELETE FROM hapanel_sandbox.other WHERE id = 2", (), (), False),
    ("", (), (), False),
])
def test_a_missing_rows_key_comes_from_a_logged_statement_of_plain_equalities(statement, columns, values, known):
    lookup = from_statement(parse(1032, MARIA_1032_DELETE), statement, vault=False)
    assert (lookup.columns, lookup.values, lookup.known) == (columns, values, known)
    assert lookup.origin


def test_the_select_writes_the_key_out_for_the_operator_and_passes_it_as_parameters_to_the_panel():
    lookup = from_statement(parse(1032, MARIA_1032_DELETE), "DELETE FROM t WHERE name = 'a\\'b' AND id = 7".replace(
        "FROM t", "FROM skiptest"), vault=False)
    assert lookup.statement() == "SELECT * FROM `hapanel_sandbox`.`skiptest` WHERE `name` = 'a''b' AND `id` = '7';"
    assert lookup.query() == ("SELECT * FROM `hapanel_sandbox`.`skiptest` WHERE `name` = %s AND `id` = %s ORDER BY 1 "
                              "LIMIT 20", ("a'b", "7"))
    unknown = from_duplicate(parse(1062, MARIA_1062), (), vault=False)
    assert not unknown.known and "columns are not known" in unknown.origin
    assert unknown.statement("PRIMARY").startswith("SHOW KEYS FROM `hapanel_sandbox`.`skiptest` WHERE Key_name = "
                                                   "'PRIMARY';\nSELECT * FROM")


def test_a_vault_row_is_read_by_its_key_with_its_secrets_as_md5_only():
    error = parse(1062, MARIA_1062.replace("hapanel_sandbox.skiptest", "vault.accounts").replace(
        "'1' for key 'PRIMARY'", "'3-root' for key 'resource_id'"))
    lookup = from_duplicate(error, (), vault=True)  # the monitor cannot see the vault's keys: the vault's own
    assert (lookup.columns, lookup.values) == (("resource_id", "login"), ("3", "root"))
    select = lookup.statement()
    assert select.startswith("SELECT `id`, `resource_id`, `login`, MD5(`secret`) AS `secret_md5`, MD5(`notes`)")
    assert re.search(r"[ ,]`?secret`? *(,|FROM)", select) is None


def test_a_vault_row_is_never_looked_up_by_a_secret():
    error = parse(1032, MARIA_1032_DELETE.replace("hapanel_sandbox.skiptest", "vault.accounts").replace(
        "'skiptest'", "'accounts'"))
    by_secret = from_statement(error, "DELETE FROM vault.accounts WHERE id = 4 AND secret = 'c2VjcmV0'", vault=True)
    assert not by_secret.known and "c2VjcmV0" not in by_secret.statement() + by_secret.origin
    by_id = from_statement(error, "DELETE FROM vault.accounts WHERE id = 4", vault=True)
    assert by_id.known and "MD5(`secret`)" in by_id.statement()


def test_the_vault_lists_hold_every_column_and_key_of_the_vaults_tables():
    for ddl in vault_tables("vault")[1:]:
        table = re.search(r"`vault`\.(\w+)", ddl).group(1)
        columns = re.findall(r"[(,]\s*(\w+) (?:INT|VARCHAR|TEXT|TINYINT|CHAR|DATETIME)", ddl)
        assert sorted(VAULT_PLAIN[table] + VAULT_SECRET.get(table, ())) == sorted(columns), table
        assert (table, "PRIMARY") in VAULT_KEYS


RELAY = Relay("mysqld-relay-bin.000002", 862, 1135, "/var/lib/mysql")


def _input(flavour="mariadb", version="10.11.6", gtid="1-1-2", position="1-1-1,2-2-40", connection="", text=MARIA_1062,
           relay=RELAY) -> SkipInput:
    error = parse(1062, text)
    return SkipInput(flavour=flavour, version=version, replica="secondary", replica_address="10.0.0.2:3306",
                     source_address="10.0.0.1:3306", error=error, lookup=from_duplicate(error, ("id",), False),
                     transaction=Transaction(read=bool(gtid), gtid=gtid), connection=connection,
                     replica_pos=position, relay=relay)


@pytest.mark.parametrize(("s", "statements"), [
    # MariaDB honours its skip counter with GTIDs: it skips the one event group the SQL thread stopped on.
    (_input(), ["STOP SLAVE", "SET GLOBAL sql_slave_skip_counter = 1", "START SLAVE"]),
    (_input(connection="east"), ["STOP SLAVE 'east'", "SET @@default_master_connection = 'east'",
                                 "SET GLOBAL sql_slave_skip_counter = 1", "START SLAVE 'east'"]),
    (_input("mysql", "8.0.36", text=MYSQL_COORDINATOR, gtid=""),
     ["STOP REPLICA", f"SET GTID_NEXT = '{MYSQL_UUID}:242101388'", "BEGIN", "COMMIT", "SET GTID_NEXT = 'AUTOMATIC'",
      "START REPLICA"]),
    (_input("mysql", "8.4.2", text=MYSQL_80_1062, gtid="", connection="dc2"),
     ["STOP REPLICA FOR CHANNEL 'dc2'", f"SET GTID_NEXT = '{MYSQL_GTID}'", "BEGIN", "COMMIT",
      "SET GTID_NEXT = 'AUTOMATIC'", "START REPLICA FOR CHANNEL 'dc2'"]),
    (_input("mysql", "8.0.21", text=MYSQL_COORDINATOR, gtid=""),
     ["STOP SLAVE", f"SET GTID_NEXT = '{MYSQL_UUID}:242101388'", "BEGIN", "COMMIT", "SET GTID_NEXT = 'AUTOMATIC'",
      "START SLAVE"]),
])
def test_the_skip_statements_per_flavour(s, statements):
    assert skip_statements(s) == statements
    step = procedure(s).step("skip-event")
    assert [b.host for b in step.blocks] == [TARGET] and step.blocks[0].kind == SQL
    assert [line.rstrip(";") for line in step.blocks[0].lines] == statements
    if s.mysql:
        assert "sql_slave_skip_counter" not in str(procedure(s))  # refused with GTID auto-positioning


@pytest.mark.parametrize(("s", "command"), [
    (_input(), "mariadb-binlog --base64-output=decode-rows -vv --start-position=862 --stop-position=1135 "
               "/var/lib/mysql/mysqld-relay-bin.000002"),
    (_input("mysql", "8.0.36", text=MYSQL_COORDINATOR, gtid="", relay=Relay()),
     f"mysqlbinlog --base64-output=decode-rows -vv --include-gtids={MYSQL_UUID}:242101388 <the binary log "
     "binlog.000406>"),
    (_input("mysql", "8.0.36", text=MYSQL_80_1062, gtid="", relay=Relay()),
     "mysqlbinlog --base64-output=decode-rows -vv --stop-position=4567 binlog.000123 | tail -n 80"),
])
def test_the_command_that_prints_the_failing_transactions_rows(s, command):
    assert print_command(s) == command


ROW = (("id", "1"), ("name", "one"), ("note", "same"))
ONE_INSERT = Transaction(read=True, gtid="1-1-2", complete=True, events=(
    ("Gtid", "BEGIN GTID 1-1-2"), ("Annotate_rows", "INSERT INTO hapanel_sandbox.skiptest VALUES (1, 'one', 'same')"),
    ("Table_map", "table_id: 18 (hapanel_sandbox.skiptest)"), ("Write_rows_v1", "table_id: 18 flags: STMT_END_F"),
    ("Xid", "COMMIT /* xid=44 */")))
ONE_DELETE = Transaction(read=True, gtid="1-1-6", complete=True, statement="DELETE FROM hapanel_sandbox.skiptest "
                         "WHERE id = 2", events=(("Gtid", "BEGIN GTID 1-1-6"), ("Table_map", "table_id: 18 "
                         "(hapanel_sandbox.skiptest)"), ("Delete_rows_v1", "table_id: 18 flags: STMT_END_F"),
                         ("Xid", "COMMIT /* xid=80 */")))
TWO_TABLES = Transaction(read=True, gtid="1-1-2", complete=True, events=(
    *ONE_INSERT.events[:4], ("Table_map", "table_id: 19 (hapanel_sandbox.other)"),
    ("Write_rows_v1", "table_id: 19 flags: STMT_END_F"), ("Xid", "COMMIT")))


def _compare(text=MARIA_1062, tx=ONE_INSERT, source=(ROW,), replica=(ROW,), states=(READ, READ), errno=1062,
             columns=("id",)) -> tuple[str, str]:
    error = parse(errno, text)
    lookup = (from_duplicate(error, columns, False) if errno == 1062 else
              from_statement(error, tx.statement, False))
    outcome = compare_rows(Comparison(error, tx, lookup, Rows("primary", states[0], source, "denied (1142)"),
                                      Rows("secondary", states[1], replica, "denied (1142)")))
    return outcome.state, outcome.text


@pytest.mark.parametrize(("kwargs", "state", "words"), [
    ({}, DONE, "the row is the same on both nodes"),
    ({"replica": ((("id", "1"), ("name", "one"), ("note", "mine")),)}, NOT_YET, "the rows differ"),
    ({"source": ()}, NOT_YET, "the rows differ"),
    ({"tx": TWO_TABLES}, NOT_YET, "holds 2 row events"),
    ({"tx": Transaction(read=True, gtid="1-1-2", events=ONE_INSERT.events[:4])}, NOT_YET, "end of the failing"),
    ({"tx": Transaction(why="denied")}, UNKNOWN, "cannot be read"),
    ({"states": (DENIED, DENIED)}, UNKNOWN, "may not read hapanel_sandbox.skiptest"),
    ({"states": (READ, FAILED)}, UNKNOWN, "could not be read"),
    ({"columns": ()}, UNKNOWN, "key is not known"),
    ({"text": MARIA_1062.replace("Write_rows", "Update_rows")}, NOT_YET, "drops a change"),
    ({"text": MYSQL_COORDINATOR}, UNKNOWN, "does not name the failing event"),
    ({"errno": 1032, "text": MARIA_1032_DELETE, "tx": ONE_DELETE, "source": (), "replica": ()}, DONE,
     "neither node has the row"),
    ({"errno": 1032, "text": MARIA_1032_DELETE, "tx": ONE_DELETE, "source": (ROW,), "replica": ()}, NOT_YET,
     "not gone from both nodes"),
    ({"errno": 1032, "text": MARIA_1032_UPDATE, "tx": ONE_DELETE, "source": (ROW,), "replica": ()}, NOT_YET,
     "skipping the update leaves it missing"),
])
def test_the_row_comparison_recommends_the_skip_only_when_it_leaves_the_copies_alike(kwargs, state, words):
    got, text = _compare(**kwargs)
    assert (got, words in text) == (state, True), text
    if state == NOT_YET:
        assert text.startswith("do not skip") and "ebuild" in text


def _state(**kwargs) -> ReplicaState:
    return ReplicaState(**{"role": "secondary", "reach": "ok", "flavour": "mariadb", "found": True, "io": "Yes",
                           "sql": "Yes", "position": "1-1-2", **kwargs})


@pytest.mark.parametrize(("state", "gtid", "verdict", "words"), [
    (_state(), "1-1-2", DONE, "past the skipped transaction 1-1-2"),
    (_state(position="1-1-9"), "1-1-2", DONE, "runs without an error"),
    (_state(sql="No", errno=1062, text=MARIA_1062, position="1-1-1"), "1-1-2", NOT_YET, "still stopped on the same"),
    (_state(sql="No", errno=1032, text=MARIA_1032_DELETE), "1-1-2", NOT_YET, "stopped on another error (1032)"),
    (_state(sql="No"), "1-1-2", NOT_YET, "start the replica"),
    (_state(position="1-1-1"), "1-1-2", NOT_YET, "does not include the skipped transaction"),
    (_state(position="junk"), "1-1-2", UNKNOWN, "cannot be read"),
    (_state(), "", DONE, "runs without an error"),
    (_state(reach="refused", error="refused"), "1-1-2", NOT_YET, "does not answer"),
    (_state(found=False), "1-1-2", NOT_YET, "no replication channel"),
    (_state(flavour="mysql", position=f"{MYSQL_UUID}:1-242101388"), f"{MYSQL_UUID}:242101388", DONE, "past"),
    (_state(flavour="mysql", position=f"{MYSQL_UUID}:1-242101387"), f"{MYSQL_UUID}:242101388", NOT_YET, "not include"),
])
def test_the_skip_is_done_once_the_sql_thread_runs_past_the_transaction(state, gtid, verdict, words):
    outcome = skip_applied(parse(1062, MARIA_1062), gtid, state)
    assert (outcome.state, words in outcome.text) == (verdict, True), outcome.text
