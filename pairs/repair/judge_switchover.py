"""The checks of a switchover, a failover and a rejoin, from what the two nodes and the panel say. Pure.

Each answers `done`, `not yet` (with what is missing) or `unknown`, like the rebuild's checks (`judge.py`). The
nodes are read with the monitor account (`switchover_reading.py`); the panel's own facts (which node it records as
the primary, the pair's cause, the steps an admin marked done) come in as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.risks.gtid import maria_state, mysql_set, mysql_text, subtract
from monitor.risks.rules_base import Unreadable
from pairs.repair.judge import DONE, NOT_YET, UNKNOWN, Outcome, covers

DOWN_CAUSES = ("primary-down", "primary-hung")


@dataclass(frozen=True)
class Link:
    """A replica channel of a node from the other node of the pair."""

    io: str | None
    sql: str | None
    error: str = ""
    ssl: bool | None = None
    read_at: str = ""  # file:position the IO thread has read up to
    exec_at: str = ""  # file:position the SQL thread has applied up to
    behind: int | None = None  # Seconds_Behind_Master

    @property
    def running(self) -> bool:
        return self.io == "Yes" and self.sql == "Yes"

    @property
    def stopped(self) -> bool:
        return self.io == "No" and self.sql == "No"


@dataclass(frozen=True)
class Facts:
    name: str  # "the old primary (10.0.0.1:3306)"
    reach: str  # ok, refused, timeout, auth, tls, error
    error: str = ""
    flavour: str = ""
    server_id: int | None = None
    uuid: str = ""
    read_only: bool | None = None
    super_read_only: bool | None = None
    position: str = ""  # what it holds: MariaDB gtid_binlog_pos (with gtid_slave_pos merged); MySQL gtid_executed
    state: str = ""  # MariaDB gtid_binlog_state; MySQL gtid_executed
    links: tuple[Link, ...] = ()  # its channels from the other node
    elsewhere: tuple[str, ...] = ()  # sources of its other channels

    @property
    def answers(self) -> bool:
        return self.reach == "ok"

    @property
    def is_read_only(self) -> bool:
        return bool(self.read_only) and (self.flavour != "mysql" or bool(self.super_read_only))


@dataclass(frozen=True)
class Situation:
    promoted: Facts
    demoted: Facts
    bidirectional: bool
    tls: bool = True
    panel_primary: str = ""  # the address the panel records as the pair's primary
    promoted_address: str = ""
    ha_cause: str = ""
    confirmed: frozenset[str] = field(default_factory=frozenset)  # step keys an admin marked done


def _silent(node: Facts) -> str:
    return f"{node.name} does not answer the panel ({node.reach}{': ' + node.error if node.error else ''})"


def _flavour(s: Situation) -> str:
    return s.promoted.flavour or s.demoted.flavour


# ---- the checks -------------------------------------------------------------------------------------------------


def demoted_read_only(s: Situation) -> Outcome:
    d = s.demoted
    if not d.answers:
        return Outcome(NOT_YET, _silent(d))
    if d.read_only is None:
        return Outcome(UNKNOWN, f"{d.name} did not say whether it is read-only")
    if d.is_read_only:
        return Outcome(DONE, f"{d.name} is read-only (read_only = 1"
                             + (", super_read_only = 1)" if d.flavour == "mysql" else ")"))
    missing = "super_read_only is 0" if d.read_only else "read_only is 0"
    return Outcome(NOT_YET, f"{d.name} still takes writes: {missing}")


def promoted_caught_up(s: Situation) -> Outcome:
    p, d = s.promoted, s.demoted
    if not (p.answers and d.answers):
        return Outcome(NOT_YET, _silent(p if not p.answers else d))
    if not d.is_read_only:
        return Outcome(NOT_YET, f"{d.name} is not read-only: its position still moves")
    try:
        if covers(_flavour(s), p.position, d.position):
            return Outcome(DONE, f"{p.name} has applied {d.name}'s whole position ({d.position or 'empty'})")
    except Unreadable as exc:
        return Outcome(UNKNOWN, f"a GTID position cannot be read: {exc}")
    link = p.links[0] if p.links else None
    how = f"; its threads are IO {link.io}, SQL {link.sql}" + (f": {link.error}" if link.error else "") if link else ""
    return Outcome(NOT_YET, f"{p.name} is at {p.position or 'nothing'}, {d.name} at {d.position}{how}")


def demoted_down(s: Situation) -> Outcome:
    d, p = s.demoted, s.promoted
    cause = f"the panel's cause is {s.ha_cause or 'none'}"
    if d.answers:
        return Outcome(NOT_YET, f"{d.name} answers the panel ({cause}): it is not lost; use the planned switchover")
    if not p.answers:
        return Outcome(UNKNOWN, f"{_silent(d)}, and {_silent(p)}: the panel cannot ask the secondary")
    link = p.links[0] if p.links else None
    if link is None:
        return Outcome(UNKNOWN, f"{_silent(d)}; {p.name} has no channel from it to ask ({cause})")
    seen = f"{p.name}'s IO thread from it is {link.io}" + (f" ({link.error})" if link.error else "")
    if link.io == "Yes":
        return Outcome(NOT_YET, f"{_silent(d)}, but {seen}: only the panel's path is cut ({cause})")
    return Outcome(DONE, f"{_silent(d)}; {seen}; {cause}")


def demoted_fenced(s: Situation) -> Outcome:
    d = s.demoted
    if d.reach in ("refused", "timeout"):
        return Outcome(DONE, f"{_silent(d)}")
    if d.answers and d.is_read_only:
        return Outcome(DONE, f"{d.name} answers, read-only")
    if d.answers:
        return Outcome(NOT_YET, f"{d.name} answers and takes writes: stop it, or make it read-only")
    return Outcome(UNKNOWN, f"{_silent(d)}: the panel cannot tell whether it could take writes")


def _position_text(at: str) -> str:
    return at or "unknown"


def promoted_stopped(s: Situation) -> Outcome:
    p = s.promoted
    if not p.answers:
        return Outcome(NOT_YET, _silent(p))
    if not p.links:
        return Outcome(DONE, f"{p.name} has no channel from the old primary any more (reset)")
    link = p.links[0]
    if not link.stopped:
        return Outcome(NOT_YET, f"{p.name}'s threads from the old primary are IO {link.io}, SQL {link.sql}: stop them")
    if not link.read_at or link.read_at != link.exec_at:
        return Outcome(NOT_YET, f"{p.name} stopped before it applied all it read (read {_position_text(link.read_at)}, "
                                f"executed {_position_text(link.exec_at)}): START the SQL thread alone until they meet")
    return Outcome(DONE, f"{p.name}'s threads are stopped, all it read applied (at {link.exec_at})")


def promoted_writable(s: Situation) -> Outcome:
    p = s.promoted
    if not p.answers:
        return Outcome(NOT_YET, _silent(p))
    if p.read_only is None:
        return Outcome(UNKNOWN, f"{p.name} did not say whether it is read-only")
    if p.read_only or p.super_read_only:
        return Outcome(NOT_YET, f"{p.name} is still read-only (read_only = {int(bool(p.read_only))}"
                                + (f", super_read_only = {int(bool(p.super_read_only))})" if p.flavour == "mysql"
                                   else ")"))
    return Outcome(DONE, f"{p.name} takes writes (read_only = 0)")


def applications_pointed(s: Situation) -> Outcome:
    p, d = s.promoted, s.demoted
    only = (f"{p.name} takes writes" + (f", {d.name} does not" if not d.answers or d.is_read_only else
                                        f"; but {d.name} takes writes too"))
    if "point-applications" in s.confirmed:
        return Outcome(DONE, f"marked done by an admin; {only}")
    return Outcome(NOT_YET, f"mark this step done once the applications use {s.promoted_address}; {only}")


def roles_swapped(s: Situation) -> Outcome:
    if s.panel_primary == s.promoted_address:
        return Outcome(DONE, f"the panel records {s.promoted.name} as the pair's primary")
    return Outcome(NOT_YET, f"the panel records {s.panel_primary or 'nothing'} as the primary: press Swap roles")


def _replicates(replica: Facts, source: Facts, tls: bool) -> Outcome:
    if not replica.answers:
        return Outcome(NOT_YET, _silent(replica))
    if not replica.links:
        elsewhere = f" (it replicates from {', '.join(replica.elsewhere)})" if replica.elsewhere else ""
        return Outcome(NOT_YET, f"{replica.name} does not replicate from {source.name}{elsewhere}")
    link = replica.links[0]
    if not link.running:
        return Outcome(NOT_YET, f"{replica.name}'s threads from {source.name} are IO {link.io}, SQL {link.sql}"
                                + (f": {link.error}" if link.error else ""))
    if tls and link.ssl is False:
        return Outcome(NOT_YET, f"{replica.name} replicates from {source.name} without TLS")
    try:
        caught_up = link.behind == 0 or (source.answers and covers(replica.flavour, replica.position,
                                                                    _not_own(replica, source.position)))
    except Unreadable as exc:
        return Outcome(UNKNOWN, f"a GTID position cannot be read: {exc}")
    if not caught_up:
        return Outcome(NOT_YET, f"{replica.name} replicates from {source.name} but is behind "
                                f"({link.behind if link.behind is not None else '?'} s)")
    return Outcome(DONE, f"{replica.name} replicates from {source.name}: IO Yes, SQL Yes, caught up")


def _not_own(node: Facts, position: str) -> str:
    """A MariaDB position less the domains `node` writes itself (its own binary log is always ahead there)."""
    if node.flavour == "mysql":
        return position
    return ",".join(f"{d}-{srv}-{n}" for (d, srv), n in maria_state(position).items() if srv != node.server_id)


def demoted_replicates(s: Situation) -> Outcome:
    d = s.demoted
    # A one-way pair's secondary stays read-only; both nodes of a bidirectional pair take writes.
    if not s.bidirectional and d.answers and d.read_only is not None and not d.is_read_only:
        return Outcome(NOT_YET, f"{d.name} takes writes: make it read-only first")
    return _replicates(d, s.promoted, s.tls)


def both_replicate(s: Situation) -> Outcome:
    first = demoted_replicates(s)
    if not first.done:
        return first
    second = _replicates(s.promoted, s.demoted, s.tls)
    if not second.done:
        return second
    return Outcome(DONE, f"{first.text}; {second.text}")


def errant(s: Situation) -> list[str]:
    """GTIDs the demoted node holds that the promoted one lacks; in a bidirectional pair only a third server's.
    Raises Unreadable."""
    d, p = s.demoted, s.promoted
    if _flavour(s) == "mysql":
        extra = subtract(mysql_set(d.state), mysql_set(p.state))
        if s.bidirectional:
            mine = {d.uuid.lower(), p.uuid.lower()}
            extra = {k: v for k, v in extra.items() if k.split(":")[0] not in mine}
        return [mysql_text(extra)] if extra else []
    ids = {i for i in (d.server_id, p.server_id) if i is not None}
    theirs = maria_state(p.state)
    return [f"{dom}-{srv}-{seq}" for (dom, srv), seq in sorted(maria_state(d.state).items())
            if seq > theirs.get((dom, srv), 0) and not (s.bidirectional and srv in ids)]


def no_errant(s: Situation) -> Outcome:
    d, p = s.demoted, s.promoted
    if not (d.answers and p.answers):
        return Outcome(NOT_YET, _silent(d if not d.answers else p))
    try:
        found = errant(s)
    except Unreadable as exc:
        return Outcome(UNKNOWN, f"a GTID state cannot be read: {exc}")
    if found:
        return Outcome(NOT_YET, f"{d.name} holds transactions {p.name} lacks (errant): {', '.join(found)}; rebuild "
                                "it from the new primary instead of replicating")
    return Outcome(DONE, f"{d.name} holds nothing {p.name} lacks ({d.state or 'empty'} against {p.state or 'empty'})")


CHECKS = {
    "demoted-read-only": demoted_read_only,
    "promoted-caught-up": promoted_caught_up,
    "demoted-down": demoted_down,
    "demoted-fenced": demoted_fenced,
    "promoted-stopped": promoted_stopped,
    "promoted-writable": promoted_writable,
    "applications-pointed": applications_pointed,
    "roles-swapped": roles_swapped,
    "demoted-replicates": demoted_replicates,
    "both-replicate": both_replicate,
    "no-errant": no_errant,
}
