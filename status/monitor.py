"""The Django side of a poll: build targets from the models, keep probes, evaluate, record."""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from . import record as recorder
from .evaluate import evaluate, next_state
from .models import Node, Pair, Transition
from .probe.node import NodeProbe, NodeTarget
from .probe.pair import poll_pair, reading_dict
from .readings import PairHealth, PairReadings
from .watch import Watcher

_probes: dict[tuple[int, str], NodeProbe] = {}
_details: dict[int, tuple[float, tuple]] = {}  # pair id -> (when this process last wrote its details, what)
DETAILS_EVERY = 10.0  # seconds: readings that only changed in their numbers are written at this cadence
_probes_lock = threading.Lock()
_watcher: Watcher | None = None


@dataclass
class PollResult:
    readings: PairReadings
    health: PairHealth
    transitions: list[Transition]
    checked_at: dt.datetime


def stale_after(pair: Pair) -> float:
    """Seconds without a recorded poll after which the pair's statuses are not to be trusted."""
    return max(3 * pair.poll_interval, settings.STALE_MIN_SECONDS)


def probe_timeouts(interval: float) -> tuple[float, float]:
    """(read, connect) timeouts: a hung node must cost little of the interval, a WAN round trip must fit."""
    return max(0.2, min(1.0, interval * 0.3)), max(0.3, min(2.0, interval * 0.5))


def target_for(node: Node, pair: Pair) -> NodeTarget:
    is_source = node.role == Node.PRIMARY or pair.topology == Pair.BIDIRECTIONAL
    return NodeTarget(
        role=node.role, host=node.host, port=node.port, user=node.monitor_user, password=node.get_password(),
        tls_mode=node.tls_mode, ca_pem=node.ca_cert, client_cert_pem=node.client_cert,
        client_key_pem=node.get_client_key() if node.client_key_enc else "",
        timeout=probe_timeouts(pair.poll_interval)[0], connect_timeout=probe_timeouts(pair.poll_interval)[1],
        heartbeat_schema=settings.HEARTBEAT_SCHEMA,
        write_heartbeat=is_source, heartbeat_key=f"{settings.HAPANEL_INSTANCE}:{pair.pk}:{node.role}",
    )


def _probe(pair: Pair, node: Node) -> NodeProbe:
    """The kept probe of this node of this pair; rebuilt when the node's settings change."""
    target = target_for(node, pair)
    key = (pair.pk, node.role)
    with _probes_lock:
        probe = _probes.get(key)
        if probe is None or probe.target != target:
            if probe is not None:
                probe.close()
            probe = _probes[key] = NodeProbe(target)
    return probe


def forget(pair_id: int) -> None:
    _details.pop(pair_id, None)
    with _probes_lock:
        for role in (Node.PRIMARY, Node.SECONDARY):
            probe = _probes.pop((pair_id, role), None)
            if probe is not None:
                probe.close()


def poll(pair: Pair, record: bool = True) -> PollResult:
    nodes = {n.role: n for n in pair.nodes.all()}
    primary, secondary = _probe(pair, nodes[Node.PRIMARY]), _probe(pair, nodes[Node.SECONDARY])
    if _watcher is not None:
        _watcher.unwatch(pair.pk)
    readings = poll_pair(
        pair.name, pair.topology, primary, secondary, interval=pair.poll_interval, lag_warning=pair.lag_warning,
        wait_limit=settings.HEARTBEAT_WAIT,
    )
    checked_at = timezone.now()
    previous = {
        "ha": pair.ha_status, "replication": pair.repl_status, "debounce": pair.debounce,
        "ha_failing_polls": pair.ha_failing, "replication_failing_polls": pair.repl_failing,
    }
    health = evaluate(readings, previous)
    state = next_state(health, previous)
    transitions: list[Transition] = []
    if record:
        details = _details_due(pair.pk, health, checked_at.timestamp())
        snapshot = {"primary": reading_dict(readings.primary), "secondary": reading_dict(readings.secondary)} \
            if details else None
        counters = {"ha_failing": state.get("ha_failing_polls", 0),
                    "repl_failing": state.get("replication_failing_polls", 0)}
        transitions = recorder.record(pair.pk, health, checked_at, snapshot, counters, details=details)
    if _watcher is not None:
        _watcher.watch(pair.pk, [primary.socket(), secondary.socket()])
    return PollResult(readings, health, transitions, checked_at)


def _details_due(pair_id: int, health: PairHealth, now: float) -> bool:
    """Write the full health and readings documents only when something but a number changed, or
    every DETAILS_EVERY seconds: at a thousand pairs these JSON writes are most of the database load."""
    signature = (health.ha.status, health.ha.cause, health.replication.status, health.replication.cause,
                 tuple(re.sub(r"\d+(\.\d+)?", "#", w) for w in health.warnings))
    last = _details.get(pair_id)
    if last is not None and last[1] == signature and now - last[0] < DETAILS_EVERY:
        return False
    _details[pair_id] = (now, signature)
    return True


def start_watcher(on_closed) -> None:
    """Called once per worker process: immediate polls when a kept connection is closed."""
    global _watcher
    if _watcher is None:
        _watcher = Watcher(on_closed)
