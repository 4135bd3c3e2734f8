"""The repair checks' verdicts, from tables of what the two nodes answered (pure: no server, no clock)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pairs.repair.judge import CHECKS, DONE, NOT_YET, UNKNOWN, Channel, Context, NodeFacts, covers

OPENED, NOW = 1_000_000.0, 1_000_600.0
UP = NodeFacts("secondary", "ok", flavour="mariadb", server_id=2, uptime=9000, log_bin=True,
               binlog_pos="2-2-5", replica_pos="1-1-90,2-2-5", peer_heartbeat=OPENED - 4000,
               channels=(Channel("db1:3306", True, "Yes", "No", "Duplicate entry '7'", True),))
SOURCE = NodeFacts("primary", "ok", flavour="mariadb", server_id=1, uptime=90000, log_bin=True,
                   binlog_pos="1-1-130,2-2-5", replica_pos="2-2-5",
                   channels=(Channel("db2:3306", True, "Yes", "Yes", "", True),))
# The secondary once the copy is restored (it restarted 60 s ago on the source's data of 100 s ago) ...
RESTORED = replace(UP, uptime=60, binlog_pos="", replica_pos="2-2-5", peer_heartbeat=NOW - 100, channels=())
# ... once its GTID history starts where the copy ends ...
POSITIONED = replace(RESTORED, binlog_pos="1-1-120,2-2-5", replica_pos="1-1-120,2-2-5")
# ... and once it replicates from the primary.
REPLICATING = replace(POSITIONED, channels=(Channel("db1:3306", True, "Yes", "Yes", "", True),))
DOWN = NodeFacts("secondary", "refused", "Can't connect to server on '127.0.0.1' (111)")


def _ctx(target: NodeFacts, source: NodeFacts = SOURCE, baseline: str = "1-1-100,2-2-5", tls: bool = True):
    return Context(target=target, source=source, opened_at=OPENED, now=NOW, baseline=baseline, tls=tls)


TABLE = [
    # (check, target, source, baseline, state, words in the text)
    ("target-stopped", UP, SOURCE, "1-1-100", NOT_YET, "the secondary still answers (server_id 2, up for 9000 s)"),
    ("target-stopped", DOWN, SOURCE, "1-1-100", DONE, "does not answer the monitor (refused"),
    ("target-stopped", replace(DOWN, reach="timeout"), SOURCE, "1-1-100", DONE, "its server is stopped"),
    ("target-stopped", replace(DOWN, reach="auth", error="Access denied"), SOURCE, "", NOT_YET,
     "refused the monitor's login"),
    ("target-stopped", replace(DOWN, reach="error", error="?"), SOURCE, "", UNKNOWN, "cannot tell"),
    ("source-ready", DOWN, SOURCE, "", DONE, "binary log on, at GTID position 1-1-130,2-2-5"),
    ("source-ready", DOWN, replace(SOURCE, reach="refused", error="x"), "", NOT_YET, "it must run to be copied"),
    ("source-ready", DOWN, replace(SOURCE, log_bin=False), "", NOT_YET, "binary log is off"),
    ("source-ready", DOWN, replace(SOURCE, binlog_pos=""), "", NOT_YET, "no GTID position yet"),
    ("target-restored", UP, SOURCE, "1-1-100", NOT_YET, "has run since before this repair began"),
    ("target-restored", DOWN, SOURCE, "1-1-100", NOT_YET, "does not answer the monitor"),
    ("target-restored", replace(DOWN, reach="auth"), SOURCE, "1-1-100", NOT_YET, "monitor account comes with the copy"),
    ("target-restored", replace(RESTORED, peer_heartbeat=None), SOURCE, "1-1-100", NOT_YET, "holds no heartbeat row"),
    ("target-restored", replace(RESTORED, peer_heartbeat=OPENED - 30), SOURCE, "1-1-100", NOT_YET,
     "written 30 s before this repair began"),
    ("target-restored", replace(RESTORED, server_id=1), SOURCE, "1-1-100", NOT_YET, "the primary's server_id 1"),
    ("target-restored", replace(RESTORED, uptime=None), SOURCE, "1-1-100", UNKNOWN, "did not say how long"),
    ("target-restored", RESTORED, SOURCE, "1-1-100", DONE,
     "restarted 60 s ago on a copy of the primary taken 100 s ago"),
    ("target-position", RESTORED, SOURCE, "1-1-100,2-2-5", NOT_YET, "(2-2-5) does not reach the primary's"),
    ("target-position", replace(RESTORED, replica_pos="1-1-120,2-2-5", binlog_pos="2-2-6"), SOURCE, "1-1-100,2-2-5",
     NOT_YET, "binary log state (2-2-6) does not start where the copy ends"),
    ("target-position", POSITIONED, SOURCE, "1-1-100,2-2-5", DONE, "1-1-120,2-2-5 includes the primary's"),
    ("target-position", replace(POSITIONED, replica_pos="1-1-140,2-2-5"), SOURCE, "1-1-100", NOT_YET,
     "goes beyond the primary's"),
    ("target-position", POSITIONED, SOURCE, "", UNKNOWN, "not known"),
    ("target-position", replace(POSITIONED, replica_pos="garbage"), SOURCE, "1-1-100", UNKNOWN, "cannot be read"),
    ("target-position", DOWN, SOURCE, "1-1-100", NOT_YET, "does not answer"),
    ("target-replicates", POSITIONED, SOURCE, "", NOT_YET, "does not replicate from the primary"),
    ("target-replicates", UP, SOURCE, "", NOT_YET, "IO Yes, SQL No: Duplicate entry '7'"),
    ("target-replicates", replace(POSITIONED, channels=(Channel("db9:3306", False, "Yes", "Yes"),)), SOURCE, "",
     NOT_YET, "(it replicates from db9:3306)"),
    ("target-replicates", replace(REPLICATING, channels=(Channel("db1:3306", True, "Yes", "Yes", "", False),)),
     SOURCE, "", NOT_YET, "without TLS"),
    ("target-replicates", REPLICATING, SOURCE, "", DONE,
     "replicates from the primary (db1:3306): IO Yes, SQL Yes, TLS"),
    ("source-replicates", REPLICATING, replace(SOURCE, channels=(Channel("db2:3306", True, "Connecting", "Yes",
                                                                          "error connecting"),)), "", NOT_YET,
     "the primary's threads from the secondary are IO Connecting, SQL Yes: error connecting"),
    ("source-replicates", REPLICATING, SOURCE, "", DONE, "the primary replicates from the secondary"),
]


@pytest.mark.parametrize(("check", "target", "source", "baseline", "state", "words"), TABLE)
def test_checks(check, target, source, baseline, state, words):
    outcome = CHECKS[check](_ctx(target, source, baseline))
    assert (outcome.state, words in outcome.text) == (state, True), outcome.text


def test_a_pair_without_tls_replicates_without_it():
    plain = replace(REPLICATING, channels=(Channel("db1:3306", True, "Yes", "Yes", "", False),))
    assert CHECKS["target-replicates"](_ctx(plain, tls=False)).state == DONE


MYSQL_A, MYSQL_B = "3e11fa47-71ca-11e1-9e33-c80aa9429562", "4e11fa47-71ca-11e1-9e33-c80aa9429562"


@pytest.mark.parametrize(("flavour", "have", "want", "covered"), [
    ("mariadb", "1-1-120,2-2-5", "1-1-100,2-2-5", True),
    ("mariadb", "1-1-99,2-2-5", "1-1-100", False),
    ("mariadb", "2-2-5", "1-1-100", False),
    ("mariadb", "", "", True),
    ("mariadb", "1-1-5,1-3-9", "1-2-7", True),  # a domain's position is its highest seq, whatever the server
    ("mysql", f"{MYSQL_A}:1-100", f"{MYSQL_A}:1-90", True),
    ("mysql", f"{MYSQL_A}:1-80", f"{MYSQL_A}:1-90", False),
    ("mysql", f"{MYSQL_A}:1-100,\n{MYSQL_B}:1-3", f"{MYSQL_B}:2", True),
    ("mysql", f"{MYSQL_A}:1-50:52-100", f"{MYSQL_A}:1-100", False),
    ("mysql", f"{MYSQL_A}:1-100", f"{MYSQL_B}:1", False),
    ("mysql", f"{MYSQL_A}:vault:1-5", f"{MYSQL_A}:vault:3", True),
    ("mysql", f"{MYSQL_A}:1-5", f"{MYSQL_A}:vault:3", False),
])
def test_gtid_coverage(flavour, have, want, covered):
    assert covers(flavour, have, want) is covered


def test_mysql_position_uses_gtid_executed_both_ways():
    source = replace(SOURCE, flavour="mysql", binlog_pos=f"{MYSQL_A}:1-200", replica_pos=f"{MYSQL_A}:1-200")
    cloned = replace(POSITIONED, flavour="mysql", binlog_pos=f"{MYSQL_A}:1-150", replica_pos=f"{MYSQL_A}:1-150")
    assert CHECKS["target-position"](_ctx(cloned, source, f"{MYSQL_A}:1-120")).state == DONE
    errant = replace(cloned, replica_pos=f"{MYSQL_A}:1-150,{MYSQL_B}:1")
    outcome = CHECKS["target-position"](_ctx(errant, source, f"{MYSQL_A}:1-120"))
    assert outcome.state == NOT_YET and "transactions the primary never had" in outcome.text


def test_a_mysql_node_s_own_transactions_are_not_errant_ones():
    """On a bidirectional pair the monitor's heartbeat writes on the rebuilt node reach its source a moment later."""
    source = replace(SOURCE, flavour="mysql", binlog_pos=f"{MYSQL_A}:1-200", replica_pos=f"{MYSQL_A}:1-200")
    own = replace(POSITIONED, flavour="mysql", uuid=MYSQL_B, binlog_pos=f"{MYSQL_A}:1-150,{MYSQL_B}:1-2",
                  replica_pos=f"{MYSQL_A}:1-150,{MYSQL_B}:1-2")
    assert CHECKS["target-position"](_ctx(own, source, f"{MYSQL_A}:1-120")).state == DONE


def test_a_mariadb_position_ahead_of_its_source_in_the_source_s_domain_is_errant():
    errant = replace(POSITIONED, replica_pos="1-2-140,2-2-5")  # the secondary wrote in the primary's domain
    outcome = CHECKS["target-position"](_ctx(errant, SOURCE, "1-1-100,2-2-5"))
    assert outcome.state == NOT_YET and "never had" in outcome.text
