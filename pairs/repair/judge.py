"""Each check of a repair step, decided from what the two nodes answered. Pure: no Django, no I/O, no clock.

A check answers `done`, `not yet` (with what is missing) or `unknown` (the panel cannot tell, and why). The
facts come from the monitor account (`reading.py`), which may read but not change anything; the clock and
the repair's start come in as numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.risks.gtid import maria_state, mysql_set, mysql_text, per_domain, subtract
from monitor.risks.rules_base import Unreadable

DONE, NOT_YET, UNKNOWN = "done", "not yet", "unknown"


@dataclass(frozen=True)
class Channel:
    """One replica channel of a node, as far as a check needs it."""

    source: str  # host:port it replicates from
    from_peer: bool  # that is the other node of the pair
    io: str | None
    sql: str | None
    error: str = ""
    ssl: bool | None = None


@dataclass(frozen=True)
class NodeFacts:
    role: str
    reach: str  # monitor.readings.Reach: ok, refused, timeout, auth, tls, error
    error: str = ""
    flavour: str = ""  # mariadb | mysql
    server_id: int | None = None
    uptime: float | None = None  # seconds since the server started
    log_bin: bool | None = None
    binlog_pos: str = ""  # MariaDB @@gtid_binlog_pos; MySQL @@gtid_executed
    replica_pos: str = ""  # MariaDB @@gtid_slave_pos; MySQL @@gtid_executed
    channels: tuple[Channel, ...] = ()
    peer_heartbeat: float | None = None  # when the other node's heartbeat row here was written (epoch)
    uuid: str = ""  # MySQL @@server_uuid: its own transactions in gtid_executed carry it

    @property
    def answers(self) -> bool:
        return self.reach == "ok"


@dataclass(frozen=True)
class Context:
    target: NodeFacts
    source: NodeFacts
    opened_at: float  # when the repair began (epoch)
    now: float
    baseline: str = ""  # the source's GTID position when the repair began
    tls: bool = True  # the pair replicates over TLS


@dataclass(frozen=True)
class Outcome:
    state: str
    text: str

    @property
    def done(self) -> bool:
        return self.state == DONE


# ---- GTIDs ----------------------------------------------------------------------------------------------------


def covers(flavour: str, have: str, want: str) -> bool:
    """Does position `have` include everything in `want`? (MariaDB: per domain; MySQL: every transaction.)"""
    if flavour == "mysql":
        return not subtract(mysql_set(want), mysql_set(have))
    held = per_domain(maria_state(have))
    return all(held.get(domain, 0) >= seq for domain, seq in per_domain(maria_state(want)).items())


# ---- the checks -------------------------------------------------------------------------------------------------


def _not_answering(node: NodeFacts) -> str:
    return f"the {node.role} does not answer the monitor ({node.reach}{': ' + node.error if node.error else ''})"


def target_stopped(c: Context) -> Outcome:
    t = c.target
    if t.reach in ("refused", "timeout"):
        return Outcome(DONE, f"{_not_answering(t)}: its server is stopped")
    if t.answers:
        up = f", up for {int(t.uptime)} s" if t.uptime is not None else ""
        return Outcome(NOT_YET, f"the {t.role} still answers (server_id {t.server_id}{up}): stop its server")
    if t.reach in ("auth", "tls"):
        return Outcome(NOT_YET, f"the {t.role} still answers: it refused the monitor's login ({t.reach}: {t.error})")
    return Outcome(UNKNOWN, f"{_not_answering(t)}; the panel cannot tell whether it is stopped")


def source_ready(c: Context) -> Outcome:
    s = c.source
    if not s.answers:
        return Outcome(NOT_YET, f"{_not_answering(s)}: it must run to be copied")
    if s.log_bin is False:
        return Outcome(NOT_YET, f"the {s.role}'s binary log is off: a copy would carry no GTID position")
    if not s.binlog_pos:
        return Outcome(NOT_YET, f"the {s.role} has no GTID position yet: a copy would carry none")
    return Outcome(DONE, f"the {s.role} answers, binary log on, at GTID position {s.binlog_pos}")


def target_restored(c: Context) -> Outcome:
    t, s = c.target, c.source
    if not t.answers:
        hint = " (its monitor account comes with the copy)" if t.reach == "auth" else ""
        return Outcome(NOT_YET, f"{_not_answering(t)}{hint}")
    if t.uptime is None:
        return Outcome(UNKNOWN, f"the {t.role} did not say how long it has been up")
    started = c.now - t.uptime
    if started < c.opened_at:
        return Outcome(NOT_YET, f"the {t.role} has run since before this repair began (up {int(t.uptime)} s): "
                                "it was not restarted on a copy")
    if s.server_id is not None and t.server_id == s.server_id:
        return Outcome(NOT_YET, f"the {t.role} answers with the {s.role}'s server_id {t.server_id}: it needs its own "
                                "(its server options, not the copy, set it)")
    if t.peer_heartbeat is None:
        return Outcome(NOT_YET, f"the {t.role} holds no heartbeat row of the {s.role}: its data are not a copy of "
                                f"the {s.role}'s yet")
    if t.peer_heartbeat < c.opened_at:
        return Outcome(NOT_YET, f"the {s.role}'s heartbeat row on the {t.role} was written "
                                f"{int(c.opened_at - t.peer_heartbeat)} s before this repair began: these are its old "
                                "data, or a copy taken before (is the monitor polling the pair?)")
    return Outcome(DONE, f"the {t.role} restarted {int(t.uptime)} s ago on a copy of the {s.role} taken "
                         f"{int(c.now - t.peer_heartbeat)} s ago")


def target_position(c: Context) -> Outcome:
    t, s = c.target, c.source
    if not t.answers:
        return Outcome(NOT_YET, _not_answering(t))
    if not c.baseline:
        return Outcome(UNKNOWN, f"the {s.role}'s GTID position when this repair began is not known (it did not "
                                "answer then): start the repair again")
    flavour = t.flavour or s.flavour
    try:
        if not covers(flavour, t.replica_pos, c.baseline):
            return Outcome(NOT_YET, f"the {t.role}'s GTID position ({t.replica_pos or 'empty'}) does not reach the "
                                    f"{s.role}'s when this repair began ({c.baseline})")
        if flavour != "mysql" and not covers(flavour, t.binlog_pos, c.baseline):
            return Outcome(NOT_YET, f"the {t.role}'s binary log state ({t.binlog_pos or 'empty'}) does not start "
                                    f"where the copy ends (at least {c.baseline}): RESET MASTER and set "
                                    "gtid_binlog_state")
        if s.answers and s.binlog_pos and not covers(flavour, s.binlog_pos, _received(t)):
            return Outcome(NOT_YET, f"the {t.role}'s GTID position ({t.replica_pos}) goes beyond the {s.role}'s "
                                    f"({s.binlog_pos}): it holds transactions the {s.role} never had")
    except Unreadable as exc:
        return Outcome(UNKNOWN, f"a GTID position cannot be read: {exc}")
    return Outcome(DONE, f"the {t.role}'s GTID position {t.replica_pos} includes the {s.role}'s when this repair "
                         f"began ({c.baseline})")


def _received(node: NodeFacts) -> str:
    """What a node holds from elsewhere. MariaDB's replica position holds nothing else; MySQL's gtid_executed also
    holds the node's own transactions (the monitor's heartbeat on a bidirectional pair's node), which its source
    gets only once it replicates them."""
    if node.flavour != "mysql" or not node.uuid:
        return node.replica_pos
    own = node.uuid.lower()
    return mysql_text({k: v for k, v in mysql_set(node.replica_pos).items() if k.split(":")[0] != own})


def _replicates(replica: NodeFacts, source: NodeFacts, tls: bool) -> Outcome:
    if not replica.answers:
        return Outcome(NOT_YET, _not_answering(replica))
    channels = [ch for ch in replica.channels if ch.from_peer]
    if not channels:
        elsewhere = ", ".join(ch.source for ch in replica.channels)
        return Outcome(NOT_YET, f"the {replica.role} does not replicate from the {source.role}"
                                + (f" (it replicates from {elsewhere})" if elsewhere else ""))
    ch = channels[0]
    if ch.io != "Yes" or ch.sql != "Yes":
        return Outcome(NOT_YET, f"the {replica.role}'s threads from the {source.role} are IO {ch.io}, SQL {ch.sql}"
                                + (f": {ch.error}" if ch.error else ""))
    if tls and ch.ssl is False:
        return Outcome(NOT_YET, f"the {replica.role} replicates from the {source.role} without TLS")
    return Outcome(DONE, f"the {replica.role} replicates from the {source.role} ({ch.source}): IO Yes, SQL Yes"
                         + (", TLS" if ch.ssl else ""))


def target_replicates(c: Context) -> Outcome:
    return _replicates(c.target, c.source, c.tls)


def source_replicates(c: Context) -> Outcome:
    return _replicates(c.source, c.target, c.tls)


CHECKS = {
    "target-stopped": target_stopped,
    "source-ready": source_ready,
    "target-restored": target_restored,
    "target-position": target_position,
    "target-replicates": target_replicates,
    "source-replicates": source_replicates,
}
