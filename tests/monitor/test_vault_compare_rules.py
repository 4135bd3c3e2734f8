"""Vault consistency, the judging half, from tables: which rows differ, which are drift and which were caught in
flight, what a MariaDB node still has to reach, and the warning in words. Pure."""

from __future__ import annotations

import pytest

from monitor.risks import vault
from monitor.risks.vault import Comparison, TableResult, TableShape
from monitor.vocabulary import RiskCode, Severity

K1, K2, K3 = (1,), (2,), (3,)


@pytest.mark.parametrize(("before_p", "before_s", "now_p", "drift", "moving"), [
    # the secondary differs, the primary held the row still: drift
    ({K1: "a"}, {K1: "x"}, {K1: "a"}, {K1}, set()),
    # the primary changed the row after its first snapshot, the secondary already has the change: in flight
    ({K1: "a"}, {K1: "b"}, {K1: "b"}, set(), {K1}),
    # the primary changed it again meanwhile: still moving, asked again
    ({K1: "a"}, {K1: "b"}, {K1: "c"}, set(), {K1}),
    # a row inserted on the primary after its snapshot, already on the secondary: in flight
    ({K1: None}, {K1: "n"}, {K1: "n"}, set(), {K1}),
    # a row only the secondary has, the primary never had: drift
    ({K1: None}, {K1: "n"}, {K1: None}, {K1}, set()),
    # a row the secondary lost: drift
    ({K1: "a"}, {K1: None}, {K1: "a"}, {K1}, set()),
    # a row deleted on the primary in between, already gone on the secondary: in flight
    ({K1: "a"}, {K1: None}, {K1: None}, set(), {K1}),
    # several rows, each judged on its own
    ({K1: "a", K2: "b", K3: "c"}, {K1: "x", K2: "B", K3: "c"}, {K1: "a", K2: "B", K3: "c"}, {K1}, {K2}),
])
def test_settle(before_p, before_s, now_p, drift, moving):
    keys = vault.differing_rows(before_p, before_s)
    assert vault.settle(before_p, before_s, now_p, keys) == (drift, moving)


@pytest.mark.parametrize(("primary", "secondary", "expected"), [
    ({0: (3, 1, 2)}, {0: (3, 1, 2)}, []),
    ({0: (3, 1, 2), 7: (1, 5, 5)}, {0: (3, 1, 2), 7: (1, 5, 6)}, [7]),
    ({0: (3, 1, 2)}, {0: (3, 1, 2), 9: (1, 4, 4)}, [9]),  # rows only the secondary has
    ({0: (3, 1, 2), 9: (1, 4, 4)}, {0: (3, 1, 2)}, [9]),
])
def test_differing_buckets(primary, secondary, expected):
    assert vault.differing_buckets(primary, secondary) == expected


@pytest.mark.parametrize(("current", "target", "wanted"), [
    ("1-1-10", "1-1-10", ""),
    ("1-1-9", "1-1-10", "1-1-10"),
    # the node's own domain is in its binary log, not in gtid_slave_pos: reached, not waited for
    ("1-1-10,2-2-40", "1-1-12,2-2-40", "1-1-12"),
    ("1-1-12,2-2-41", "1-1-12,2-2-40", ""),
    ("", "0-1-5,1-1-3", "0-1-5,1-1-3"),
    # a state with several servers in a domain: the newest seq of the domain counts
    ("0-1-5", "0-1-7,0-3-6", "0-1-7"),
    ("1-1-3", "", ""),
])
def test_maria_behind(current, target, wanted):
    assert vault.maria_behind(current, target) == wanted


USERS = TableShape("users", ("id", "username", "password_hash"), ("id",))


@pytest.mark.parametrize(("primary", "secondary", "words"), [
    (USERS, USERS, ""),
    (None, USERS, "missing on the primary"),
    (USERS, None, "missing on the secondary"),
    (None, None, "missing on both"),
    (USERS, TableShape("users", ("id", "username"), ("id",)), "other columns on the secondary (id, username)"),
    (TableShape("users", ("id",), ()), TableShape("users", ("id",), ()), "no primary key"),
    (USERS, TableShape("users", USERS.columns, ("username",)), "another primary key"),
])
def test_shape_problem(primary, secondary, words):
    problem = vault.shape_problem("users", primary, secondary)
    assert (words in problem) if words else problem == ""


def _drifted() -> Comparison:
    return Comparison(position="1-1-13,2-2-3", tables=[
        TableResult("users", ("id",), rows=2),
        TableResult("accounts", ("id",), rows=3, differing=[(1,), (7,)]),
        TableResult("grants", ("user_id", "resource_id"), rows=4, differing=[(1, 2)]),
    ])


def test_drift_is_one_warning_naming_tables_and_keys():
    [risk] = vault.drift_risks(_drifted(), "vault")
    assert (risk.code, risk.severity, risk.subject, risk.key) == (RiskCode.VAULT_DRIFT, Severity.WARNING,
                                                                   "secondary", "vault-drift:secondary")
    assert risk.summary.startswith("the copy of the vault on the secondary differs from the primary in 2 rows of "
                                   "accounts (id=1, id=7); 1 row of grants (user_id=1, resource_id=2), at the "
                                   "primary's position 1-1-13,2-2-3")
    assert risk.evidence == {"position": "1-1-13,2-2-3", "accounts": "2 rows: id=1, id=7",
                             "grants": "1 row: user_id=1, resource_id=2"}
    assert '--where="id IN (1, 7)" vault accounts' in risk.remediation
    assert '--where="(user_id, resource_id) IN ((1, 2))" vault grants' in risk.remediation
    assert "SET sql_log_bin=0" in risk.remediation


def test_equal_copies_and_failed_comparisons_raise_nothing():
    assert vault.drift_risks(Comparison(position="1-1-1", tables=[TableResult("users", ("id",), rows=2)]),
                             "vault") == []
    assert vault.drift_risks(Comparison(error="the secondary did not reach the position 1-1-9 within 30 s"),
                             "vault") == []


def test_a_table_that_differs_in_shape_is_drift_too():
    c = Comparison(position="1-1-2", tables=[TableResult("accounts", problem="the table accounts is missing on "
                                                                              "the secondary")])
    [risk] = vault.drift_risks(c, "vault")
    assert "the table accounts is missing on the secondary" in risk.summary
    assert "mysqldump" not in risk.remediation


def test_many_keys_are_counted_but_few_shown():
    t = TableResult("accounts", ("id",), rows=500, differing=[(i,) for i in range(300)])
    assert t.keys_text().endswith("id=19 and 280 more")
    assert t.to_dict()["differing"] == 300 and len(t.to_dict()["keys"]) == vault.KEYS_KEPT


@pytest.mark.parametrize(("value", "literal"), [(3, "3"), ("a'b", "'a''b'"), ("x\\", "'x\\\\'"), (True, "1")])
def test_key_literals_in_the_remediation(value, literal):
    assert vault.sql_literal(value) == literal
