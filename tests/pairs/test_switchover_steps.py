"""The switchover, failover and rejoin checklists as generated text, per flavour, version and topology, and each
step's check decided from tables of what the nodes answered (pure: no Django, no server)."""

from __future__ import annotations

import pytest

from pairs.repair import judge_switchover as j
from pairs.repair.switchover import FAILOVER, REJOIN, SWITCHOVER, SwitchInput, procedure
from pairs.setup_sql import MARIADB, MYSQL_80, MYSQL_84, Server, SetupInput

P, S = Server("primary", "10.0.0.1", 3306), Server("secondary", "10.0.0.2", 3307)


def _proc(flavour: str, version: tuple, kind: str, topology: str = "one-way"):
    return procedure(SwitchInput(SetupInput(flavour, topology, P, S), version, kind))


def _sql(proc, key: str, host: str) -> list[str]:
    return [line for b in proc.step(key).blocks if b.host == host for line in b.lines]


@pytest.mark.parametrize("flavour, version, stop, start, ro, change", [
    (MARIADB, (10, 11, 6), "STOP SLAVE;", "START SLAVE;", ["SET GLOBAL read_only = ON;"], "CHANGE MASTER TO"),
    (MYSQL_80, (8, 0, 21), "STOP SLAVE;", "START SLAVE;", ["SET GLOBAL super_read_only = ON;"], "CHANGE MASTER TO"),
    (MYSQL_80, (8, 0, 36), "STOP REPLICA;", "START REPLICA;", ["SET GLOBAL super_read_only = ON;"],
     "CHANGE REPLICATION SOURCE TO"),
    (MYSQL_84, (8, 4, 2), "STOP REPLICA;", "START REPLICA;", ["SET GLOBAL super_read_only = ON;"],
     "CHANGE REPLICATION SOURCE TO"),
])
def test_planned_switchover_speaks_the_servers_words(flavour, version, stop, start, ro, change):
    proc = _proc(flavour, version, SWITCHOVER)
    assert [s.key for s in proc.steps] == ["read-only", "caught-up", "stop-replication", "writable",
                                           "point-applications", "swap-roles", "replicate", "verify"]
    assert _sql(proc, "read-only", "demoted") == ro
    assert "FLUSH TABLES" not in "".join(b.text for s in proc.steps for b in s.blocks)
    assert _sql(proc, "stop-replication", "promoted") == [stop, stop.replace("STOP", "RESET").rstrip(";") + " ALL;"]
    wait = _sql(proc, "caught-up", "promoted")[0]
    assert wait.startswith("SELECT WAIT_FOR_EXECUTED_GTID_SET(" if flavour != MARIADB else "SELECT MASTER_GTID_WAIT(")
    writable = _sql(proc, "writable", "promoted")
    assert writable[-1] == "SET GLOBAL read_only = OFF;"
    assert (writable[0] == "SET GLOBAL super_read_only = OFF;") == (flavour != MARIADB)
    back = _sql(proc, "replicate", "demoted")
    assert back[0].startswith(change) and back[-1] == start
    assert "'10.0.0.2'" in back[0] and "3307" in back[0]  # the old primary points at the new one
    assert ("AUTO_POSITION=1" in back[0]) == (flavour != MARIADB)
    assert ("MASTER_USE_GTID=slave_pos" in back[0]) == (flavour == MARIADB)


def test_a_bidirectional_switchover_keeps_both_channels():
    proc = _proc(MARIADB, (10, 11, 6), SWITCHOVER, "bidirectional")
    assert "stop-replication" not in [s.key for s in proc.steps]
    # It replicates from the new primary already, and takes writes again as both nodes of such a pair do.
    assert _sql(proc, "replicate", "demoted") == ["SET GLOBAL read_only = OFF;"]


