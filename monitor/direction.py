"""Status rules for one direction (source -> replica): is its link up, is its data applied?

Pure: no Django, no sockets, no clock. A direction trusts first the replica's threads, then the heartbeat,
then the monitor's own connections (the order measured on MariaDB, in docs/architecture.md). The monitor's
own failure to reach a node (refused, timed out, unroutable) is evidence about the monitor's path: where the
node's peer can be read, the peer's view decides whether the node is gone. `monitor.evaluate` combines the
directions into the pair's statuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from monitor import causes
from monitor.reading_values import (
    Unreadable,
    as_int,
    as_num,
    as_state,
    channel_of,
    opt_int,
    plain_value,
    reach_of,
)
from monitor.readings import Heartbeat, NodeReading, PairReadings, Reach, ReplicationChannel, Verdict
from monitor.vocabulary import Cause as C
from monitor.vocabulary import Status

IO_STATES = ("Yes", "Connecting", "Preparing", "No")
NETWORK_ERRNOS = frozenset({0, 2002, 2003, 2005, 2006, 2013})  # "cannot reach the source", by family
# The monitor's path failed: a firewall, a moved port or a dead host look the same from here.
PATH_FAILURES = (Reach.REFUSED, Reach.TIMEOUT, Reach.ERROR)
# A living source sends its replica something (events, or a heartbeat event when idle) every heartbeat
# period; nothing for this many periods, while the monitor kept reading, is a silent source.
QUIET_PERIODS = 2.5
FATAL_IO = {2026: C.TLS_FAILURE, 1045: C.AUTH_FAILURE, 1236: C.BINLOG_MISSING}
_CHANNEL_EVIDENCE = ("source_host", "source_port", "io_running", "sql_running", "last_io_errno",
                     "last_io_error", "last_sql_errno", "last_sql_error", "seconds_behind")
# The OS errno inside a client message: (111 "Connection refused") / system error: 104
_INNER_ERRNO = re.compile(r'\((\d+)[ "]|system error: (\d+)')


@dataclass
class Direction:
    source: NodeReading
    replica: NodeReading
    src_role: str  # by position in PairReadings, not NodeReading.role, which the rules need not trust
    rep_role: str
    topology: str
    reverse_io_yes: bool = False  # bidirectional: the source pulls from this replica (IO Yes), so it is up
    previous_cause: str = ""  # the pair's HA cause before this poll ("" when not known)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.src_role}→{self.rep_role}"


# --- one direction ----------------------------------------------------------------------------------------


def _heartbeat(d: Direction, r: PairReadings) -> tuple[str, float | None, str]:
    """fresh / stale / unwritten (stale only because the monitor could not write it) / missing."""
    hb = d.replica.peer_heartbeat
    if hb is None:
        return "missing", None, "not read"
    if not isinstance(hb, Heartbeat):
        raise Unreadable(f"peer_heartbeat={hb!r}")
    if hb.error:
        return "missing", None, str(hb.error)
    if hb.age is None:
        return "missing", None, "no heartbeat row yet"
    age = as_num(hb.age)
    if age is None:
        raise Unreadable(f"heartbeat age={hb.age!r}")
    stale_after = as_num(r.heartbeat_stale)
    if hb.caught_up is True or age <= (stale_after if stale_after is not None else 1.0):
        return "fresh", age, ""
    return ("stale" if d.source.heartbeat_written is True else "unwritten"), age, ""


def verdict(status: Status, cause: str, case: str, d: Direction, ch: ReplicationChannel | None = None, **extra: object
       ) -> Verdict:
    """A direction's verdict: evidence from the readings, text from causes.py."""
    src, rep = d.source, d.replica
    ev: dict[str, object] = {"direction": d.label, "node": d.rep_role, "source": d.src_role,
                             "heartbeat_written_on_source": src.heartbeat_written}
    ev.update({k: getattr(rep, k) for k in ("address", "reach", "errno", "error")})
    ev.update({f"source_{k}": getattr(src, k) for k in ("address", "reach", "errno")})
    if ch is not None:
        ev.update({k: getattr(ch, k) for k in _CHANNEL_EVIDENCE}, channel=ch.name)
        if isinstance(rep.channels, tuple | list) and len(rep.channels) > 1:
            ev["multi_source"] = [c.name for c in rep.channels]  # the default ("") channel was judged
    ev.update(extra)
    ev = {k: plain_value(v) for k, v in ev.items()}
    age = ev.get("heartbeat_age")
    errno = ev.get("last_io_errno")
    quiet = ev.get("source_quiet_for")
    io_desc = f"{ev.get('io_running')} ({errno})" if errno else ev.get("io_running")
    replica_view = (f"the {d.rep_role} has received nothing from it for {quiet:.1f} s (its IO thread still says "
                    "Yes)" if ev.get("io_running") == "Yes" and isinstance(quiet, float)
                    else f"the {d.rep_role}'s IO thread is {io_desc}")
    ctx = dict(ev, replica=d.rep_role, replica_addr=rep.address, replica_reach=ev["reach"],
               flavour=str(rep.flavour or src.flavour or ""), version=str(rep.version or src.version or ""),
               replica_error=f": {rep.error}" if rep.error else "", source_addr=src.address,
               source_reach=ev["source_reach"], topology=d.topology, io_errno=errno,
               io_error=str(ev.get("last_io_error", ""))[:200], sql_errno=ev.get("last_sql_errno"),
               sql_error=str(ev.get("last_sql_error", ""))[:200], sbm=ev.get("seconds_behind"),
               age=f"{age:.1f} s" if isinstance(age, float) else "not available",
               io_desc=io_desc, replica_view=replica_view,
               replica_how="connection refused" if rep.reach == Reach.REFUSED else f"{rep.reach} from the monitor",
               source_seen="both nodes" if src.reach == Reach.OK
               else f"only the {d.rep_role} (the {d.src_role}: {ev['source_reach']})")
    return Verdict(status, cause, causes.summary(case, ctx), causes.remediation(cause, ctx), ev)


