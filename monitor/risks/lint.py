"""Configuration that will break the pair, or make a failure worse: one rule per setting, per node or direction,
in the words of the node's flavour. Pure.

Each node is checked as a source and as a replica: after a failover each plays the other's part.
"""

from __future__ import annotations

from collections.abc import Iterator
from math import gcd

from monitor.risks.checkup import NodeCheckup, PairCheckup, Risk, directions
from monitor.risks.rules_base import Unreadable, flag, number, risk
from monitor.vocabulary import RiskCode, Severity

_SERVER_ID = ("both nodes have server_id {server_id}: each skips the other's changes as its own, and the pair "
              "silently diverges")
_SERVER_ID_FIX = ("Give one node another server_id: {set_global} server_id = <a number unused in the pair> and the "
                  "same under {cnf_section} in its option file, then {stop_replica}; {start_replica} on both.")
_AUTO_INC = ("auto_increment_increment/offset collide: the primary uses {p_inc}/{p_off}, the secondary {s_inc}/"
             "{s_off}, so both nodes can hand out the same AUTO_INCREMENT value and replication stops on a "
             "duplicate key")
_AUTO_INC_FIX = ("On both nodes {set_global} auto_increment_increment = 2, and auto_increment_offset = 1 on the "
                 "primary and 2 on the secondary; write the same under {cnf_section} in their option files.")
_GTID_MODE = "GTIDs are off on the {node} (gtid_mode={gtid_mode}, enforce_gtid_consistency={enforce})"
_GTID_MODE_FIX = ("Turn GTIDs on, online and in order: {set_global} enforce_gtid_consistency = ON; then gtid_mode = "
                  "OFF_PERMISSIVE, ON_PERMISSIVE, ON; write both under {cnf_section}. Failover and the errant "
                  "transaction check need them.")
_GTID_REPL = ("the {replica} replicates from the {source} by file and position ({what}), not by GTID: after a "
              "failover it cannot find its place on the new source")
_GTID_REPL_FIX = "On the {replica}: {stop_replica}; {change_source} {gtid_option}; {start_replica}."
_LOG_UPDATES = ("{log_replica_updates} is OFF on the {node}: it does not log what it replicates, so a node that "
                "replicates from it after a failover misses those changes")
_LOG_UPDATES_FIX = ("Set {log_replica_updates} = ON under {cnf_section} in the {node}'s option file and restart "
                    "{server} there.")
_FORMAT = ("binlog_format is {value} on the {node}: statement-based events can apply differently on the other "
           "node and diverge it")
_FORMAT_FIX = ("{set_global} binlog_format = 'ROW' on the {node} and binlog_format = ROW under {cnf_section}; "
               "replication threads take it after {stop_replica}; {start_replica}.")
_DURABLE = ("the {node} is not crash-safe: {what}: a crash of its host can lose committed transactions, or leave "
            "the binary log and the data disagreeing, and replication breaks")
_DURABLE_FIX = ("{set_global} sync_binlog = 1; {set_global} innodb_flush_log_at_trx_commit = 1 on the {node}, "
                "and the same under {cnf_section} in its option file.")
_READ_ONLY = ("read_only is OFF on the secondary of a one-way pair: a write there diverges it from the primary "
              "(an errant transaction)")
_READ_ONLY_FIX = ("{set_global} read_only = ON on the secondary and read_only = ON under {cnf_section}; replication "
                  "still applies, and the monitor writes its heartbeat on the primary only.")
_TLS = "replication {direction} runs without TLS (SSL allowed: No): the data and passwords cross the network in clear"
_TLS_FIX = ("On the {replica}: {stop_replica}; {change_source} {ssl_option} with the {source}'s CA; "
            "{start_replica}.")


def _nodes(c: PairCheckup) -> Iterator[NodeCheckup]:
    yield from (n for n in (c.primary, c.secondary) if n.read)


def server_id(c: PairCheckup) -> list[Risk]:
    if not (c.primary.read and c.secondary.read):
        return []
    ids = number(c.primary, "server_id"), number(c.secondary, "server_id")
    if ids[0] is None or ids[0] != ids[1]:
        return []
    return [risk(RiskCode.SERVER_ID, Severity.CRITICAL, "pair", _SERVER_ID, _SERVER_ID_FIX, c.secondary,
                 {"server_id": int(ids[0])}, ("primary", "secondary"), server_id=int(ids[0]))]


def _offset(increment: int, offset: int) -> int:
    """The offset the server uses: one larger than the increment is ignored (MySQL and MariaDB alike)."""
    return offset if offset <= increment else 1


def collide(p_inc: int, p_off: int, s_inc: int, s_off: int) -> bool:
    """Whether offset + k·increment on one node meets offset + j·increment on the other."""
    p_inc, s_inc = max(p_inc, 1), max(s_inc, 1)
    return (_offset(s_inc, s_off) - _offset(p_inc, p_off)) % gcd(p_inc, s_inc) == 0


