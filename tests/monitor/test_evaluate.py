"""Table tests for the status rules (monitor/evaluate.py); pure, no Django.

Each row is a fault measured on a real MariaDB pair (docs/architecture.md), built from hand-made readings,
for every topology where it applies. `one-way`: the secondary replicates from the primary. `bidirectional`:
each node replicates from the other.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.evaluate import apply_debounce, evaluate, next_state
from monitor.readings import Heartbeat, NodeReading, PairHealth, PairReadings, Reach, ReplicationChannel
from monitor.vocabulary import Status

ALIVE, FAILED, UNKNOWN = Status.ALIVE, Status.FAILED, Status.UNKNOWN
P_ADDR, S_ADDR = "127.0.0.1:3307", "127.0.0.1:3308"
FRESH = Heartbeat(age=0.3, caught_up=True)
STALE = Heartbeat(age=2.5)
MISSING = Heartbeat(error="heartbeat table hapanel_monitor.heartbeat is missing")
REFUSED_111 = "Can't connect to server on '127.0.0.1' (111 \"Connection refused\")"
TIMEOUT_110 = "Can't connect to server on '127.0.0.2' (110 \"Connection timed out\")"
LOST_110 = "Lost connection to server at 'reading initial communication packet', system error: 110"
CANT_CONNECT_TIMEOUT = "Can't connect to MySQL server on '10.231.8.2' (timed out)"


def chan(**kw) -> ReplicationChannel:
    base = dict(io_running="Yes", sql_running="Yes", seconds_behind=0, ssl_verify=True, ssl_allowed=True,
                connect_retry=1, heartbeat_period=1.0)
    return ReplicationChannel(**{**base, **kw})


def node(role: str, peer_addr: str, ch: dict | None, **kw) -> NodeReading:
    """A healthy reading; `ch` overrides its replica channel (None: no channel at all)."""
    host, port = peer_addr.split(":")
    base = dict(role=role, address=P_ADDR if role == "primary" else S_ADDR, flavour="mariadb",
                version="10.11.19", read_only=role == "secondary", slave_net_timeout=3,
                heartbeat_written=True, peer_heartbeat=FRESH,
                channels=() if ch is None else (chan(source_host=host, source_port=int(port), **ch),))
    return NodeReading(**{**base, **kw})


def pair(topology: str, p: dict | None = None, s: dict | None = None, p_ch: dict | None = None,
         s_ch: dict | None = None, **kw) -> PairReadings:
    """A healthy pair of `topology`; p/s override NodeReading fields, p_ch/s_ch the replica channel."""
    p_channel = (p_ch or {}) if topology == "bidirectional" else None
    primary = node("primary", S_ADDR, p_channel, **({} if topology == "bidirectional" else
                                                     {"peer_heartbeat": None}), **(p or {}))
    secondary = node("secondary", P_ADDR, s_ch or {}, **(s or {}))
    return PairReadings(name="vault", topology=topology, primary=primary, secondary=secondary, **kw)


ONE, BI = "one-way", "bidirectional"
P_REFUSED = dict(reach=Reach.REFUSED, errno=2003, error=REFUSED_111, heartbeat_written=False)
S_REFUSED = dict(reach=Reach.REFUSED, errno=2003, error=REFUSED_111, heartbeat_written=False)
P_TIMEOUT = dict(reach=Reach.TIMEOUT, errno=2013, error="timed out", heartbeat_written=False)
# No answer at all, not even to TCP: a powered-off host, a dropping firewall, a partition.
SILENT = dict(reach=Reach.TIMEOUT, errno=2003, error=CANT_CONNECT_TIMEOUT, heartbeat_written=False)
# The replica's own view of its source, as the probe counts it: quiet within a heartbeat period of 1 s, or
# silent for longer than 2.5 periods.
TALKING, QUIET = dict(quiet_for=0.8), dict(quiet_for=2.6)
AUTH = dict(reach=Reach.AUTH, errno=1045, error="Access denied for user 'hapanel'", heartbeat_written=False)
TLS = dict(reach=Reach.TLS, errno=2026, error="certificate verify failed", heartbeat_written=False)


def row(rid, readings, ha, ha_cause, repl=ALIVE, repl_cause="ok", warn=(), lag=None):
    return pytest.param(readings, ha, ha_cause, repl, repl_cause, warn, lag, id=rid)


CASES = []
for t in (ONE, BI):
    # In a bidirectional pair the node the monitor cannot read is also a replica: its replication is Unknown.
    p_blind_repl = (ALIVE, "ok") if t == ONE else (UNKNOWN, "primary-unreachable")
    CASES += [
        row(f"{t}:all-healthy", pair(t), ALIVE, "ok"),
        row(f"{t}:primary-killed", pair(t, p=P_REFUSED, s_ch=dict(io_running="Connecting", last_io_errno=2003,
            last_io_error=REFUSED_111, seconds_behind=None), s=dict(peer_heartbeat=STALE)),
            FAILED, "primary-down", *p_blind_repl, lag=2.5),
        # The refused connection alone is the monitor's path: the replica has not seen the crash yet (~20 ms).
        row(f"{t}:primary-killed-io-still-yes", pair(t, p=P_REFUSED, s=dict(peer_heartbeat=STALE)),
            ALIVE, "ok", *p_blind_repl, warn=("the primary (127.0.0.1:3307) is unreachable from the panel (refused",
                                              "the secondary still replicates from it")),
        row(f"{t}:primary-graceful-stop", pair(t, p=P_REFUSED, s_ch=dict(io_running="Connecting")),
            FAILED, "primary-down", *p_blind_repl),
        row(f"{t}:secondary-killed", pair(t, s=S_REFUSED, p_ch=dict(io_running="Connecting",
            last_io_errno=2013, last_io_error="system error: 104")),
            FAILED, "secondary-down", UNKNOWN, "secondary-unreachable"),
        # The network lab: the panel's own path fails, the replica's view decides.
        row(f"{t}:panel-reject-primary", pair(t, p=P_REFUSED, s=dict(peer_heartbeat=STALE), s_ch=TALKING),
            ALIVE, "ok", *p_blind_repl, warn=("the primary (127.0.0.1:3307) is unreachable from the panel (refused",
                                              "the secondary still replicates from it")),
        row(f"{t}:panel-cut-primary", pair(t, p=SILENT, s=dict(peer_heartbeat=STALE), s_ch=TALKING),
            ALIVE, "ok", *p_blind_repl, warn=("the primary (127.0.0.1:3307) is unreachable from the panel "
                                              "(timeout: Can't connect",)),
        row(f"{t}:host-down-primary-replica-quiet", pair(t, p=SILENT, s=dict(peer_heartbeat=STALE), s_ch=QUIET),
            FAILED, "primary-down", *p_blind_repl),
        row(f"{t}:host-down-primary-io-connecting", pair(t, p=SILENT, s=dict(peer_heartbeat=STALE),
            s_ch=dict(io_running="Connecting", seconds_behind=None)), FAILED, "primary-down", *p_blind_repl),
        row(f"{t}:host-down-primary-io-timed-out", pair(t, p=SILENT, s=dict(peer_heartbeat=STALE),
            s_ch=dict(io_running="Connecting", last_io_errno=2003, last_io_error=TIMEOUT_110)),
            FAILED, "primary-down", *p_blind_repl),
        row(f"{t}:primary-refused-replica-quiet", pair(t, p=P_REFUSED, s=dict(peer_heartbeat=STALE), s_ch=QUIET),
            FAILED, "primary-down", *p_blind_repl),
        row(f"{t}:primary-hung-replica-quiet", pair(t, p=P_TIMEOUT, s=dict(peer_heartbeat=STALE), s_ch=QUIET),
            FAILED, "primary-hung", *p_blind_repl),
        row(f"{t}:quiet-without-heartbeat-period", pair(t, p=SILENT, s=dict(peer_heartbeat=STALE),
            s_ch=dict(quiet_for=30.0, heartbeat_period=None)), ALIVE, "ok", *p_blind_repl,
            warn=("unreachable from the panel",)),
        row(f"{t}:primary-hung-before-net-timeout", pair(t, p=P_TIMEOUT, s=dict(peer_heartbeat=STALE)),
            ALIVE, "ok", *p_blind_repl, warn=("the primary (127.0.0.1:3307) is unreachable from the panel (timeout",
                                              "the secondary still replicates from it")),
        row(f"{t}:primary-hung-after-net-timeout", pair(t, p=P_TIMEOUT, s=dict(peer_heartbeat=STALE),
            s_ch=dict(io_running="Connecting", last_io_errno=2013, last_io_error=LOST_110)),
            FAILED, "primary-hung", *p_blind_repl),
        row(f"{t}:silent-link-cut", pair(t, s=dict(peer_heartbeat=STALE), p=dict(peer_heartbeat=STALE)
            if t == BI else None), FAILED, "link-cut"),
        row(f"{t}:link-cut-after-net-timeout", pair(t, s=dict(peer_heartbeat=STALE), s_ch=dict(
            io_running="Connecting", last_io_errno=2003, last_io_error=TIMEOUT_110)), FAILED, "link-cut"),
        row(f"{t}:duplicate-key", pair(t, s=dict(peer_heartbeat=Heartbeat(age=8.0)), s_ch=dict(
            sql_running="No", seconds_behind=None, last_sql_errno=1062,
            last_sql_error="Could not execute Write_rows_v1 event: Duplicate entry '5' for key 'PRIMARY'")),
            ALIVE, "ok", FAILED, "apply-error", warn=("above 5 s",)),
        row(f"{t}:stop-slave-io-thread", pair(t, s=dict(peer_heartbeat=STALE), s_ch=dict(io_running="No")),
            FAILED, "stopped-by-operator"),
        row(f"{t}:stop-slave", pair(t, s_ch=dict(io_running="No", sql_running="No", seconds_behind=None)),
            FAILED, "stopped-by-operator", FAILED, "stopped-by-operator"),
        # TLS/auth: the IO thread retries as Connecting forever but never succeeds without an operator.
        row(f"{t}:wrong-certificate", pair(t, s_ch=dict(io_running="Connecting", last_io_errno=2026,
            last_io_error="SSL connection error: certificate verify failed")),
            FAILED, "tls-failure", FAILED, "tls-failure"),
        row(f"{t}:replication-user-refused", pair(t, s_ch=dict(io_running="Connecting", last_io_errno=1045,
            last_io_error="Access denied for user 'repl'")), FAILED, "auth-failure", FAILED, "auth-failure"),
        row(f"{t}:binlog-purged", pair(t, s_ch=dict(io_running="No", last_io_errno=1236,
            last_io_error="Could not find GTID state requested by slave in any binlog files")),
            FAILED, "binlog-missing", FAILED, "binlog-missing"),
        row(f"{t}:io-thread-fatal-other-error", pair(t, s_ch=dict(io_running="No", last_io_errno=1593,
            last_io_error="Fatal error: The slave I/O thread stops")),
            FAILED, "io-error", FAILED, "io-error"),
        row(f"{t}:monitor-wrong-password-both", pair(t, p=AUTH, s=AUTH),
            UNKNOWN, "monitor-auth-failure", UNKNOWN, "monitor-auth-failure"),
        row(f"{t}:monitor-tls-both", pair(t, p=TLS, s=TLS),
            UNKNOWN, "monitor-tls-failure", UNKNOWN, "monitor-tls-failure"),
        row(f"{t}:neither-node-reachable", pair(t, p=P_TIMEOUT, s=S_REFUSED),
            UNKNOWN, "unreachable", UNKNOWN, "unreachable"),
        row(f"{t}:monitor-wrong-password-primary", pair(t, p=AUTH, s=dict(peer_heartbeat=STALE)),
            ALIVE, "ok", *((ALIVE, "ok") if t == ONE else (UNKNOWN, "monitor-auth-failure")),
            warn=("the primary (127.0.0.1:3307) is unreachable from the panel (auth",)),
        row(f"{t}:primary-auth-and-replica-refused", pair(t, p=AUTH, s_ch=dict(io_running="Connecting",
            last_io_errno=2003, last_io_error=REFUSED_111)), FAILED, "primary-down",
            *((ALIVE, "ok") if t == ONE else (UNKNOWN, "monitor-auth-failure"))),
        row(f"{t}:secondary-not-configured", pair(t, s=dict(channels=())),
            FAILED, "not-configured", FAILED, "not-configured"),
        row(f"{t}:lag", pair(t, s=dict(peer_heartbeat=Heartbeat(age=30.0)), s_ch=dict(seconds_behind=30)),
            ALIVE, "ok", warn=("SQL thread is 30 s behind", "heartbeat age 30.0 s"), lag=30.0),
        row(f"{t}:lag-below-warning", pair(t, s=dict(peer_heartbeat=Heartbeat(age=3.0)),
            s_ch=dict(seconds_behind=3)), ALIVE, "ok", warn=("SQL thread is 3 s behind",), lag=3.0),
        row(f"{t}:heartbeat-table-missing", pair(t, s=dict(peer_heartbeat=MISSING)), ALIVE, "ok",
            warn=("heartbeat missing on the secondary", "falling back to replica threads")),
        row(f"{t}:heartbeat-missing-and-link-down", pair(t, s=dict(peer_heartbeat=MISSING), s_ch=dict(
            io_running="Connecting", last_io_errno=2003, last_io_error=TIMEOUT_110)), FAILED, "link-cut",
            warn=("falling back to replica threads",)),
        row(f"{t}:heartbeat-not-read", pair(t, s=dict(peer_heartbeat=None)), ALIVE, "ok",
            warn=("falling back to replica threads",)),
        row(f"{t}:heartbeat-not-writable-on-source", pair(t, p=dict(heartbeat_written=False,
            heartbeat_error="INSERT command denied"), s=dict(peer_heartbeat=STALE)), ALIVE, "ok",
            warn=("could not write its heartbeat on the primary",)),
        row(f"{t}:stale-age-but-caught-up",
            pair(t, s=dict(peer_heartbeat=Heartbeat(age=2.0, caught_up=True))), ALIVE, "ok", lag=2.0),
        row(f"{t}:preparing-fresh", pair(t, s_ch=dict(io_running="Preparing")), ALIVE, "ok"),
        row(f"{t}:preparing-stale", pair(t, s=dict(peer_heartbeat=STALE), s_ch=dict(io_running="Preparing")),
            FAILED, "link-cut"),
        row(f"{t}:parse-error-no-channel", pair(t, s=dict(channels=(), parse_error="odd column Foo_Bar")),
            UNKNOWN, "unreadable", UNKNOWN, "unreadable", warn=("odd column Foo_Bar",)),
        row(f"{t}:parse-error-decided-by-threads", pair(t, s=dict(parse_error="odd column Foo_Bar")),
            ALIVE, "ok", warn=("answered something hapanel cannot read: odd column Foo_Bar",)),
        row(f"{t}:io-reconnecting-junk", pair(t, s_ch=dict(io_running="Reconnecting")),
            UNKNOWN, "unreadable", UNKNOWN, "unreadable"),
        row(f"{t}:io-errno-none", pair(t, s_ch=dict(last_io_errno=None)),
            UNKNOWN, "unreadable", UNKNOWN, "unreadable"),
        row(f"{t}:settings-warnings", pair(t, s=dict(slave_net_timeout=60, read_only=False),
            s_ch=dict(connect_retry=60, ssl_verify=False)), ALIVE, "ok",
            warn=("link cut detection by the replica will take 60 s", "may wait up to 60 s",
                  "replication from the primary to the secondary is not TLS-verified")
            + (("read_only is OFF on the secondary",) if t == ONE else ())),
    ]

CASES += [
    row("bidirectional:one-direction-cut", pair(BI, s=dict(peer_heartbeat=STALE)), FAILED, "link-cut"),
    # The panel sits on the primary's side: a secondary silent to both is cut off, maybe alive beyond a partition.
    row("bidirectional:partition-primary-side", pair(BI, s=SILENT, p=dict(peer_heartbeat=STALE), p_ch=QUIET),
        FAILED, "link-cut", UNKNOWN, "secondary-unreachable"),
    row("bidirectional:partition-after-net-timeout", pair(BI, s=SILENT, p=dict(peer_heartbeat=STALE),
        p_ch=dict(io_running="Connecting", last_io_errno=2003, last_io_error=TIMEOUT_110)),
        FAILED, "link-cut", UNKNOWN, "secondary-unreachable"),
    row("bidirectional:panel-cut-secondary", pair(BI, s=SILENT, p=dict(peer_heartbeat=STALE), p_ch=TALKING),
        ALIVE, "ok", UNKNOWN, "secondary-unreachable",
        warn=("the secondary (127.0.0.1:3308) is unreachable from the panel (timeout",
              "the primary still replicates from it")),
    row("bidirectional:panel-reject-secondary", pair(BI, s=S_REFUSED, p=dict(peer_heartbeat=STALE), p_ch=TALKING),
        ALIVE, "ok", UNKNOWN, "secondary-unreachable",
        warn=("the secondary (127.0.0.1:3308) is unreachable from the panel (refused",)),
    # Nothing else sees a one-way pair's secondary: its refused port is the only sign it is gone.
    row("one-way:secondary-refused", pair(ONE, s=S_REFUSED), FAILED, "secondary-down",
        UNKNOWN, "secondary-unreachable"),
    row("bidirectional:other-direction-cut", pair(BI, p=dict(peer_heartbeat=STALE)), FAILED, "link-cut"),
    row("bidirectional:secondary-hung-after-net-timeout", pair(BI, s=P_TIMEOUT,
        p_ch=dict(io_running="Connecting", last_io_errno=2013, last_io_error=LOST_110)),
        FAILED, "secondary-hung", UNKNOWN, "secondary-unreachable"),
    row("bidirectional:monitor-wrong-password-secondary", pair(BI, s=AUTH, p=dict(peer_heartbeat=STALE)),
        ALIVE, "ok", UNKNOWN, "monitor-auth-failure", warn=("the primary still replicates from it",)),
    row("bidirectional:primary-not-configured", pair(BI, p=dict(channels=())), FAILED, "not-configured",
        FAILED, "not-configured"),
    row("bidirectional:ssl-not-allowed", pair(BI, p_ch=dict(ssl_allowed=False)), ALIVE, "ok",
        warn=("replication from the secondary to the primary is not TLS-verified",)),
    row("one-way:monitor-wrong-password-secondary", pair(ONE, s=AUTH),
        UNKNOWN, "monitor-auth-failure", UNKNOWN, "monitor-auth-failure"),
    row("one-way:secondary-timeout", pair(ONE, s=P_TIMEOUT),
        UNKNOWN, "secondary-unreachable", UNKNOWN, "secondary-unreachable"),
    row("one-way:channel-all-none", pair(ONE, s=dict(channels=(ReplicationChannel(
        **{f: None for f in ReplicationChannel.__dataclass_fields__}),))),
        UNKNOWN, "unreadable", UNKNOWN, "unreadable"),
    row("one-way:topology-junk", replace(pair(ONE), topology="two-way"), UNKNOWN, "unreadable",
        UNKNOWN, "unreadable"),
    row("one-way:reach-junk", pair(ONE, s=dict(reach="sideways")),
        UNKNOWN, "unreadable", UNKNOWN, "unreadable"),
]


@pytest.mark.parametrize("readings, ha, ha_cause, repl, repl_cause, warn, lag", CASES)
def test_status_rules(readings, ha, ha_cause, repl, repl_cause, warn, lag):
    health = evaluate(readings)
    assert (health.ha.status, health.ha.cause) == (ha, ha_cause), health.ha.summary
    repl_seen = (health.replication.status, health.replication.cause)
    assert repl_seen == (repl, repl_cause), health.replication.summary
    text = " | ".join(health.warnings)
    for fragment in warn:
        assert fragment in text
    if lag is not None:
        assert health.lag == lag
    for verdict in (health.ha, health.replication):
        assert verdict.summary and "?" not in verdict.summary.replace("?)", "")
        assert (verdict.remediation != "") == (verdict.cause != "ok")
    json.dumps(health.to_dict(), allow_nan=False)  # evidence is plain data


def test_healthy_pair_has_no_warnings_and_lag_is_worst_direction():
    health = evaluate(pair(BI, p=dict(peer_heartbeat=Heartbeat(age=0.6, caught_up=True))))
    assert health.warnings == ()
    assert health.lag == 0.6
    directions = [d["direction"] for d in health.ha.evidence["directions"]]
    assert directions == ["primary→secondary", "secondary→primary"]


def test_primary_down_summary_and_evidence_name_node_and_direction():
    health = evaluate(pair(ONE, p=P_REFUSED, s_ch=dict(io_running="Connecting", last_io_errno=2003,
                                                       last_io_error=REFUSED_111)))
    assert health.ha.summary == ("The primary (127.0.0.1:3307) is down: connection refused; "
                                 "the secondary's IO thread is Connecting (2003)")
    assert "MASTER_CONNECT_RETRY" in health.ha.remediation
    ev = health.ha.evidence
    assert ev["direction"] == "primary→secondary" and ev["source_reach"] == "refused"
    assert ev["io_running"] == "Connecting" and ev["last_io_errno"] == 2003


def test_a_dead_primary_is_said_once_for_both_directions():
    health = evaluate(pair(BI, p=P_REFUSED, s_ch=dict(io_running="Connecting", last_io_errno=2003,
                                                      last_io_error=REFUSED_111)))
    assert health.ha.summary.count("is down") == 1, health.ha.summary
    assert "nothing is replicated secondary→primary" in health.ha.summary


def test_apply_error_summary_quotes_errno_and_message():
    health = evaluate(pair(ONE, s_ch=dict(sql_running="No", last_sql_errno=1062,
                                          last_sql_error="Duplicate entry '5' for key 'PRIMARY'")))
    assert "1062" in health.replication.summary and "Duplicate entry" in health.replication.summary
    assert health.replication.evidence["last_sql_errno"] == 1062


def test_link_cut_both_directions_names_both():
    health = evaluate(pair(BI, s=dict(peer_heartbeat=STALE), p=dict(peer_heartbeat=STALE)))
    assert "primary→secondary" in health.ha.summary and "secondary→primary" in health.ha.summary
    assert health.ha.evidence["other_directions"][0]["cause"] == "link-cut"


def test_multi_source_is_noted_in_evidence():
    extra = chan(name="other", source_host="10.0.0.9", source_port=3306)
    readings = pair(ONE)
    readings = replace(readings, secondary=replace(readings.secondary,
                                                   channels=(extra, *readings.secondary.channels)))
    health = evaluate(replace(readings, secondary=replace(readings.secondary, peer_heartbeat=STALE)))
    assert health.ha.cause == "link-cut"
    assert health.ha.evidence["channel"] == "" and health.ha.evidence["multi_source"] == ["other", ""]


@pytest.mark.parametrize("previous_cause, io_errno, io_error, cause", [
    ("primary-down", 2003, REFUSED_111, "primary-down"),  # restarted: the replica's next retry reconnects
    ("primary-down", 2013, "Lost connection to server during query, system error: 104", "primary-down"),
    ("primary-down", 0, "", "primary-down"),
    ("primary-down", 2003, TIMEOUT_110, "link-cut"),  # back for the monitor, but the replica times out
    ("link-cut", 2003, REFUSED_111, "link-cut"),  # a REJECT on the replication path, not an outage
    (None, 2003, REFUSED_111, "link-cut"),
], ids=["refused", "reset", "no-error-yet", "replica-times-out", "was-link-cut", "no-previous"])
def test_a_source_back_from_an_outage_keeps_its_cause_until_the_replica_reconnects(previous_cause, io_errno,
                                                                                  io_error, cause):
    restarting = pair(BI, s=dict(peer_heartbeat=STALE), s_ch=dict(
        io_running="Connecting", last_io_errno=io_errno, last_io_error=io_error, seconds_behind=None))
    previous = {"ha": "Failed", "replication": "Unknown", "ha_cause": previous_cause}
    health = evaluate(restarting, previous)
    assert (health.ha.status, health.ha.cause) == (FAILED, cause), health.ha.summary
    if cause == "primary-down":
        assert "answers again after being down" in health.ha.summary
    assert evaluate(pair(BI), previous).ha.status == ALIVE  # reconnected: Alive at once


def test_a_node_back_from_a_silent_outage_keeps_its_cause_while_it_reconnects_to_its_peer():
    back = pair(BI, p=dict(peer_heartbeat=STALE), p_ch=dict(io_running="Connecting", last_io_errno=2003,
                                                           last_io_error=TIMEOUT_110, seconds_behind=None))
    health = evaluate(back, {"ha": "Failed", "ha_cause": "primary-down"})
    assert (health.ha.status, health.ha.cause) == (FAILED, "primary-down"), health.ha.summary
    assert evaluate(back, {"ha": "Alive", "ha_cause": "ok"}).ha.cause == "link-cut"


def test_host_down_summary_says_who_lost_the_primary():
    health = evaluate(pair(BI, p=SILENT, s=dict(peer_heartbeat=STALE), s_ch=QUIET))
    assert health.ha.summary == ("The primary (127.0.0.1:3307) is silent: it does not answer the monitor "
                                 "(timeout) and the secondary has received nothing from it for 2.6 s (its IO "
                                 "thread still says Yes); it is down, or cut off from both the panel and the "
                                 "secondary"), health.ha.summary
    assert health.ha.evidence["source_quiet_for"] == 2.6


# --- debounce ---------------------------------------------------------------------------------------------

KILLED = pair(ONE, p=P_REFUSED, s_ch=dict(io_running="Connecting", last_io_errno=2003))


def test_debounce_default_delays_nothing():
    assert evaluate(KILLED).ha.status == FAILED
    assert evaluate(KILLED, {"ha": "Alive", "replication": "Alive"}).ha.status == FAILED


def test_debounce_holds_alive_until_nth_failing_poll():
    state = {"ha": "Alive", "replication": "Alive", "ha_failing_polls": 0, "replication_failing_polls": 0,
             "debounce": 3}
    seen = []
    for _ in range(4):
        health = evaluate(KILLED, state)
        seen.append((health.ha.status, health.ha.cause))
        state = next_state(health, state)
    assert seen == [(ALIVE, "ok"), (ALIVE, "ok"), (FAILED, "primary-down"), (FAILED, "primary-down")]
    assert state["ha_failing_polls"] == 4 and state["ha"] == "Failed"
    assert state["replication"] == "Alive" and state["replication_failing_polls"] == 0


def test_debounce_warning_and_pending_evidence():
    health = evaluate(KILLED, {"ha": "Alive", "debounce": 2})
    assert "HA failing for 1 of 2 polls (primary-down)" in " | ".join(health.warnings)
    assert health.ha.evidence["pending_cause"] == "primary-down"
    assert next_state(health, {"ha": "Alive", "debounce": 2})["ha_failing_polls"] == 1


def test_debounce_recovery_resets_and_failed_is_not_held():
    state = {"ha": "Alive", "ha_failing_polls": 1, "debounce": 3}
    health = evaluate(pair(ONE), state)
    assert health.ha.status == ALIVE and next_state(health, state)["ha_failing_polls"] == 0
    assert evaluate(KILLED, {"ha": "Failed", "debounce": 3}).ha.status == FAILED
    assert evaluate(KILLED, {"ha": "Unknown", "debounce": 3}).ha.status == FAILED


@pytest.mark.parametrize("previous", [None, {}, {"debounce": "x"}, {"debounce": -4, "ha": 7},
                                      {"ha_failing_polls": None, "debounce": 2, "ha": "Alive"}, "junk"],
                         ids=repr)
def test_debounce_junk_previous_never_raises(previous):
    health = evaluate(KILLED, previous)
    assert isinstance(health, PairHealth)
    assert isinstance(next_state(health, previous), dict)
    assert apply_debounce(health, previous) is not None


# --- junk never raises ------------------------------------------------------------------------------------

ODD_WORDS = ["Yes", "No", "Connecting", "Preparing", "Reconnecting", " yes ", "ok", "refused"]
JUNK = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                 st.text(max_size=12), st.sampled_from(ODD_WORDS),
                 st.lists(st.integers(), max_size=2), st.just(object()))
CHANNELS = st.builds(ReplicationChannel, **{f: JUNK for f in ReplicationChannel.__dataclass_fields__})
HEARTBEATS = st.one_of(st.none(), JUNK, st.builds(Heartbeat, age=JUNK, caught_up=JUNK, error=JUNK))
NODES = st.builds(NodeReading, role=JUNK, address=JUNK, reach=st.one_of(st.sampled_from(list(Reach)), JUNK),
                  errno=JUNK, error=JUNK, read_only=JUNK, slave_net_timeout=JUNK,
                  channels=st.one_of(JUNK, st.lists(CHANNELS, max_size=3).map(tuple)),
                  heartbeat_written=JUNK, heartbeat_error=JUNK, peer_heartbeat=HEARTBEATS, parse_error=JUNK)
TOPOLOGIES = st.one_of(st.sampled_from([ONE, BI]), JUNK)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(topology=TOPOLOGIES, primary=st.one_of(NODES, JUNK), secondary=NODES, stale=JUNK, lag=JUNK,
       previous=st.one_of(st.none(), st.dictionaries(st.sampled_from(["ha", "debounce", "ha_failing_polls"]),
                                                     JUNK)))
def test_junk_never_raises(topology, primary, secondary, stale, lag, previous):
    readings = PairReadings(name="junk", topology=topology, primary=primary, secondary=secondary,
                            heartbeat_stale=stale, lag_warning=lag)
    health = evaluate(readings, previous)
    assert isinstance(health, PairHealth)
    assert health.ha.status in set(Status) and health.replication.status in set(Status)
    json.dumps(health.to_dict(), allow_nan=False)
    assert all(isinstance(w, str) for w in health.warnings)


WELL_TYPED_CHANNEL = st.builds(
    ReplicationChannel, io_running=st.sampled_from(["Yes", "Connecting", "Preparing", "No"]),
    sql_running=st.sampled_from(["Yes", "No"]),
    last_io_errno=st.sampled_from([0, 2003, 2013, 2026, 1045, 1236, 1593]),
    last_sql_errno=st.sampled_from([0, 1062]), seconds_behind=st.one_of(st.none(), st.integers(0, 100)))
WELL_TYPED_NODE = st.builds(
    NodeReading, role=st.just("node"), address=st.just("h:1"), reach=st.sampled_from(list(Reach)),
    channels=st.lists(WELL_TYPED_CHANNEL, max_size=2).map(tuple), heartbeat_written=st.booleans(),
    peer_heartbeat=st.one_of(st.none(), st.builds(Heartbeat, age=st.floats(0, 100), caught_up=st.booleans())))


@given(topology=st.sampled_from([ONE, BI]), primary=WELL_TYPED_NODE, secondary=WELL_TYPED_NODE)
def test_well_typed_readings_are_never_unreadable(topology, primary, secondary):
    health = evaluate(PairReadings("p", topology, primary, secondary))
    assert health.ha.cause != "unreadable" and health.replication.cause != "unreadable"
    if Status.FAILED in (health.ha.status, health.replication.status):
        assert health.ha.remediation or health.replication.remediation