def reach_cause(node: NodeReading, role: str) -> str:
    reach = reach_of(node)
    return {Reach.AUTH: C.MONITOR_AUTH_FAILURE,
            Reach.TLS: C.MONITOR_TLS_FAILURE}.get(reach, C.for_role(role, "unreachable"))


def _no_channel(d: Direction) -> Verdict:
    if d.replica.parse_error:  # it may have a channel the probe could not parse
        return verdict(Status.UNKNOWN, C.UNREADABLE, C.UNREADABLE, d, detail=d.replica.parse_error)
    return verdict(Status.FAILED, C.NOT_CONFIGURED, C.NOT_CONFIGURED, d)


def _replica_refused(errno: int, message: object) -> bool:
    """The replica's last connect to its source was refused or reset: the source's port was closed to it."""
    found = _INNER_ERRNO.search(message if isinstance(message, str) else "")
    inner = int(next(g for g in found.groups() if g)) if found else None
    return (errno, inner) in ((2003, 111), (2013, 104))


def _lost_source(d: Direction, replica_refused: bool) -> tuple[str, str]:
    """Neither the monitor nor the replica reaches the source: what the pair has lost."""
    src = d.source
    if reach_of(src) == Reach.TIMEOUT and src.errno == 2013:  # TCP accepted, then not a word: a hung server
        return C.for_role(d.src_role, "hung"), "source-hung"
    if reach_of(src) == Reach.REFUSED:  # its port is closed to everyone: the process is gone
        return C.for_role(d.src_role, "down"), "source-down"
    if replica_refused:
        return C.for_role(d.src_role, "down"), "source-down-by-replica"
    # Silence on both paths: the host is off, or cut from both. The rules take the panel to sit on the
    # primary's side of the network: a silent primary is gone for everyone, a silent secondary may be
    # alive on the far side of a partition, and the pair has lost the link to it.
    if d.src_role == "primary":
        return C.PRIMARY_DOWN, "source-silent"
    return C.LINK_CUT, "source-isolated"


