"""The verify step: the checks of Test connection on the saved pair, then real polls, in plain words; and the
monitor password the setup assistant generated, tried on both nodes before the panel may store it."""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitor import poller as monitor
from monitor.models import Pair
from monitor.probe.target import NodeTarget
from monitor.readings import PairHealth
from monitor.targets import target_for
from monitor.vocabulary import Status
from pairs.checks import CHECK_TIMEOUT, NodeCheck, check_pair, report
from pairs.setup_sql import STEPS

POLLS = 3  # the first poll after setup may see replication still connecting


@dataclass
class PasswordTrial:
    """The generated monitor password tried on each node, with the same read-only checks as Test connection."""

    checks: dict[str, NodeCheck]

    def problems(self) -> list[tuple[str, str]]:
        """[(node role, why the panel could not monitor it with this password)]; empty when it works on both."""
        out = []
        for role, check in self.checks.items():
            if check.reach == "auth":
                # CREATE USER IF NOT EXISTS leaves an existing account's password, and a narrower host pattern
                # of the same user wins the login: both read as a refused password from here.
                out.append((role, f"it does not log in (auth): {check.error}; an account of this name that "
                                  "existed before the SQL ran keeps its own password"))
            elif not check.reachable:
                out.append((role, f"it does not log in ({check.reach}): {check.error}"))
            elif check.missing_privileges:
                out.append((role, f"it logs in, but the account lacks {', '.join(check.missing_privileges)}"))
        return out

    @property
    def works(self) -> bool:
        return not self.problems()


@dataclass
class Verification:
    rows: list[tuple[str, NodeCheck, list[tuple[str, str]]]]
    missing: list[tuple[str, str, str]]  # (node role, step title, what is missing)
    health: PairHealth
    generated: PasswordTrial | None = None  # the assistant's new monitor password, when the panel holds another

    @property
    def alive(self) -> bool:
        return self.health.ha.status == Status.ALIVE and self.health.replication.status == Status.ALIVE


def _targets(pair: Pair, password: str | None = None) -> dict[str, NodeTarget]:
    targets = {}
    for node in pair.nodes.all():
        target = replace(target_for(node, pair), timeout=CHECK_TIMEOUT, write_heartbeat=False)
        targets[node.role] = target if password is None else replace(target, password=password)
    return targets


def _known_as(pair: Pair) -> dict[str, str]:
    return {node.role: node.known_as for node in pair.nodes.all()}


def try_password(pair: Pair, password: str) -> PasswordTrial:
    """Logs in to both nodes with `password` instead of the stored one; reads only, stores nothing."""
    return PasswordTrial(check_pair(_targets(pair, password), _known_as(pair)))


def verify(pair: Pair, generated_password: str | None = None) -> Verification:
    checks = check_pair(_targets(pair), _known_as(pair))
    titles = dict(STEPS) | {"connect": "Connection"}
    rows = report(checks, pair.topology)
    missing = [(role, titles[step], text) for role, _check, found in rows for step, text in found]
    trial = try_password(pair, generated_password) if generated_password else None
    return Verification(rows, missing, _poll(pair), trial)


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
