"""Status rules (docs/architecture.md): one poll's `PairReadings` -> `PairHealth`.

Pure: no Django, no sockets, no clock. Each direction (source -> replica) is judged on its own, trusting
first the replica's threads, then the heartbeat, then the monitor's own connections (the order measured on
MariaDB, in docs/architecture.md); the pair takes the worst direction. The monitor's own failure to reach a
node (refused, timed out, unroutable) is evidence about the monitor's path: where the node's peer can be
read, the peer's view decides whether the node is gone. A value the rules cannot interpret
gives `Unknown`/`unreadable`, never an exception: the poller must not crash on a new server's answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

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
from monitor.readings import Heartbeat, NodeReading, PairHealth, PairReadings, Reach, ReplicationChannel, Verdict
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


def _v(status: Status, cause: str, case: str, d: Direction, ch: ReplicationChannel | None = None, **extra: object
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


def _reach_cause(node: NodeReading, role: str) -> str:
    reach = reach_of(node)
    return {Reach.AUTH: C.MONITOR_AUTH_FAILURE,
            Reach.TLS: C.MONITOR_TLS_FAILURE}.get(reach, C.for_role(role, "unreachable"))


def _no_channel(d: Direction) -> Verdict:
    if d.replica.parse_error:  # it may have a channel the probe could not parse
        return _v(Status.UNKNOWN, C.UNREADABLE, C.UNREADABLE, d, detail=d.replica.parse_error)
    return _v(Status.FAILED, C.NOT_CONFIGURED, C.NOT_CONFIGURED, d)


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
        return FATAL_IO[errno], FATAL_IO[errno]
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


def _ha(d: Direction, r: PairReadings) -> Verdict:
    """Is the link of this direction up?"""
    src, rep = d.source, d.replica
    if reach_of(rep) != Reach.OK:
        if d.reverse_io_yes:  # the node is up and pulls from its peer: the link between them exists
            d.warnings.append(_unreachable_warning(rep, d.rep_role, d.src_role) + f": {d.label} cannot be "
                              "checked")
            return _v(Status.ALIVE, C.OK, "replica-blind", d)
        if reach_of(rep) == Reach.REFUSED and d.topology == "one-way":
            # Nothing else sees a one-way pair's replica: its refused port is the only sign it is gone.
            return _v(Status.FAILED, C.for_role(d.rep_role, "down"), "replica-down", d)
        # Bidirectional: the node is also a replica; the other direction judges it by its peer's view.
        return _v(Status.UNKNOWN, _reach_cause(rep, d.rep_role), "replica-unreachable", d)
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
        return _v(Status.FAILED, cause, case, d, ch, **ev)
    if reach_of(src) != Reach.OK:
        quiet = _quiet(ch)
        if quiet is not None and reach_of(src) in PATH_FAILURES:
            # The IO thread still says Yes, but the source has sent nothing for several heartbeat periods:
            # the replica lost it too, before slave_net_timeout makes its IO thread admit it.
            cause, case = _lost_source(d, False)
            return _v(Status.FAILED, cause, case, d, ch, **ev)
        d.warnings.append(_unreachable_warning(src, d.src_role, d.rep_role))
        return _v(Status.ALIVE, C.OK, "link-up-blind", d, ch, **ev)
    if hb != "stale":
        return _v(Status.ALIVE, C.OK, "link-up", d, ch, **ev)
    sql = as_state(ch.sql_running, ("Yes", "No"), "sql_running")
    sbm = opt_int(ch.seconds_behind)
    if sql != "Yes":  # a stopped SQL thread stops applying the heartbeat too: it says nothing about the link
        return _v(Status.ALIVE, C.OK, "link-up", d, ch, **ev)
    if sbm is not None and sbm > 0:  # the IO thread receives, the SQL thread is behind: lag, not a cut
        d.warnings.append(f"replication {d.label} lags: the {d.rep_role}'s SQL thread is {sbm} s behind "
                          f"(heartbeat {age:.1f} s)")
        return _v(Status.ALIVE, C.OK, "link-up-lagging", d, ch, **ev)
    # IO Yes, SBM 0/NULL, heartbeat stale although written: a silent cut before slave_net_timeout runs out.
    return _v(Status.FAILED, C.LINK_CUT, "link-cut-stale", d, ch, **ev)


def _replication(d: Direction) -> Verdict:
    """Is data of this direction applied without error?"""
    rep = d.replica
    if reach_of(rep) != Reach.OK:
        return _v(Status.UNKNOWN, _reach_cause(rep, d.rep_role), "replica-unreachable", d)
    ch = channel_of(rep)
    if ch is None:
        return _no_channel(d)
    io = as_state(ch.io_running, IO_STATES, "io_running")
    sql = as_state(ch.sql_running, ("Yes", "No"), "sql_running")
    errno = as_int(ch.last_io_errno, "last_io_errno")
    sql_errno = as_int(ch.last_sql_errno, "last_sql_errno")
    if sql != "Yes":
        if sql_errno:
            return _v(Status.FAILED, C.APPLY_ERROR, C.APPLY_ERROR, d, ch)
        return _v(Status.FAILED, C.STOPPED_BY_OPERATOR, "sql-stopped", d, ch)
    # Choice: with 2026 (TLS) or 1045 (auth) the IO thread keeps retrying as `Connecting`, yet it can never
    # succeed until an operator fixes a certificate or a password, so it counts as "gave up" like IO `No`.
    if io != "Yes" and errno in FATAL_IO:
        return _v(Status.FAILED, FATAL_IO[errno], FATAL_IO[errno], d, ch)
    if io == "No" and errno not in NETWORK_ERRNOS:
        return _v(Status.FAILED, C.IO_ERROR, C.IO_ERROR, d, ch)
    return _v(Status.ALIVE, C.OK, "applying", d, ch)  # IO stopped or reconnecting: what arrived is applied


def _guarded(judge: Callable[..., Verdict], d: Direction, *args: object) -> Verdict:
    """A direction whose values cannot be interpreted is Unknown; the other direction still counts."""
    try:
        return judge(d, *args)
    except Unreadable as exc:
        return _v(Status.UNKNOWN, C.UNREADABLE, C.UNREADABLE, d, detail=str(exc)[:200])


# --- the pair ---------------------------------------------------------------------------------------------


def _join(summaries) -> str:
    """One sentence per fact: both directions of a dead node would otherwise say it twice."""
    clauses: list[str] = []
    for summary in summaries:
        for clause in summary.split("; "):
            if clause.lower() not in (c.lower() for c in clauses):
                clauses.append(clause)
    return "; ".join(clauses)


def _combine(verdicts: list[Verdict]) -> Verdict:
    worst = max(verdicts, key=lambda v: v.status.severity)  # the first direction among equals
    if worst.status == Status.ALIVE:
        return Verdict(Status.ALIVE, C.OK, _join(v.summary for v in verdicts), "",
                       {"directions": [v.evidence for v in verdicts]})
    summary = _join(v.summary for v in verdicts if v.status == worst.status)
    ev = dict(worst.evidence)
    others = [v for v in verdicts if v is not worst]
    if others:
        ev["other_directions"] = [{"direction": v.evidence.get("direction"), "status": v.status.value,
                                   "cause": v.cause} for v in others]
    return Verdict(worst.status, worst.cause, summary, worst.remediation, ev)


def _neither(r: PairReadings) -> PairHealth:
    reaches = {reach_of(r.primary), reach_of(r.secondary)}
    cause = {frozenset({Reach.AUTH}): C.MONITOR_AUTH_FAILURE,
             frozenset({Reach.TLS}): C.MONITOR_TLS_FAILURE}.get(frozenset(reaches), C.UNREACHABLE)
    nodes = (("primary", r.primary), ("secondary", r.secondary))
    parts = [f"the {role} ({n.address}): {reach_of(n).value}{': ' if n.error else ''}{n.error}"
             for role, n in nodes]
    ev = {f"{role}_{k}": plain_value(getattr(n, k))
          for role, n in nodes for k in ("address", "reach", "errno", "error")}
    v = Verdict(Status.UNKNOWN, cause, "The monitor reaches neither node: " + "; ".join(parts),
                causes.remediation(cause, {}), ev)
    return PairHealth(ha=v, replication=v)


def _warnings(r: PairReadings, dirs: list[Direction]) -> list[str]:
    """Warnings that do not change a status; junk values here just skip the warning."""
    out: list[str] = []
    for role, node in (("primary", r.primary), ("secondary", r.secondary)):
        if node.parse_error:
            out.append(f"the {role} ({node.address}) answered something hapanel cannot read: "
                       f"{node.parse_error}")
    lag_warning = as_num(r.lag_warning)
    for d in dirs:
        rep, src = d.replica, d.source
        if rep.reach != Reach.OK:
            continue
        snt = opt_int(rep.slave_net_timeout)
        if snt is not None and snt > 10:
            out.append(f"slave_net_timeout is {snt} s on the {d.rep_role}: link cut detection by the replica "
                       f"will take {snt} s")
        if src.reach == Reach.OK and src.heartbeat_written is not True and src.heartbeat_error:
            out.append(f"the monitor could not write its heartbeat on the {d.src_role}: "
                       f"{src.heartbeat_error}")
        hb = rep.peer_heartbeat
        age = as_num(hb.age) if isinstance(hb, Heartbeat) and not hb.error else None
        if age is not None and lag_warning is not None and age > lag_warning:
            out.append(f"heartbeat age {age:.1f} s on the {d.rep_role} ({d.label}) is above "
                       f"{lag_warning:g} s")
        try:
            ch = channel_of(rep)
        except Unreadable:
            ch = None
        if ch is None:
            continue
        retry = opt_int(ch.connect_retry)
        if retry is not None and retry > 10:
            out.append(f"MASTER_CONNECT_RETRY is {retry} s on the {d.rep_role}: recovery after a "
                       f"{d.src_role} restart may wait up to {retry} s")
        if ch.ssl_allowed is False:
            out.append(f"replication from the {d.src_role} to the {d.rep_role} is not TLS-verified "
                       "(Master_SSL_Allowed=No: not even encrypted)")
        elif ch.ssl_verify is False:
            out.append(f"replication from the {d.src_role} to the {d.rep_role} is not TLS-verified "
                       "(Master_SSL_Verify_Server_Cert=No)")
    sec = r.secondary
    if dirs[0].topology == "one-way" and sec.reach == Reach.OK and sec.read_only is False:
        out.append(f"read_only is OFF on the secondary ({sec.address}) of a one-way pair: "
                   "writes there diverge from the primary")
    return out


def _confirmed_down(ha: list[Verdict], dirs: list[Direction]) -> None:
    """A node its peer confirmed gone is also the replica of the other direction: that one is down too,
    not merely unreadable."""
    down = {v.cause for v in ha if v.status == Status.FAILED}
    for i, d in enumerate(dirs):
        try:
            unreadable = reach_of(d.replica) in PATH_FAILURES
        except Unreadable:
            continue
        cause = C.for_role(d.rep_role, "down")
        if ha[i].status == Status.UNKNOWN and unreadable and cause in down:
            ha[i] = _v(Status.FAILED, cause, "replica-down", d)


def _evaluate(r: PairReadings, previous_cause: str = "") -> PairHealth:
    topology = r.topology.strip().lower() if isinstance(r.topology, str) else r.topology
    if topology not in ("one-way", "bidirectional"):
        raise Unreadable(f"topology={r.topology!r}")
    if reach_of(r.primary) != Reach.OK and reach_of(r.secondary) != Reach.OK:
        return _neither(r)
    dirs = [Direction(r.primary, r.secondary, "primary", "secondary", topology, previous_cause=previous_cause)]
    if topology == "bidirectional":
        dirs.append(Direction(r.secondary, r.primary, "secondary", "primary", topology,
                              previous_cause=previous_cause))
        for d, rev in ((dirs[0], dirs[1]), (dirs[1], dirs[0])):
            try:
                ch = channel_of(rev.replica) if rev.replica.reach == Reach.OK else None
                d.reverse_io_yes = ch is not None and as_state(ch.io_running, IO_STATES, "io") == "Yes"
            except Unreadable:
                pass
    ha = [_guarded(_ha, d, r) for d in dirs]
    _confirmed_down(ha, dirs)
    repl = [_guarded(_replication, d) for d in dirs]
    warnings = [w for d in dirs for w in d.warnings] + _warnings(r, dirs)
    ages = [a for d in dirs if d.replica.reach == Reach.OK and isinstance(d.replica.peer_heartbeat, Heartbeat)
            and (a := as_num(d.replica.peer_heartbeat.age)) is not None]
    return PairHealth(_combine(ha), _combine(repl), tuple(dict.fromkeys(warnings)), max(ages, default=None))


def _unreadable_health(exc: Exception) -> PairHealth:
    try:
        detail = f"{type(exc).__name__}: {exc}"[:300]
    except Exception:  # a hostile __str__ must not escape either
        detail = type(exc).__name__
    v = Verdict(Status.UNKNOWN, C.UNREADABLE, f"The readings of this pair cannot be interpreted ({detail})",
                causes.remediation(C.UNREADABLE, {}), {"error": detail})
    return PairHealth(ha=v, replication=v)


# --- debounce ---------------------------------------------------------------------------------------------


def _count(previous: dict | None, key: str, default: int) -> int:
    value = previous.get(key) if isinstance(previous, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def apply_debounce(health: PairHealth, previous: dict | None) -> PairHealth:
    """Hold a previous Alive until a Failed verdict is seen on `debounce` consecutive polls."""
    n = max(_count(previous, "debounce", 1), 1)
    if n == 1:
        return health
    warnings, held = list(health.warnings), {}
    for kind, label in (("ha", "HA"), ("replication", "Replication")):
        v: Verdict = getattr(health, kind)
        k = _count(previous, f"{kind}_failing_polls", 0) + 1
        if v.status == Status.FAILED and previous.get(kind) == Status.ALIVE.value and k < n:
            warnings.append(f"{label} failing for {k} of {n} polls ({v.cause}): {v.summary}")
            v = Verdict(Status.ALIVE, C.OK, f"{label} still counted Alive: a failure ({v.cause}) is being "
                        f"confirmed, {k} of {n} polls", "",
                        {"pending_cause": v.cause, "failing_polls": k, "debounce": n, "pending": v.evidence})
        held[kind] = v
    return replace(health, warnings=tuple(warnings), **held)


def next_state(health: PairHealth, previous: dict | None = None) -> dict:
    """The `previous` dict to pass to the next poll's evaluate(), from this poll's (debounced) result."""
    state: dict = {"debounce": max(_count(previous, "debounce", 1), 1)}
    for kind in ("ha", "replication"):
        v: Verdict = getattr(health, kind)
        failing = v.status == Status.FAILED or "pending_cause" in v.evidence
        state[kind] = v.status.value
        state[f"{kind}_failing_polls"] = _count(previous, f"{kind}_failing_polls", 0) + 1 if failing else 0
    return state


def evaluate(readings: PairReadings, previous: dict | None = None) -> PairHealth:
    """The pair's HA and replication verdicts, warnings and lag for one poll; never raises.

    `previous` is what the pair showed before (statuses, HA cause, debounce counters): the debounce needs
    it, and so does a source that comes back, whose outage keeps its cause until its replica reconnects."""
    cause = previous.get("ha_cause") if isinstance(previous, dict) else None
    try:
        health = _evaluate(readings, cause if isinstance(cause, str) else "")
    except Exception as exc:  # design §5: a bad server answer gives Unknown, never a crash
        return _unreadable_health(exc)
    try:
        return apply_debounce(health, previous)
    except Exception:  # a malformed `previous` must not hide the fresh verdict
        return health
