"""Status rules (docs/architecture.md): one poll's `PairReadings` -> `PairHealth`.

Pure: no Django, no sockets, no clock. Each direction (source -> replica) is judged on its own
(`monitor.direction`); the pair takes the worst direction, a node one direction confirmed gone is down in the
other too, and the debounce holds an Alive until a failure is confirmed. A value the rules cannot interpret
gives `Unknown`/`unreadable`, never an exception: the poller must not crash on a new server's answer.
"""

from __future__ import annotations

from dataclasses import replace

from monitor import causes
from monitor.direction import (
    IO_STATES,
    PATH_FAILURES,
    Direction,
    guarded,
    judge_link,
    judge_replication,
    verdict,
)
from monitor.reading_values import Unreadable, as_num, as_state, channel_of, opt_int, plain_value, reach_of
from monitor.readings import Heartbeat, PairHealth, PairReadings, Reach, Verdict
from monitor.vocabulary import Cause as C
from monitor.vocabulary import Status

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
    # Say what happened: a refused login or a failed TLS handshake is not a network that fails to reach.
    opening = {C.MONITOR_AUTH_FAILURE: "The panel's login is refused on both nodes",
               C.MONITOR_TLS_FAILURE: "The panel cannot set up TLS with either node"}.get(
        cause, "The monitor reaches neither node")
    server = next((n for _, n in nodes if n.flavour), r.secondary)
    words = {"flavour": str(server.flavour or ""), "version": str(server.version or "")}
    v = Verdict(Status.UNKNOWN, cause, f"{opening}: " + "; ".join(parts), causes.remediation(cause, words), ev)
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
            ha[i] = verdict(Status.FAILED, cause, "replica-down", d)


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
    ha = [guarded(judge_link, d, r) for d in dirs]
    _confirmed_down(ha, dirs)
    repl = [guarded(judge_replication, d) for d in dirs]
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
