"""The binlog horizon, per direction: how long the replica may stay away before its source purges binary logs it
still needs, and whether it already has. Pure.

The source keeps its binary logs `binlog_expire_logs_seconds` (or `expire_logs_days`) after they were written.
The events a replica has not fetched were written after it went away, so the file holding them goes no earlier
than that long after: the time left is at least the expiry less the time away. Whether the source still holds
what the replica needs is exact: the replica's GTID position against the state the source's oldest binary log
starts from (MariaDB) or `gtid_purged` (MySQL).
"""

from __future__ import annotations

from hapanel.durations import humanize
from monitor.causes import REMEDIATION
from monitor.risks import gtid
from monitor.risks.checkup import Direction, PairCheckup, Risk, directions
from monitor.risks.rules_base import flag, number, risk
from monitor.server_sql import binlog_privilege
from monitor.vocabulary import Cause, RiskCode, Severity

# A horizon shorter than this is a warning even while every replica is connected: an outage over a weekend
# (or a replica rebuilt from a backup a day old) would need logs the source no longer holds.
SHORT_HORIZON = 86400.0

_AWAY = ("the {replica} has been away {away}; the {source} purges binary logs after {expiry}: {left} left "
         "before it can no longer catch up")
_GONE = ("the {replica} has been away {away}, longer than the {source} keeps binary logs ({expiry}): what it "
         "needs may be purged already")
_SHORT = ("the {source} purges binary logs after {expiry}: a {replica} away longer than that (an outage over a "
          "weekend) can no longer catch up and must be rebuilt")
_KEEP = ("Bring the {replica} back before the horizon, or keep binary logs longer on the {source} while it is away: "
         "{set_global} binlog_expire_logs_seconds = {suggested} (and the same under {cnf_section} in its option "
         "file); check the disk space that takes.")
_PURGED = ("the {source} has purged binary logs the {replica} still needs ({missing}): when it reconnects, its IO "
           "thread stops with error 1236")
_UNSEEN = ("cannot see the {source}'s binary logs ({error}): whether they still hold what the {replica} needs "
           "is unknown")
_GRANT = "Grant the monitor account {grant} on the {source}: GRANT {grant} ON *.* TO <monitor account>."


def expiry(c: PairCheckup, d: Direction) -> float | None:
    """Seconds the source keeps its binary logs: 0 for ever, None when it does not say."""
    seconds = number(d.source, "binlog_expire_logs_seconds")
    days = number(d.source, "expire_logs_days")
    if seconds is None and days is None:
        return None
    if seconds:  # MySQL: takes precedence; MariaDB 10.6+: the two are one setting
        return seconds
    return (days or 0.0) * 86400


def away(c: PairCheckup, d: Direction) -> float | None:
    """How long the replica has been away from its source; None while it fetches from it."""
    if not d.replica.read:
        return c.away_for  # down or cut off: the recorded statuses know since when (None: only the panel's path)
    ch = d.channel()
    if ch is None or ch.io_running == "Yes":
        return None
    return c.away_for or 0.0


def horizon(c: PairCheckup) -> list[Risk]:
    out = []
    for d in directions(c):
        if not d.source.read or flag(d.source, "log_bin") is False:
            continue
        keep = expiry(c, d)
        if not keep:
            continue  # never purged (or not said): no horizon
        gone_for = away(c, d)
        ctx = {"replica": d.rep_role, "source": d.src_role, "expiry": humanize(keep),
               "suggested": int(max(keep * 2, (gone_for or 0) * 2, 7 * 86400))}
        ev = {"direction": d.label, "expire_seconds": keep, "away_seconds": gone_for}
        if gone_for is not None:
            left = keep - gone_for
            ev["seconds_left"] = left
            severity = Severity.CRITICAL if left < keep / 4 else Severity.WARNING
            text = _AWAY if left > 0 else _GONE
            out.append(risk(RiskCode.BINLOG_HORIZON, severity, d.label, text, _KEEP, d.source, ev,
                            (d.src_role, d.rep_role), away=humanize(gone_for), left=humanize(left), **ctx))
        elif keep < SHORT_HORIZON:
            out.append(risk(RiskCode.BINLOG_HORIZON, Severity.WARNING, d.label, _SHORT, _KEEP, d.source, ev,
                            (d.src_role,), **ctx))
    return out


def purged(c: PairCheckup) -> list[Risk]:
    out = []
    for d in directions(c):
        if not (d.source.read and d.replica.read) or flag(d.source, "log_bin") is False:
            continue
        ctx = {"replica": d.rep_role, "source": d.src_role}
        nodes = (d.src_role, d.rep_role)
        if d.source.flavour == "mariadb" and d.source.binlogs_error:
            grant = binlog_privilege(mysql=False)
            out.append(risk(RiskCode.BINLOG_PURGED, Severity.UNKNOWN, d.label, _UNSEEN, _GRANT, d.source,
                            {"direction": d.label, "error": d.source.binlogs_error, "grant": grant}, nodes,
                            error=d.source.binlogs_error, grant=grant, **ctx))
            continue
        missing, ev = _missing(d)
        if missing:
            ev.update(direction=d.label, missing=missing)
            out.append(risk(RiskCode.BINLOG_PURGED, Severity.CRITICAL, d.label, _PURGED,
                            REMEDIATION[Cause.BINLOG_MISSING], d.replica, ev, nodes, missing=missing, **ctx))
    return out


def _missing(d: Direction) -> tuple[str, dict]:
    """The transactions the replica needs that the source no longer holds, as text ("" when none)."""
    if d.source.flavour == "mysql":
        purged_set = gtid.mysql_set(d.source.var("gtid_purged"))
        have = gtid.mysql_set(d.replica.var("gtid_executed"))
        lost = gtid.subtract(purged_set, have)
        return gtid.mysql_text(lost), {"source_gtid_purged": d.source.var("gtid_purged") or "",
                                       "replica_gtid_executed": d.replica.var("gtid_executed") or ""}
    if d.source.oldest_gtid_list is None:
        return "", {}
    oldest = gtid.per_domain(gtid.maria_state(d.source.oldest_gtid_list))
    position = d.replica.var("gtid_current_pos") or ""
    have = gtid.per_domain(gtid.maria_state(position))
    lost = [f"domain {domain}: up to seq {seq}, the {d.rep_role} stands at {have.get(domain, 0)}"
            for domain, seq in sorted(oldest.items()) if have.get(domain, 0) < seq]
    oldest_log = d.source.binlogs[0] if d.source.binlogs else ""
    return "; ".join(lost), {"source_oldest_binlog": oldest_log, "oldest_binlog_starts_at": d.source.oldest_gtid_list,
                             "replica_gtid_current_pos": position}
