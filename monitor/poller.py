"""The Django side of a poll: build targets from the models, keep probes, evaluate, record."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from monitor import causes
from monitor import record as recorder
from monitor.evaluate import evaluate, next_state
from monitor.models import Node, Pair, Transition
from monitor.probe.node import NodeProbe
from monitor.probe.pair import probe_pair, reading_dict
from monitor.readings import NodeReading, PairHealth, PairReadings, Reach, Verdict
from monitor.targets import target_for
from monitor.vocabulary import Cause, Status
from monitor.watch import Watcher

# (pair id, role) -> (the node's stored settings, its kept probe). Comparing stored settings, not
# targets, keeps the password decryption out of every poll: it only runs when a node's settings change.
_probes: dict[tuple[int, str], tuple[tuple, NodeProbe]] = {}
_details: dict[int, tuple[float, tuple]] = {}  # pair id -> (when this process last wrote its details, what)
_failures: dict[int, str] = {}  # pair id -> why its last poll failed, logged once with its traceback
RECORD_LINGER = 0.05  # seconds a finished poll waits for the rest of its batch before it is recorded
DETAILS_EVERY = 10.0  # seconds: readings that only changed in their numbers are written at this cadence
_probes_lock = threading.Lock()
log = logging.getLogger(__name__)
_watcher: Watcher | None = None
# Runs the pairs of a batch side by side; separate from the probes' own pool, which each poll uses.
_pairs_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="pair")


@dataclass
class PollResult:
    readings: PairReadings
    health: PairHealth
    transitions: list[Transition]
    checked_at: dt.datetime


def _stored(node: Node, pair: Pair) -> tuple:
    return (node.host, node.port, node.monitor_user, node.monitor_password_enc, node.tls_mode, node.ca_cert,
            node.client_cert, node.client_key_enc, pair.poll_interval, pair.topology)


def _probe(pair: Pair, node: Node) -> NodeProbe:
    """The kept probe of this node of this pair; rebuilt when the node's settings change."""
    key, stored = (pair.pk, node.role), _stored(node, pair)
    with _probes_lock:
        kept = _probes.get(key)
    if kept is not None and kept[0] == stored:
        return kept[1]
    target = target_for(node, pair)
    with _probes_lock:
        kept = _probes.get(key)
        if kept is not None and kept[1].target == target:
            probe = kept[1]  # re-encrypted with a new key, or another poll rebuilt it first
        else:
            if kept is not None:
                kept[1].close()
            probe = NodeProbe(target)
        _probes[key] = (stored, probe)
    return probe


def forget(pair_id: int) -> None:
    _details.pop(pair_id, None)
    _failures.pop(pair_id, None)
    with _probes_lock:
        for role in (Node.PRIMARY, Node.SECONDARY):
            kept = _probes.pop((pair_id, role), None)
            if kept is not None:
                kept[1].close()


@dataclass
class _Measured:
    pair: Pair
    readings: PairReadings
    health: PairHealth
    state: dict
    checked_at: dt.datetime


def load(pair_ids: list[int]) -> dict[int, tuple[Pair, dict[str, Node]]]:
    """The pairs to poll and their nodes by role, in two queries. The health and readings documents stay
    in the database: decoding them was a good part of a poll's cost, and a poll only writes them."""
    pairs = Pair.objects.filter(pk__in=pair_ids).defer("health", "readings").in_bulk()
    out: dict[int, tuple[Pair, dict[str, Node]]] = {pair_id: (pair, {}) for pair_id, pair in pairs.items()}
    for node in Node.objects.filter(pair_id__in=list(pairs)):
        out[node.pair_id][1][node.role] = node
    return out


def _measure(pair: Pair, nodes: dict[str, Node]) -> _Measured:
    """Probe and evaluate one pair; touches no database (it runs in the batch's threads). Never raises: a
    pair whose poll fails (stored settings the probe cannot use, a bug) is recorded Unknown with the reason,
    rather than staying "not checked yet" behind a traceback at every poll."""
    try:
        return _probe_and_evaluate(pair, nodes)
    except Exception as exc:  # noqa: BLE001
        return _failed(pair, nodes, exc)