@pytest.mark.parametrize("topology, reset", [("one-way", True), ("bidirectional", False)])
def test_failover_applies_the_relay_log_before_it_stops(topology, reset):
    proc = _proc(MYSQL_84, (8, 4, 2), FAILOVER, topology)
    assert [s.key for s in proc.steps] == ["confirm-down", "fence", "stop-replication", "writable",
                                           "point-applications", "swap-roles"]
    stop = _sql(proc, "stop-replication", "promoted")
    assert stop[:2] == ["STOP REPLICA IO_THREAD;", "STOP REPLICA;"]
    assert ("RESET REPLICA ALL;" in stop) == reset
    fence = proc.step("fence").blocks[0]
    assert fence.kind == "sh" and "systemctl stop mysql" in fence.text and "--dport 3306" in fence.text


def test_rejoin_looks_for_errant_transactions_then_replicates():
    proc = _proc(MARIADB, (10, 11, 6), REJOIN, "bidirectional")
    assert [s.key for s in proc.steps] == ["read-only", "errant", "replicate", "verify"]
    # Opened after the swap: the pair's primary is the promoted node.
    assert proc.step("replicate").blocks[1].where.startswith("On the new primary (10.0.0.1:3306)")
    assert _sql(proc, "replicate", "promoted") == ["START SLAVE;"]
    assert _sql(proc, "replicate", "demoted") == ["START SLAVE;", "SET GLOBAL read_only = OFF;"]
    one_way = _proc(MYSQL_80, (8, 0, 36), REJOIN)
    assert "SOURCE_HOST='10.0.0.1'" in _sql(one_way, "replicate", "demoted")[0]


# ---- the checks -------------------------------------------------------------------------------------------------

UP = dict(reach="ok", flavour="mariadb")


def _facts(name: str, **kw) -> j.Facts:
    return j.Facts(name, **{**UP, **kw})


def _sit(promoted: j.Facts, demoted: j.Facts, **kw) -> j.Situation:
    return j.Situation(promoted=promoted, demoted=demoted, bidirectional=kw.pop("bidirectional", False), **kw)


RUNNING = j.Link("Yes", "Yes", ssl=True, behind=0)


@pytest.mark.parametrize("demoted, link, state", [
    (dict(reach="refused"), j.Link("Connecting", "Yes", error="Can't connect"), j.DONE),
    (dict(reach="timeout"), j.Link("Yes", "Yes"), j.NOT_YET),  # the secondary still reads it: the panel's path
    (dict(), j.Link("Yes", "Yes"), j.NOT_YET),  # it answers
])
def test_confirm_down_needs_the_replica_to_agree(demoted, link, state):
    out = j.demoted_down(_sit(_facts("s", links=(link,)), _facts("p", **demoted), ha_cause="primary-down"))
    assert out.state == state, out.text


@pytest.mark.parametrize("demoted, state", [
    (dict(reach="refused"), j.DONE),
    (dict(read_only=True), j.DONE),
    (dict(read_only=False), j.NOT_YET),
    (dict(flavour="mysql", read_only=True, super_read_only=False), j.NOT_YET),
    (dict(reach="auth"), j.UNKNOWN),
])
def test_fenced_means_silent_or_read_only(demoted, state):
    assert j.demoted_fenced(_sit(_facts("s"), _facts("p", **demoted))).state == state


@pytest.mark.parametrize("links, state", [
    ((j.Link("No", "No", read_at="b.1:500", exec_at="b.1:500"),), j.DONE),
    ((j.Link("No", "No", read_at="b.1:500", exec_at="b.1:300"),), j.NOT_YET),  # stopped before it applied all
    ((j.Link("No", "Yes", read_at="b.1:500", exec_at="b.1:500"),), j.NOT_YET),
    ((), j.DONE),  # reset
])
def test_stopped_means_all_it_read_applied(links, state):
    assert j.promoted_stopped(_sit(_facts("s", links=links), _facts("p"))).state == state