def auto_increment(c: PairCheckup) -> list[Risk]:
    if c.topology != "bidirectional" or not (c.primary.read and c.secondary.read):
        return []
    values = [number(n, name) for n in (c.primary, c.secondary)
              for name in ("auto_increment_increment", "auto_increment_offset")]
    if any(v is None for v in values):
        return []
    p_inc, p_off, s_inc, s_off = (int(v) for v in values)  # type: ignore[arg-type]
    if not collide(p_inc, p_off, s_inc, s_off):
        return []
    ev = {"primary": {"increment": p_inc, "offset": p_off}, "secondary": {"increment": s_inc, "offset": s_off}}
    return [risk(RiskCode.AUTO_INCREMENT, Severity.CRITICAL, "pair", _AUTO_INC, _AUTO_INC_FIX, c.primary, ev,
                 ("primary", "secondary"), p_inc=p_inc, p_off=p_off, s_inc=s_inc, s_off=s_off)]


def gtid_mode(c: PairCheckup) -> list[Risk]:
    out = []
    for n in _nodes(c):
        if n.flavour != "mysql":
            continue  # MariaDB always logs GTIDs; whether replication uses them is per channel, below
        mode, enforce = n.var("gtid_mode"), n.var("enforce_gtid_consistency")
        if mode is None or (mode.upper() == "ON" and (enforce or "").upper() == "ON"):
            continue
        out.append(risk(RiskCode.GTID_MODE, Severity.WARNING, n.role, _GTID_MODE, _GTID_MODE_FIX, n,
                        {"gtid_mode": mode, "enforce_gtid_consistency": enforce}, (n.role,), node=n.role,
                        gtid_mode=mode, enforce=enforce))
    for d in directions(c):
        ch = d.channel() if d.replica.read else None
        if ch is None:
            continue
        if d.replica.flavour == "mysql":
            off, what = ch.auto_position is False, "Auto_Position=0"
        else:
            off, what = (ch.using_gtid or "").lower() == "no", "Using_Gtid=No"
        if off:
            out.append(risk(RiskCode.GTID_REPLICATION, Severity.WARNING, d.label, _GTID_REPL, _GTID_REPL_FIX,
                            d.replica, {"direction": d.label, "setting": what}, (d.rep_role,),
                            replica=d.rep_role, source=d.src_role, what=what))
    return out


def log_replica_updates(c: PairCheckup) -> list[Risk]:
    return [risk(RiskCode.LOG_REPLICA_UPDATES, Severity.WARNING, n.role, _LOG_UPDATES, _LOG_UPDATES_FIX, n,
                 {"log_replica_updates": False}, (n.role,), node=n.role)
            for n in _nodes(c) if flag(n, "log_replica_updates", "log_slave_updates") is False]


def binlog_format(c: PairCheckup) -> list[Risk]:
    out = []
    for n in _nodes(c):
        value = n.var("binlog_format")
        if value is not None and value.strip().upper() != "ROW":
            out.append(risk(RiskCode.BINLOG_FORMAT, Severity.WARNING, n.role, _FORMAT, _FORMAT_FIX, n,
                            {"binlog_format": value}, (n.role,), node=n.role, value=value.strip().upper()))
    return out


def durability(c: PairCheckup) -> list[Risk]:
    out = []
    for n in _nodes(c):
        found = {name: number(n, name) for name in ("sync_binlog", "innodb_flush_log_at_trx_commit")}
        weak = {name: value for name, value in found.items() if value is not None and value != 1}
        if weak:
            what = ", ".join(f"{name} = {value:g}" for name, value in weak.items())
            out.append(risk(RiskCode.DURABILITY, Severity.WARNING, n.role, _DURABLE, _DURABLE_FIX, n,
                            {name: v for name, v in found.items() if v is not None}, (n.role,), node=n.role,
                            what=what))
    return out


def read_only(c: PairCheckup) -> list[Risk]:
    s = c.secondary
    if c.topology != "one-way" or not s.read or flag(s, "read_only") is not False:
        return []
    return [risk(RiskCode.READ_ONLY, Severity.WARNING, "secondary", _READ_ONLY, _READ_ONLY_FIX, s,
                 {"read_only": False}, ("secondary",))]


def tls(c: PairCheckup) -> list[Risk]:
    out = []
    for d in directions(c):
        ch = d.channel() if d.replica.read else None
        if ch is not None and ch.ssl_allowed is False:
            out.append(risk(RiskCode.TLS, Severity.WARNING, d.label, _TLS, _TLS_FIX, d.replica,
                            {"direction": d.label, "ssl_allowed": False}, (d.rep_role,), direction=d.label,
                            replica=d.rep_role, source=d.src_role))
    return out


RULES = {
    RiskCode.SERVER_ID: server_id, RiskCode.AUTO_INCREMENT: auto_increment, RiskCode.GTID_MODE: gtid_mode,
    RiskCode.LOG_REPLICA_UPDATES: log_replica_updates, RiskCode.BINLOG_FORMAT: binlog_format,
    RiskCode.DURABILITY: durability, RiskCode.READ_ONLY: read_only, RiskCode.TLS: tls,
}
__all__ = ["RULES", "Unreadable", "collide"]
