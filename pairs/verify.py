"""The verify step: the checks of Test connection on the saved pair, then real polls, in plain words."""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitor import poller as monitor
from monitor.models import Pair
from monitor.readings import PairHealth
from monitor.targets import target_for
from monitor.vocabulary import Status
from pairs.checks import CHECK_TIMEOUT, NodeCheck, check_pair, report
from pairs.setup_sql import STEPS

POLLS = 3  # the first poll after setup may see replication still connecting


@dataclass
class Verification:
    rows: list[tuple[str, NodeCheck, list[tuple[str, str]]]]
    missing: list[tuple[str, str, str]]  # (node role, step title, what is missing)
    health: PairHealth

    @property
    def alive(self) -> bool:
        return self.health.ha.status == Status.ALIVE and self.health.replication.status == Status.ALIVE


def verify(pair: Pair) -> Verification:
    nodes = {n.role: n for n in pair.nodes.all()}
    targets = {role: replace(target_for(node, pair), timeout=CHECK_TIMEOUT, write_heartbeat=False)
               for role, node in nodes.items()}
    checks = check_pair(targets, {role: node.known_as for role, node in nodes.items()})
    titles = dict(STEPS) | {"connect": "Connection"}
    rows = report(checks, pair.topology)
    missing = [(role, titles[step], text) for role, _check, found in rows for step, text in found]
    return Verification(rows, missing, _poll(pair))


def _poll(pair: Pair) -> PairHealth:
    try:
        for _ in range(POLLS):
            health = monitor.poll(pair).health
            if health.ha.status == Status.ALIVE and health.replication.status == Status.ALIVE:
                break
            pair.refresh_from_db()
        return health
    finally:
        monitor.forget(pair.pk)  # the web process keeps no connections to the nodes
