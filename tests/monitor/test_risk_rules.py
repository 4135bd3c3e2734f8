"""Warnings before failures, rule by rule, from tables: a checkup of both nodes -> the warnings it raises. Pure."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.risks import gtid, lint
from monitor.risks.checkup import ChannelCheckup, NodeCheckup, PairCheckup
from monitor.risks.rules import assess
from monitor.risks.rules_base import Unreadable
from monitor.vocabulary import RiskCode

P_UUID, S_UUID, X_UUID = ("3e11fa47-71ca-11e1-9e33-c80aa9429562", "4f22ab58-71ca-11e1-9e33-c80aa9429562",
                          "5a33bc69-71ca-11e1-9e33-c80aa9429562")
MARIA = {"server_id": "1", "auto_increment_increment": "2", "auto_increment_offset": "1", "log_bin": "ON",
         "log_slave_updates": "ON", "binlog_format": "ROW", "sync_binlog": "1", "innodb_flush_log_at_trx_commit": "1",
         "read_only": "OFF", "binlog_expire_logs_seconds": "0", "expire_logs_days": "0.000000",
         "gtid_binlog_state": "1-1-100,2-2-40", "gtid_current_pos": "1-1-100,2-2-40"}
MYSQL = {"server_id": "1", "auto_increment_increment": "1", "auto_increment_offset": "1", "log_bin": "ON",
         "log_replica_updates": "ON", "binlog_format": "ROW", "sync_binlog": "1", "innodb_flush_log_at_trx_commit": "1",
         "read_only": "OFF", "binlog_expire_logs_seconds": "2592000", "gtid_mode": "ON",
         "enforce_gtid_consistency": "ON", "server_uuid": P_UUID, "gtid_executed": f"{P_UUID}:1-100",
         "gtid_purged": f"{P_UUID}:1-10"}
CHANNEL = ChannelCheckup(io_running="Yes", using_gtid="Slave_Pos", ssl_allowed=True)
MY_CHANNEL = ChannelCheckup(io_running="Yes", auto_position=True, ssl_allowed=True)


def node(role: str, flavour: str = "mariadb", channel: ChannelCheckup | None = None, **values) -> NodeCheckup:
    base = dict(MARIA if flavour == "mariadb" else MYSQL)
    if role == "secondary":
        base.update(server_id="2", auto_increment_offset="2", server_uuid=S_UUID, read_only="ON")
    base.update({k: v for k, v in values.items() if not k.startswith("_")})
    version = "10.11.6-MariaDB" if flavour == "mariadb" else "8.4.3"
    default = CHANNEL if flavour == "mariadb" else MY_CHANNEL
    return NodeCheckup(role, f"db-{role}:3306", flavour=flavour, version=version,
                       variables={k: v for k, v in base.items() if v is not None},
                       channels=(channel or default,), binlogs=("mysql-bin.000001",),
                       oldest_gtid_list="[1-1-1]" if flavour == "mariadb" else None)


def pair(topology: str = "bidirectional", flavour: str = "mariadb", away_for: float | None = None,
         primary: dict | None = None, secondary: dict | None = None) -> PairCheckup:
    def build(role: str, changes: dict | None) -> NodeCheckup:
        changes = dict(changes or {})
        fields = {k[1:]: changes.pop(k) for k in list(changes) if k.startswith("_")}
        built = node(role, flavour, **changes)
        return replace(built, **fields)
    return PairCheckup(topology, build("primary", primary), build("secondary", secondary), away_for)


def codes(checkup: PairCheckup) -> list[tuple[str, str, str]]:
    return sorted((r.code, str(r.severity), r.subject) for r in assess(checkup).risks)


def the(checkup: PairCheckup, code: str):
    found = [r for r in assess(checkup).risks if r.code == code]
    assert len(found) == 1, assess(checkup).risks
    return found[0]


DAY = 86400.0
AWAY_CHANNEL = ChannelCheckup(io_running="No", using_gtid="Slave_Pos", ssl_allowed=True)

# (name, checkup, the warnings it raises as (code, severity, subject))
TABLE = [
    ("a healthy MariaDB pair", pair(), []),
    ("a healthy one-way MySQL pair", pair("one-way", "mysql"), []),
    ("logs kept 12 h, replicas connected", pair(primary={"binlog_expire_logs_seconds": "43200"}),
     [(RiskCode.BINLOG_HORIZON, "warning", "primary→secondary")]),
    ("logs kept 3 d, replicas connected: a long horizon says nothing", pair(primary={"expire_logs_days": "3"}), []),
    ("logs kept for ever, replica away for a week", pair(away_for=7 * DAY, secondary={"_error": "refused"}), []),
    ("replica stopped, logs kept 3 d", pair(away_for=2 * DAY, primary={"binlog_expire_logs_seconds": str(3 * DAY)},
                                         secondary={"_channels": (AWAY_CHANNEL,)}),
     [(RiskCode.BINLOG_HORIZON, "warning", "primary→secondary")]),
    ("replica down for 2 d 20 h, logs kept 3 d: critical",
     pair(away_for=2.8 * DAY, primary={"expire_logs_days": "3"}, secondary={"_error": "refused"}),
     [(RiskCode.BINLOG_HORIZON, "critical", "primary→secondary")]),
    ("replica unreachable from the panel only (statuses Alive): no horizon",
     pair(primary={"expire_logs_days": "3"}, secondary={"_error": "timed out"}), []),
    ("source's oldest log starts past the replica's position",
     pair(primary={"_oldest_gtid_list": "[1-1-150,2-2-40]"}, secondary={"gtid_current_pos": "1-1-120,2-2-40"}),
     [(RiskCode.BINLOG_PURGED, "critical", "primary→secondary")]),
    ("the monitor may not list the binary logs",
     pair("one-way", primary={"_binlogs": None, "_binlogs_error": "(1227) Access denied"}),
     [(RiskCode.BINLOG_PURGED, "unknown", "primary→secondary")]),
    ("MySQL source purged transactions the replica lacks",
     pair("one-way", "mysql", primary={"gtid_purged": f"{P_UUID}:1-60"},
          secondary={"gtid_executed": f"{P_UUID}:1-50"}),
     [(RiskCode.BINLOG_PURGED, "critical", "primary→secondary")]),
    ("one-way: a write on the secondary",
     pair("one-way", secondary={"gtid_binlog_state": "1-1-100,2-2-41"}),
     [(RiskCode.ERRANT_TRANSACTIONS, "critical", "secondary")]),
    ("bidirectional: the secondary's own write, in flight", pair(secondary={"gtid_binlog_state": "1-1-100,2-2-41"}),
     []),
    ("bidirectional: a third server's transaction", pair(secondary={"gtid_binlog_state": "1-1-100,2-2-40,3-9-4"}),
     [(RiskCode.ERRANT_TRANSACTIONS, "critical", "secondary")]),
    ("MySQL one-way: the secondary's own transactions",
     pair("one-way", "mysql", secondary={"gtid_executed": f"{P_UUID}:1-100,{S_UUID}:1-3"}),
     [(RiskCode.ERRANT_TRANSACTIONS, "critical", "secondary")]),
    ("MySQL bidirectional: own transactions are legitimate, a third uuid is not",
     pair("bidirectional", "mysql", primary={"auto_increment_increment": "2"},
          secondary={"auto_increment_increment": "2", "read_only": "OFF",
                     "gtid_executed": f"{P_UUID}:1-100,{S_UUID}:1-3,{X_UUID}:7"}),
     [(RiskCode.ERRANT_TRANSACTIONS, "critical", "secondary")]),
    ("the same server_id twice", pair(secondary={"server_id": "1", "auto_increment_offset": "2"}),
     [(RiskCode.SERVER_ID, "critical", "pair")]),
    ("colliding auto-increment offsets", pair(secondary={"auto_increment_offset": "1"}),
     [(RiskCode.AUTO_INCREMENT, "critical", "pair")]),
    ("one-way pairs need no auto-increment offsets", pair("one-way", secondary={"auto_increment_offset": "1"}), []),
    ("MySQL without GTIDs", pair("one-way", "mysql", secondary={"gtid_mode": "OFF_PERMISSIVE"}),
     [(RiskCode.GTID_MODE, "warning", "secondary")]),
    ("MariaDB replicating by file and position",
     pair(secondary={"_channels": (ChannelCheckup(io_running="Yes", using_gtid="No", ssl_allowed=True),)}),
     [(RiskCode.GTID_REPLICATION, "warning", "primary→secondary")]),
    ("log_slave_updates off", pair(primary={"log_slave_updates": "OFF"}),
     [(RiskCode.LOG_REPLICA_UPDATES, "warning", "primary")]),
    ("statement-based binary log", pair(secondary={"binlog_format": "MIXED"}),
     [(RiskCode.BINLOG_FORMAT, "warning", "secondary")]),
    ("sync_binlog=0", pair(primary={"sync_binlog": "0"}), [(RiskCode.DURABILITY, "warning", "primary")]),
    ("innodb_flush_log_at_trx_commit=2", pair(secondary={"innodb_flush_log_at_trx_commit": "2"}),
     [(RiskCode.DURABILITY, "warning", "secondary")]),
    ("a writable secondary of a one-way pair", pair("one-way", "mysql", secondary={"read_only": "OFF"}),
     [(RiskCode.READ_ONLY, "warning", "secondary")]),
    ("replication without TLS",
     pair(primary={"_channels": (ChannelCheckup(io_running="Yes", using_gtid="Slave_Pos", ssl_allowed=False),)}),
     [(RiskCode.TLS, "warning", "secondary→primary")]),
    ("an unreadable value: that rule cannot judge, the others still do",
     pair(primary={"sync_binlog": "lots", "binlog_format": "STATEMENT"}),
     [(RiskCode.BINLOG_FORMAT, "warning", "primary"), (RiskCode.UNREADABLE, "unknown", RiskCode.DURABILITY)]),
    ("an unreadable GTID state", pair("one-way", secondary={"gtid_binlog_state": "1-1"}),
     [(RiskCode.UNREADABLE, "unknown", RiskCode.ERRANT_TRANSACTIONS)]),
]


@pytest.mark.parametrize("name,checkup,expected", TABLE, ids=[row[0] for row in TABLE])
def test_rules(name, checkup, expected):
    assert codes(checkup) == sorted(expected)


def test_time_left_before_the_source_purges_what_the_replica_needs():
    risk = the(pair(away_for=2 * DAY + 3 * 3600, primary={"expire_logs_days": "3"}, secondary={"_error": "refused"}),
               RiskCode.BINLOG_HORIZON)
    assert risk.summary == ("the secondary has been away 2 d 3 h; the primary purges binary logs after 3 d 0 h: "
                            "21 h 0 min left before it can no longer catch up")
    assert risk.evidence["seconds_left"] == 21 * 3600
    assert "SET GLOBAL binlog_expire_logs_seconds" in risk.remediation and "[mariadbd]" in risk.remediation
    assert risk.nodes == ("primary", "secondary")


def test_purged_logs_name_what_is_missing_and_say_rebuild_in_the_servers_words():
    risk = the(pair(primary={"_oldest_gtid_list": "[1-1-150,2-2-40]"},
                    secondary={"gtid_current_pos": "1-1-120,2-2-40"}), RiskCode.BINLOG_PURGED)
    assert "domain 1: up to seq 150, the secondary stands at 120" in risk.summary
    assert "mariabackup" in risk.remediation and "{" not in risk.remediation
    mysql = the(pair("one-way", "mysql", primary={"gtid_purged": f"{P_UUID}:1-60"},
                     secondary={"gtid_executed": f"{P_UUID}:1-50"}), RiskCode.BINLOG_PURGED)
    assert f"{P_UUID}:51-60" in mysql.summary and "clone plugin" in mysql.remediation


def test_a_missing_grant_is_named():
    risk = the(pair("one-way", primary={"_binlogs": None, "_binlogs_error": "(1227) Access denied"}),
               RiskCode.BINLOG_PURGED)
    assert "cannot see the primary's binary logs" in risk.summary
    assert "GRANT BINLOG MONITOR ON *.*" in risk.remediation


def test_errant_remediation_names_the_gtids():
    maria = the(pair("one-way", secondary={"gtid_binlog_state": "1-1-100,2-2-41"}), RiskCode.ERRANT_TRANSACTIONS)
    assert "2-2-41" in maria.summary and "2-2-41" in maria.remediation and "mariadb-binlog" in maria.remediation
    mysql = the(pair("one-way", "mysql", secondary={"gtid_executed": f"{P_UUID}:1-100,{S_UUID}:1-3"}),
                RiskCode.ERRANT_TRANSACTIONS)
    assert mysql.summary.startswith("the secondary has executed 3 transaction(s)")
    assert f"SET GTID_NEXT='{S_UUID}:1'" in mysql.remediation and f"{S_UUID}:1-3" in mysql.remediation


@pytest.mark.parametrize("flavour,words,not_words", [
    ("mariadb", ["SET GLOBAL sync_binlog = 1", "[mariadbd]"], ["SET PERSIST", "[mysqld]"]),
    ("mysql", ["SET PERSIST sync_binlog = 1", "[mysqld]"], ["SET GLOBAL", "[mariadbd]"]),
])
def test_lint_remediation_is_in_the_servers_syntax(flavour, words, not_words):
    risk = the(pair("one-way", flavour, primary={"sync_binlog": "0"}), RiskCode.DURABILITY)
    assert all(w in risk.remediation for w in words) and not any(w in risk.remediation for w in not_words)
    assert risk.summary.startswith("the primary is not crash-safe: sync_binlog = 0")


def test_an_unread_node_is_blind_not_healed():
    a = assess(pair(secondary={"_error": "refused"}))
    assert a.blind == frozenset({"secondary"})


@pytest.mark.parametrize("p_inc,p_off,s_inc,s_off,collides", [
    (2, 1, 2, 2, False), (2, 1, 2, 1, True), (1, 1, 1, 1, True), (2, 1, 2, 3, True),  # 3 > 2: ignored, so 1
    (3, 1, 3, 2, False), (2, 2, 4, 4, True), (2, 1, 4, 4, False), (10, 1, 10, 2, False),
])
def test_auto_increment_collisions(p_inc, p_off, s_inc, s_off, collides):
    assert lint.collide(p_inc, p_off, s_inc, s_off) is collides


@pytest.mark.parametrize("a,b,expected", [
    (f"{P_UUID}:1-10", f"{P_UUID}:1-5", f"{P_UUID}:6-10"),
    (f"{P_UUID}:1-10", f"{P_UUID}:3-4:8", f"{P_UUID}:1-2:5-7:9-10"),
    (f"{P_UUID}:1-10,\n{S_UUID}:1", f"{P_UUID}:1-10", f"{S_UUID}:1"),
    (f"{P_UUID}:1-3:4-5", "", f"{P_UUID}:1-5"),
    (f"{P_UUID}:tag1:1-2", f"{P_UUID}:1-2", f"{P_UUID}:tag1:1-2"),
    ("", f"{P_UUID}:1", ""),
])
def test_mysql_gtid_subtract(a, b, expected):
    assert gtid.mysql_text(gtid.subtract(gtid.mysql_set(a), gtid.mysql_set(b))) == expected


@pytest.mark.parametrize("text", ["1-1", "x-1-2", f"{P_UUID}:5-3", "not-a-uuid:1"])
def test_gtid_garbage_is_unreadable(text):
    with pytest.raises(Unreadable):
        gtid.mysql_set(text) if ":" in text else gtid.maria_state(text)


def test_mariadb_states_per_domain():
    assert gtid.per_domain(gtid.maria_state("[0-1-5,0-2-9,1-1-3]")) == {0: 9, 1: 3}
    assert gtid.maria_state("") == {}