@pytest.mark.parametrize("promoted, demoted, state", [
    ("1-1-10,2-2-5", "1-1-10,2-2-5", j.DONE),
    ("1-1-9,2-2-5", "1-1-10,2-2-5", j.NOT_YET),
    ("1-1-12", "1-1-10", j.DONE),
])
def test_caught_up_compares_gtid_positions(promoted, demoted, state):
    out = j.promoted_caught_up(_sit(_facts("s", position=promoted), _facts("p", position=demoted, read_only=True)))
    assert out.state == state, out.text
    assert j.promoted_caught_up(_sit(_facts("s", position=promoted),
                                     _facts("p", position=demoted, read_only=False))).state == j.NOT_YET


@pytest.mark.parametrize("flavour, ro, sro, state", [
    ("mariadb", False, None, j.DONE), ("mariadb", True, None, j.NOT_YET),
    ("mysql", False, False, j.DONE), ("mysql", False, True, j.NOT_YET), ("mariadb", None, None, j.UNKNOWN),
])
def test_writable(flavour, ro, sro, state):
    s = _facts("s", flavour=flavour, read_only=ro, super_read_only=sro)
    assert j.promoted_writable(_sit(s, _facts("p"))).state == state


def test_applications_and_roles_are_the_admins_and_the_panels_word():
    s = _sit(_facts("s"), _facts("p", reach="refused"), promoted_address="10.0.0.2:3307",
             panel_primary="10.0.0.1:3306")
    assert j.applications_pointed(s).state == j.NOT_YET
    assert j.roles_swapped(s).state == j.NOT_YET
    done = _sit(_facts("s"), _facts("p", reach="refused"), promoted_address="10.0.0.2:3307",
                panel_primary="10.0.0.2:3307", confirmed=frozenset({"point-applications"}))
    assert j.applications_pointed(done).state == j.DONE and j.roles_swapped(done).state == j.DONE


@pytest.mark.parametrize("bidirectional, demoted_state, found", [
    (False, "1-1-10,2-2-30", []),
    (False, "1-1-11,2-2-30", ["1-1-11"]),  # the old primary wrote one more it never sent
    (True, "1-1-11,2-2-30", []),  # bidirectional: its own reach the new primary when that one replicates again
    (True, "1-1-10,2-2-30,3-7-4", ["3-7-4"]),  # a third server's
])
def test_errant_transactions_route_to_the_rebuild(bidirectional, demoted_state, found):
    s = _sit(_facts("new", server_id=2, state="1-1-10,2-2-30"), _facts("old", server_id=1, state=demoted_state),
             bidirectional=bidirectional)
    assert j.errant(s) == found
    out = j.no_errant(s)
    assert out.state == (j.NOT_YET if found else j.DONE)
    assert ("rebuild" in out.text) == bool(found)


def test_errant_on_mysql_counts_uuids():
    new, old = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
    s = _sit(_facts("new", flavour="mysql", uuid=new, state=f"{old}:1-10,{new}:1-3"),
             _facts("old", flavour="mysql", uuid=old, state=f"{old}:1-12"))
    assert j.errant(s) == [f"{old}:11-12"]


@pytest.mark.parametrize("demoted, state", [
    (dict(read_only=True, links=(RUNNING,), position="1-1-5,2-2-9", server_id=1), j.DONE),
    (dict(read_only=False, links=(RUNNING,), server_id=1), j.NOT_YET),  # read-only first
    (dict(read_only=True, links=(j.Link("Connecting", "Yes", error="access denied"),), server_id=1), j.NOT_YET),
    (dict(read_only=True, elsewhere=("10.9.9.9:3306",), server_id=1), j.NOT_YET),
    (dict(read_only=True, links=(j.Link("Yes", "Yes", ssl=False, behind=0),), server_id=1), j.NOT_YET),  # no TLS
])
def test_the_old_primary_replicates_read_only(demoted, state):
    s = _sit(_facts("new", position="2-2-9", server_id=2, read_only=False), _facts("old", **demoted))
    assert j.demoted_replicates(s).state == state
