"""Errant transactions: GTIDs the secondary executed that the primary does not have. Pure.

A failover to such a secondary, or a rebuild of the primary from it, carries changes the primary never had; a
failback loses them. In a one-way pair nothing may originate on the secondary. In a bidirectional pair each node
legitimately writes under its own server id (those replicate to the other, or are in flight), so only
transactions of a third server count: an old node, a restored backup, a server id changed by hand.
"""

from __future__ import annotations

from monitor.risks import gtid
from monitor.risks.checkup import PairCheckup, Risk
from monitor.risks.rules_base import number, risk
from monitor.vocabulary import RiskCode, Severity

_SUMMARY = ("the secondary has executed {count} transaction(s) the primary does not have: {gtids}; a failover "
            "to it, or a failback, would carry or lose them")
_MARIADB = ("Look at them on the secondary ({binlog_tool} on its binary logs, or SHOW BINLOG EVENTS, searching "
            "for {gtid_list}); then apply the same change on the primary, or undo it on the secondary, or rebuild the "
            "secondary from the primary ({reseed}). Keep read_only=ON on the secondary of a one-way pair.")
_MYSQL = ("Look at them on the secondary ({binlog_tool} --include-gtids='{gtid_list}' on its binary logs); apply the "
          "same change on the primary, or, where the primary must not have it, rebuild the secondary ({reseed}). "
          "Where the primary already has the change, mark each of {gtid_list} done there with an empty "
          "transaction, e.g. SET GTID_NEXT='{first}'; BEGIN; COMMIT; SET GTID_NEXT='AUTOMATIC';")


def errant(c: PairCheckup) -> list[Risk]:
    p, s = c.primary, c.secondary
    if not (p.read and s.read):
        return []
    own = c.topology == "bidirectional"
    if s.flavour == "mysql":
        extra = gtid.subtract(gtid.mysql_set(s.var("gtid_executed")), gtid.mysql_set(p.var("gtid_executed")))
        if own:
            mine = {(p.var("server_uuid") or "").lower(), (s.var("server_uuid") or "").lower()}
            extra = {k: v for k, v in extra.items() if k.split(":")[0] not in mine}
        if not extra:
            return []
        text = listed = gtid.mysql_text(extra)
        lowest = sorted(extra)[0]
        first = f"{lowest}:{extra[lowest][0][0]}"
        n, template = gtid.count(extra), _MYSQL
        ev = {"errant": text, "secondary_gtid_executed": s.var("gtid_executed") or "",
              "primary_gtid_executed": p.var("gtid_executed") or ""}
    else:
        ids = {int(x) for x in (number(p, "server_id"), number(s, "server_id")) if x is not None}
        mine_s, theirs = gtid.maria_state(s.var("gtid_binlog_state")), gtid.maria_state(p.var("gtid_binlog_state"))
        lines = []
        for (domain, server), seq in sorted(mine_s.items()):
            have = theirs.get((domain, server), 0)
            if seq > have and not (own and server in ids):
                lines.append((gtid.maria_text(domain, server, seq), have))
        if not lines:
            return []
        text = ", ".join(f"{g} (the primary's last from that server: {have or 'none'})" for g, have in lines)
        first, n, template = lines[0][0], len(lines), _MARIADB
        listed = ", ".join(g for g, _ in lines)
        ev = {"errant": [g for g, _ in lines], "secondary_gtid_binlog_state": s.var("gtid_binlog_state") or "",
              "primary_gtid_binlog_state": p.var("gtid_binlog_state") or ""}
    count = f"{n}" if s.flavour == "mysql" else f"at least {n}"
    return [risk(RiskCode.ERRANT_TRANSACTIONS, Severity.CRITICAL, "secondary", _SUMMARY, template, s, ev,
                 ("primary", "secondary"), count=count, gtids=text, first=first, gtid_list=listed)]
