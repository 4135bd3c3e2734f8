"""Repairs on the Django side: open one, generate its steps, run a step's check, and audit each of them.

The panel changes no server here: a check reads both nodes with the monitor account (`reading.py`) and
decides from what they answered (`judge.py`); only the verify step polls the pair as the monitor does.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from monitor.models import Node, Pair
from monitor.targets import target_for
from pairs import assistant
from pairs.repair import judge
from pairs.repair.models import Repair, RepairEvent
from pairs.repair.procedure import Procedure
from pairs.repair.rebuild import Hosts, RebuildInput, rebuild
from pairs.setup_sql import MARIADB, MYSQL_80, MYSQL_84

HOST_FIELDS = ("datadir", "backup_dir", "service", "os_user", "source_defaults", "target_defaults")


def version_numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text or "")[:3])


def setup_flavour(flavour: str, version: str) -> str:
    """The setup assistant's flavour for what a node reports (mariadb | mysql, and its version)."""
    if flavour != "mysql":
        return MARIADB
    return MYSQL_84 if version_numbers(version)[:2] >= (8, 4) else MYSQL_80


def rebuild_input(pair: Pair, options: dict) -> RebuildInput:
    """The generator's input from the pair and the options an admin chose; ValueError names a bad option."""
    setup = assistant.setup_input(pair, {
        "flavour": options["flavour"], "tls_dir": options.get("tls_dir") or "/etc/mysql/tls",
        "primary_server_id": 1, "secondary_server_id": 2, "monitor_from": "%", "vault_schema": "vault",
        "emergency_from": "%",
    })
    hosts = Hosts(**{name: options.get(name) or getattr(Hosts, name) for name in HOST_FIELDS})
    return RebuildInput(setup=setup, version=version_numbers(options.get("version", "")),
                        target=options["target"], method=options["method"], hosts=hosts)


def procedure(repair: Repair) -> Procedure:
    return rebuild(rebuild_input(repair.pair, {**repair.options, "target": repair.target, "method": repair.method}))


def _targets(pair: Pair) -> dict[str, object]:
    from pairs.checks import CHECK_TIMEOUT

    return {node.role: (node, replace(target_for(node, pair), timeout=CHECK_TIMEOUT, connect_timeout=CHECK_TIMEOUT,
                                      write_heartbeat=False))
            for node in pair.nodes.all()}


def read_both(pair: Pair, target_role: str) -> tuple[judge.NodeFacts, judge.NodeFacts]:
    """(target, source) as they answer now, read side by side."""
    from pairs.checks import endpoints  # the database driver, on request only
    from pairs.repair.reading import read_node

    nodes = _targets(pair)
    source_role = Node.PRIMARY if target_role == Node.SECONDARY else Node.SECONDARY

    def one(role: str) -> judge.NodeFacts:
        node, target = nodes[role]
        peer, peer_target = nodes[source_role if role == target_role else target_role]
        return read_node(target, peer_target.origin, endpoints(peer.host, peer.port, peer.known_as))

    with ThreadPoolExecutor(2) as pool:
        target, source = pool.map(one, (target_role, source_role))
    return target, source


def open_repair(pair: Pair, user, options: dict) -> Repair:
    """Records who opened which rebuild, with the source's GTID position now: a copy taken later reaches it."""
    _, source = read_both(pair, options["target"])
    stored = {k: v for k, v in options.items() if k not in ("target", "method")}
    repair = Repair.objects.create(pair=pair, pair_name=pair.name, target=options["target"], method=options["method"],
                                   options=stored, baseline=source.binlog_pos if source.answers else "",
                                   opened_by=user, opened_by_name=user.get_username())
    detail = (f"the {source.role}'s GTID position: {repair.baseline}" if repair.baseline
              else f"the {source.role} did not answer: {source.reach} {source.error}".strip())
    _log(repair, user, RepairEvent.OPENED, "", "", detail)
    return repair


def run_check(repair: Repair, step_key: str, user) -> judge.Outcome:
    step = procedure(repair).step(step_key)
    if step is None:
        raise KeyError(step_key)
    if step.check == "verify":
        outcome = _verify(repair.pair)
    else:
        target, source = read_both(repair.pair, repair.target)
        context = judge.Context(target=target, source=source, opened_at=repair.opened_at.timestamp(),
                                now=time.time(), baseline=repair.baseline,
                                tls=all(n.tls_mode != Node.TLS_OFF for n in repair.pair.nodes.all()))
        outcome = judge.CHECKS[step.check](context)
    _log(repair, user, RepairEvent.CHECKED, step_key, outcome.state, outcome.text)
    return outcome


def _verify(pair: Pair) -> judge.Outcome:
    from pairs.verify import verify  # polls the pair: the poller and the driver, on request only

    result = verify(pair)
    health = result.health
    text = (f"High Availability {health.ha.status}, Replication {health.replication.status}: "
            f"{health.ha.summary}")
    if result.alive:
        return judge.Outcome(judge.DONE, text)
    missing = "; ".join(f"{role}, {step}: {what}" for role, step, what in result.missing)
    return judge.Outcome(judge.NOT_YET, text + (f" ({missing})" if missing else ""))


def confirm(repair: Repair, step_key: str, user) -> None:
    if procedure(repair).step(step_key) is None:
        raise KeyError(step_key)
    _log(repair, user, RepairEvent.CONFIRMED, step_key, "", "")


def _log(repair: Repair, user, action: str, step: str, result: str, detail: str) -> RepairEvent:
    return RepairEvent.objects.create(repair=repair, user=user, username=user.get_username() if user else "",
                                      action=action, step=step, result=result, detail=detail[:2000])


def step_states(repair: Repair) -> dict[str, dict]:
    """Per step: its last check (result, detail, when) and its last confirmation, for the page."""
    states: dict[str, dict] = {}
    for event in repair.events.exclude(step="").order_by("at", "id"):
        state = states.setdefault(event.step, {})
        state["checked" if event.action == RepairEvent.CHECKED else "confirmed"] = event
    return states


def log_for_pair(pair: Pair, limit: int = 30) -> list[RepairEvent]:
    return list(RepairEvent.objects.filter(repair__pair=pair).select_related("repair")[:limit])