def _link_down_cause(io: str, errno: int, message: object, d: Direction) -> tuple[str, str]:
    """Cause word and summary case for a replica whose IO thread is not connected."""
    if errno in FATAL_IO:
        cause = _fatal(errno, d)
        return cause, cause
    if io == "No":
        if errno == 0:
            return C.STOPPED_BY_OPERATOR, "io-stopped"
        if errno not in NETWORK_ERRNOS:
            return C.IO_ERROR, C.IO_ERROR
    refused = _replica_refused(errno, message)
    src_reach = reach_of(d.source)
    if src_reach == Reach.OK:
        # A source that was down and answers again: its replica reconnects within MASTER_CONNECT_RETRY,
        # and until then its last error still says refused (or nothing yet). That is the end of the
        # outage, not a cut link; a cut would end the replica's next attempt in a timeout instead.
        if d.previous_cause == C.for_role(d.src_role, "down") and (refused or errno == 0):
            return C.for_role(d.src_role, "down"), "source-back"
        # A node back from a silent outage (host off) pulls from its peer again within MASTER_CONNECT_RETRY;
        # its IO thread's last error is the timeout it met while it was away.
        if d.previous_cause == C.for_role(d.rep_role, "down") and errno in NETWORK_ERRNOS:
            return C.for_role(d.rep_role, "down"), "replica-back"
        return C.LINK_CUT, "link-down"
    if src_reach in PATH_FAILURES:
        return _lost_source(d, refused)
    # The monitor's own login fails (auth/tls): trust the replica's errno family.
    if refused:
        return C.for_role(d.src_role, "down"), "source-down-by-replica"
    return C.LINK_CUT, "link-down"


def _quiet(ch: ReplicationChannel) -> float | None:
    """Seconds the replica has received nothing from its source beyond what a living source allows."""
    quiet, period = as_num(ch.quiet_for), as_num(ch.heartbeat_period)
    if quiet is None or period is None or period <= 0 or quiet <= QUIET_PERIODS * period:
        return None
    return quiet


def _unreachable_warning(node: NodeReading, role: str, peer_role: str) -> str:
    return (f"the {role} ({node.address}) is unreachable from the panel ({node.reach}"
            f"{': ' if node.error else ''}{node.error}), but the {peer_role} still replicates from it")


def judge_link(d: Direction, r: PairReadings) -> Verdict:
    """Is the link of this direction up?"""
    src, rep = d.source, d.replica
    if reach_of(rep) != Reach.OK:
        if d.reverse_io_yes:  # the node is up and pulls from its peer: the link between them exists
            d.warnings.append(_unreachable_warning(rep, d.rep_role, d.src_role) + f": {d.label} cannot be "
                              "checked")
            return verdict(Status.ALIVE, C.OK, "replica-blind", d)
        if reach_of(rep) == Reach.REFUSED and d.topology == "one-way":
            # Nothing else sees a one-way pair's replica: its refused port is the only sign it is gone.
            return verdict(Status.FAILED, C.for_role(d.rep_role, "down"), "replica-down", d)
        # Bidirectional: the node is also a replica; the other direction judges it by its peer's view.
        return verdict(Status.UNKNOWN, reach_cause(rep, d.rep_role), "replica-unreachable", d)
    ch = channel_of(rep)
    if ch is None:
        return _no_channel(d)
    io = as_state(ch.io_running, IO_STATES, "io_running")
    errno = as_int(ch.last_io_errno, "last_io_errno")
    hb, age, why = _heartbeat(d, r)
    ev = {"heartbeat": hb, "heartbeat_age": age, "source_quiet_for": as_num(ch.quiet_for)}
    if hb == "missing":
        d.warnings.append(f"heartbeat missing on the {d.rep_role} ({rep.address}): {why}: "
                          "falling back to replica threads")
    # Preparing lasts ~10 ms during the handshake: connected enough only if the heartbeat proves data flows.
    if not (io == "Yes" or (io == "Preparing" and errno == 0 and hb == "fresh")):
        cause, case = _link_down_cause(io, errno, ch.last_io_error, d)
        return verdict(Status.FAILED, cause, case, d, ch, **ev, **_expired_evidence(cause, d))
    if reach_of(src) != Reach.OK:
        quiet = _quiet(ch)
        if quiet is not None and reach_of(src) in PATH_FAILURES:
            # The IO thread still says Yes, but the source has sent nothing for several heartbeat periods:
            # the replica lost it too, before slave_net_timeout makes its IO thread admit it.
            cause, case = _lost_source(d, False)
            return verdict(Status.FAILED, cause, case, d, ch, **ev)
        d.warnings.append(_unreachable_warning(src, d.src_role, d.rep_role))
        return verdict(Status.ALIVE, C.OK, "link-up-blind", d, ch, **ev)
    if hb != "stale":
        return verdict(Status.ALIVE, C.OK, "link-up", d, ch, **ev)
    sql = as_state(ch.sql_running, ("Yes", "No"), "sql_running")
    sbm = opt_int(ch.seconds_behind)
    if sql != "Yes":  # a stopped SQL thread stops applying the heartbeat too: it says nothing about the link
        return verdict(Status.ALIVE, C.OK, "link-up", d, ch, **ev)
    if sbm is not None and sbm > 0:  # the IO thread receives, the SQL thread is behind: lag, not a cut
        d.warnings.append(f"replication {d.label} lags: the {d.rep_role}'s SQL thread is {sbm} s behind "
                          f"(heartbeat {age:.1f} s)")
        return verdict(Status.ALIVE, C.OK, "link-up-lagging", d, ch, **ev)
    # IO Yes, SBM 0/NULL, heartbeat stale although written: a silent cut before slave_net_timeout runs out.
    return verdict(Status.FAILED, C.LINK_CUT, "link-cut-stale", d, ch, **ev)