def _failed(pair: Pair, nodes: dict[str, Node], exc: Exception) -> _Measured:
    detail = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
    if _failures.get(pair.pk) != detail:  # the traceback once per new reason, not at every poll
        log.exception("poll of pair %s (%s) failed", pair.pk, pair.name)
        _failures[pair.pk] = detail
    readings = PairReadings(pair.name, pair.topology, *(
        NodeReading(role=role, address=nodes[role].address if role in nodes else "", reach=Reach.ERROR,
                    error=detail) for role in (Node.PRIMARY, Node.SECONDARY)),
        poll_interval=pair.poll_interval, lag_warning=pair.lag_warning)
    ctx = {"error": detail}
    verdict = Verdict(Status.UNKNOWN, Cause.POLL_ERROR, causes.summary(Cause.POLL_ERROR, ctx),
                      causes.remediation(Cause.POLL_ERROR, ctx), ctx)
    health = PairHealth(ha=verdict, replication=verdict)
    previous = _previous(pair)
    return _Measured(pair, readings, health, next_state(health, previous), timezone.now())


def _previous(pair: Pair) -> dict:
    return {
        "ha": pair.ha_status, "ha_cause": pair.ha_cause, "replication": pair.repl_status, "debounce": pair.debounce,
        "ha_failing_polls": pair.ha_failing, "replication_failing_polls": pair.repl_failing,
    }


def _probe_and_evaluate(pair: Pair, nodes: dict[str, Node]) -> _Measured:
    primary, secondary = _probe(pair, nodes[Node.PRIMARY]), _probe(pair, nodes[Node.SECONDARY])
    if _watcher is not None:
        _watcher.unwatch(pair.pk)
    try:
        readings = probe_pair(
            pair.name, pair.topology, primary, secondary, interval=pair.poll_interval,
            lag_warning=pair.lag_warning, wait_limit=settings.HEARTBEAT_WAIT,
        )
    finally:
        if _watcher is not None:
            _watcher.watch(pair.pk, [primary.socket(), secondary.socket()])
    previous = _previous(pair)
    health = evaluate(readings, previous)
    _failures.pop(pair.pk, None)
    return _Measured(pair, readings, health, next_state(health, previous), timezone.now())


def _outcome(m: _Measured) -> recorder.Outcome:
    details = _details_due(m.pair.pk, m.health, m.checked_at.timestamp())
    snapshot = {"primary": reading_dict(m.readings.primary), "secondary": reading_dict(m.readings.secondary)} \
        if details else None
    counters = {"ha_failing": m.state.get("ha_failing_polls", 0),
                "repl_failing": m.state.get("replication_failing_polls", 0)}
    return recorder.Outcome(m.pair.pk, m.health, m.checked_at, snapshot, counters, details)


def poll(pair: Pair, record: bool = True, nodes: dict[str, Node] | None = None) -> PollResult:
    """One pair, in this thread."""
    m = _measure(pair, nodes if nodes is not None else {n.role: n for n in pair.nodes.all()})
    made = recorder.record_many([_outcome(m)]).get(pair.pk, []) if record else []
    return PollResult(m.readings, m.health, made, m.checked_at)


def poll_many(batch: list[tuple[Pair, dict[str, Node]]]) -> dict[int, PollResult]:
    """Several pairs (as `load` gives them) side by side. The polls that finish within RECORD_LINGER of each
    other are recorded in one transaction; a pair with a hung node delays nobody else's verdict."""
    if len(batch) == 1:
        pair, nodes = batch[0]
        return {pair.pk: poll(pair, nodes=nodes)}
    results: dict[int, PollResult] = {}
    pending = {_pairs_pool.submit(_measure, pair, nodes) for pair, nodes in batch}
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        if pending:  # the others usually finish within milliseconds: one transaction for all of them
            more, pending = wait(pending, timeout=RECORD_LINGER)
            done |= more
        measured = []
        for f in done:
            try:
                measured.append(f.result())
            except Exception:  # a bug in one pair's poll must not cost the others theirs
                log.exception("poll failed")
        made = recorder.record_many([_outcome(m) for m in measured])
        for m in measured:
            results[m.pair.pk] = PollResult(m.readings, m.health, made.get(m.pair.pk, []), m.checked_at)
    return results


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


def start_watcher(on_closed: Callable[[list[int]], None]) -> None:
    """Called once per worker process: immediate polls when a kept connection is closed."""
    global _watcher
    if _watcher is None:
        _watcher = Watcher(on_closed)
