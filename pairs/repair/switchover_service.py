"""Switchover, failover and rejoin on the Django side: offer them, open one, run its checks, swap the roles.

A procedure is a Repair row (`procedure` = its kind), audited like a rebuild (`RepairEvent`). Its two nodes are
fixed by address when it is opened: the checks read them by address, so they still find the right node after
the panel swapped the roles. Swap roles is the one thing here that changes anything, and only in the panel
(`monitor.roles.swap`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from monitor import roles
from monitor.models import Node, Pair
from monitor.vocabulary import Status
from pairs import setup_sql
from pairs.repair import judge, judge_switchover, switchover
from pairs.repair.models import Repair, RepairEvent
from pairs.repair.procedure import Procedure
from pairs.repair.service import _log, _targets, _verify, version_numbers
from pairs.repair.switchover import DEMOTED, FAILOVER, KINDS, PROMOTED, REJOIN, SWITCHOVER, SwitchInput


def offered(pair: Pair) -> dict[str, str]:
    """kind -> why the pair page offers it now; "" when it is not the moment."""
    out = {}
    if pair.ha_status == Status.ALIVE and pair.repl_status == Status.ALIVE:
        out[SWITCHOVER] = "both nodes are healthy: the roles can be exchanged for maintenance, without losing a write"
    if pair.ha_status == Status.FAILED and pair.ha_cause in judge_switchover.DOWN_CAUSES:
        out[FAILOVER] = "the primary is lost: the secondary can take its role"
    if not (pair.ha_status == Status.ALIVE and pair.repl_status == Status.ALIVE) and pair.role_changes.exists():
        out[REJOIN] = "the roles were swapped: the old primary rejoins as the secondary once it is back"
    return out


def _server(node: Node) -> dict:
    return {"host": node.host, "port": node.port, "known_as": node.known_as}


def open_procedure(pair: Pair, user, kind: str, options: dict) -> Repair:
    """Records who opened which procedure, with the nodes as they are now (by address)."""
    if kind not in KINDS:
        raise ValueError(f"unknown procedure {kind!r}")
    nodes = {n.role: n for n in pair.nodes.all()}
    stored = {**options, "nodes": {role: _server(node) for role, node in nodes.items()}}
    repair = Repair.objects.create(pair=pair, pair_name=pair.name, procedure=kind, target=Node.SECONDARY,
                                   method="", options=stored, opened_by=user, opened_by_name=user.get_username())
    _log(repair, user, RepairEvent.OPENED, "", "",
         f"{KINDS[kind]}: primary {nodes[Node.PRIMARY].address}, secondary {nodes[Node.SECONDARY].address}; "
         f"HA {pair.ha_status} ({pair.ha_cause}), replication {pair.repl_status} ({pair.repl_cause})")
    return repair


def switch_input(pair: Pair | None, options: dict, kind: str) -> SwitchInput:
    """The generator's input: the nodes as stored when the procedure was opened; ValueError names a bad option."""
    from pairs.setup_sql import Server, SetupInput

    def server(role: str) -> Server:
        n = options["nodes"][role]
        return Server(role=role, host=n["host"], port=int(n["port"]), server_id=1 if role == Node.PRIMARY else 2,
                      known_as=tuple(x for x in (n.get("known_as") or "").split(",") if x))

    tls = options.get("tls", True)
    if pair is not None:
        tls = all(n.tls_mode != Node.TLS_OFF for n in pair.nodes.all())
    setup = SetupInput(flavour=options["flavour"], topology=options.get("topology") or getattr(pair, "topology", ""),
                       primary=server(Node.PRIMARY), secondary=server(Node.SECONDARY), tls=tls,
                       tls_dir=options.get("tls_dir") or "/etc/mysql/tls")
    return SwitchInput(setup=setup, version=version_numbers(options.get("version", "")), kind=kind,
                       service=options.get("service", ""))


def procedure(repair: Repair) -> Procedure:
    return switchover.procedure(switch_input(repair.pair, repair.options, repair.procedure))


def addresses(repair: Repair) -> dict[str, str]:
    """promoted/demoted -> the node's address, as stored when the procedure was opened."""
    s = switch_input(repair.pair, repair.options, repair.procedure)
    return {PROMOTED: setup_sql.address(s.promoted), DEMOTED: setup_sql.address(s.demoted)}


def _read(repair: Repair) -> tuple[judge_switchover.Facts, judge_switchover.Facts]:
    """(promoted, demoted) as they answer now, read side by side by address."""
    from pairs.checks import endpoints  # the database driver, on request only
    from pairs.repair.switchover_reading import read_facts

    pair = repair.pair
    by_address = {node.address: (node, target) for node, target in _targets(pair).values()}
    wanted = addresses(repair)
    names = {who: f"the {'new primary' if who == PROMOTED else 'old primary'} ({wanted[who]})"
             for who in (PROMOTED, DEMOTED)}

    def one(who: str) -> judge_switchover.Facts:
        if wanted[who] not in by_address:
            return judge_switchover.Facts(names[who], "error", "the pair has no node at this address any more")
        other = by_address.get(wanted[DEMOTED if who == PROMOTED else PROMOTED])
        peers = endpoints(other[0].host, other[0].port, other[0].known_as) if other else set()
        return read_facts(by_address[wanted[who]][1], names[who], peers)

    with ThreadPoolExecutor(2) as pool:
        promoted, demoted = pool.map(one, (PROMOTED, DEMOTED))
    return promoted, demoted


def run_check(repair: Repair, step_key: str, user) -> judge.Outcome:
    step = procedure(repair).step(step_key)
    if step is None:
        raise KeyError(step_key)
    pair = repair.pair
    if step.check == "verify":
        outcome = _verify(pair)
    else:
        promoted, demoted = _read(repair)
        primary = next((n.address for n in pair.nodes.all() if n.role == Node.PRIMARY), "")
        confirmed = frozenset(repair.events.filter(action=RepairEvent.CONFIRMED).values_list("step", flat=True))
        situation = judge_switchover.Situation(
            promoted=promoted, demoted=demoted, bidirectional=pair.topology == Pair.BIDIRECTIONAL,
            tls=all(n.tls_mode != Node.TLS_OFF for n in pair.nodes.all()), panel_primary=primary,
            promoted_address=addresses(repair)[PROMOTED], ha_cause=pair.ha_cause, confirmed=confirmed)
        outcome = judge_switchover.CHECKS[step.check](situation)
    _log(repair, user, RepairEvent.CHECKED, step_key, outcome.state, outcome.text)
    return outcome


def confirm(repair: Repair, step_key: str, user) -> None:
    if procedure(repair).step(step_key) is None:
        raise KeyError(step_key)
    _log(repair, user, RepairEvent.CONFIRMED, step_key, "", "")


def swap_roles(repair: Repair, user) -> str:
    """Swap roles: the promoted node becomes the pair's primary in the panel, once. Returns what happened."""
    wanted = addresses(repair)
    change = roles.swap(repair.pair_id, user.get_username(), reason=KINDS[repair.procedure].lower(),
                        expect_primary=wanted[DEMOTED])
    if change is None:
        text = f"not swapped: the panel's primary is not {wanted[DEMOTED]} any more (swapped already?)"
        _log(repair, user, RepairEvent.CHECKED, "swap-roles", judge.NOT_YET, text)
        return text
    text = f"roles swapped in the panel: {change.primary} is the primary, {change.secondary} the secondary"
    _log(repair, user, RepairEvent.CONFIRMED, "swap-roles", judge.DONE, text)
    return text