def judge_replication(d: Direction) -> Verdict:
    """Is data of this direction applied without error?"""
    rep = d.replica
    if reach_of(rep) != Reach.OK:
        return verdict(Status.UNKNOWN, reach_cause(rep, d.rep_role), "replica-unreachable", d)
    ch = channel_of(rep)
    if ch is None:
        return _no_channel(d)
    io = as_state(ch.io_running, IO_STATES, "io_running")
    sql = as_state(ch.sql_running, ("Yes", "No"), "sql_running")
    errno = as_int(ch.last_io_errno, "last_io_errno")
    sql_errno = as_int(ch.last_sql_errno, "last_sql_errno")
    if sql != "Yes":
        if sql_errno:
            return verdict(Status.FAILED, C.APPLY_ERROR, C.APPLY_ERROR, d, ch)
        return verdict(Status.FAILED, C.STOPPED_BY_OPERATOR, "sql-stopped", d, ch)
    # Choice: with 2026 (TLS) or 1045 (auth) the IO thread keeps retrying as `Connecting`, yet it can never
    # succeed until an operator fixes a certificate or a password, so it counts as "gave up" like IO `No`.
    if io != "Yes" and errno in FATAL_IO:
        cause = _fatal(errno, d)
        return verdict(Status.FAILED, cause, cause, d, ch, **_expired_evidence(cause, d))
    if io == "No" and errno not in NETWORK_ERRNOS:
        return verdict(Status.FAILED, C.IO_ERROR, C.IO_ERROR, d, ch)
    return verdict(Status.ALIVE, C.OK, "applying", d, ch)  # IO stopped or reconnecting: what arrived is applied


def _fatal(errno: int, d: Direction) -> str:
    """The cause of an IO error the replica cannot get past alone. The replica's 2026 does not say why TLS failed
    (MariaDB prints `error:00000000:lib(0)::reason(0)`); the monitor's own verified handshake with the source does."""
    if errno == 2026 and reach_of(d.source) == Reach.TLS and "certificate has expired" in str(d.source.error):
        return C.CERTIFICATE_EXPIRED
    return FATAL_IO[errno]


def _expired_evidence(cause: str, d: Direction) -> dict:
    return {"source_error": str(d.source.error)[:300]} if cause == C.CERTIFICATE_EXPIRED else {}


def guarded(judge: Callable[..., Verdict], d: Direction, *args: object) -> Verdict:
    """A direction whose values cannot be interpreted is Unknown; the other direction still counts."""
    try:
        return judge(d, *args)
    except Unreadable as exc:
        return verdict(Status.UNKNOWN, C.UNREADABLE, C.UNREADABLE, d, detail=str(exc)[:200])
