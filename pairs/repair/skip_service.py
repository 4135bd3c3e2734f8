"""The small repair on the Django side: open one on the stopped replica, run its checks, audit each action.

Opening reads the replica's failure once (its error, the failing transaction, its GTID position) and the row on
both nodes, and keeps them in the Repair row: the statements are generated from what was read then, and the page
shows the rows as they were. The checks read again. The panel runs none of the statements.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

from django.core.exceptions import ObjectDoesNotExist

from monitor.models import Node, Pair
from pairs.repair import judge, offers
from pairs.repair.apply_error import ApplyError
from pairs.repair.models import Repair, RepairEvent
from pairs.repair.procedure import Procedure, Step
from pairs.repair.row_lookup import RowLookup
from pairs.repair.service import _log, _targets, _verify
from pairs.repair.skip_event import KIND, Relay, SkipInput
from pairs.repair.skip_event import procedure as generate
from pairs.repair.skip_judge import Comparison, Rows, Transaction, compare_rows, skip_applied

__all__ = ["KIND", "confirm", "open_skip", "procedure", "run_check"]


def _other(role: str) -> str:
    return Node.PRIMARY if role == Node.SECONDARY else Node.SECONDARY


def vault_schema(pair: Pair) -> str:
    """The schema emergency access reads on this pair (its secrets are never shown), `vault` by default."""
    try:
        return pair.emergency.schema
    except ObjectDoesNotExist:
        return "vault"


def _peers(pair: Pair, role: str) -> set[str]:
    from pairs.checks import endpoints  # the database driver, on request only

    node = next(n for n in pair.nodes.all() if n.role == _other(role))
    return endpoints(node.host, node.port, node.known_as)


def _read_rows(pair: Pair, lookup: RowLookup) -> dict[str, Rows]:
    from pairs.repair.skip_reading import read_rows

    targets = _targets(pair)
    with ThreadPoolExecutor(2) as pool:
        found = pool.map(lambda role: read_rows(targets[role][1], lookup), (Node.PRIMARY, Node.SECONDARY))
    return {rows.role: rows for rows in found}


def open_skip(pair: Pair, user) -> Repair | str:
    """Reads the stopped replica and the row on both nodes and records the repair; a sentence when there is
    nothing the small repair can examine."""
    from pairs.repair.skip_reading import read_failure

    targets = _targets(pair)
    first = offers.broken_replica(pair.readings)
    reasons = []
    for role in (first, _other(first)):
        failure = read_failure(targets[role][1], _peers(pair, role), vault_schema(pair))
        if not isinstance(failure, str):
            break
        reasons.append(failure)
    else:
        return "; ".join(reasons)
    if not failure.error.small:
        return (f"the {role} stopped on {failure.error.what}: the small repair examines a duplicate key (1062) or "
                "a missing row (1032) only; rebuild the replica instead")
    rows = _read_rows(pair, failure.lookup)
    nodes = {n.role: n for n in pair.nodes.all()}
    options = {
        "flavour": failure.flavour, "version": failure.version, "replica": role,
        "replica_address": nodes[role].address, "source_address": nodes[_other(role)].address,
        "connection": failure.connection, "position": failure.position, "error": failure.error.as_dict(),
        "transaction": failure.transaction.as_dict(), "relay": asdict(failure.relay),
        "lookup": asdict(failure.lookup), "rows": {r: rows[r].as_dict() for r in rows},
    }
    repair = Repair.objects.create(pair=pair, pair_name=pair.name, procedure=KIND, target=role, method="skip",
                                   options=options, baseline=failure.position, opened_by=user,
                                   opened_by_name=user.get_username())
    gtid = failure.transaction.gtid or failure.error.gtid
    _log(repair, user, RepairEvent.OPENED, "", "",
         f"the {role} stopped on {failure.error.what}" + (f", transaction {gtid}" if gtid else ""))
    return repair


def skip_input(repair: Repair) -> SkipInput:
    o = repair.options
    lookup = o["lookup"]
    return SkipInput(
        flavour=o["flavour"], version=o["version"], replica=o["replica"], replica_address=o["replica_address"],
        source_address=o["source_address"], error=ApplyError.from_dict(o["error"]),
        lookup=RowLookup(**{**lookup, "columns": tuple(lookup["columns"]), "values": tuple(lookup["values"])}),
        transaction=Transaction.from_dict(o["transaction"]), connection=o.get("connection", ""),
        replica_pos=o.get("position", ""), relay=Relay(**o.get("relay", {})))


def procedure(repair: Repair) -> Procedure:
    return generate(skip_input(repair))


def _step(repair: Repair, key: str) -> Step:
    step = procedure(repair).step(key)
    if step is None:
        raise KeyError(key)
    return step


def run_check(repair: Repair, step_key: str, user) -> judge.Outcome:
    step, s = _step(repair, step_key), skip_input(repair)
    if step.check == "verify":
        outcome = _verify(repair.pair)
    elif step.check == "skip-compare":
        rows = _read_rows(repair.pair, s.lookup)
        outcome = compare_rows(Comparison(s.error, s.transaction, s.lookup, rows[s.source], rows[s.replica]))
    else:
        from pairs.repair.skip_reading import read_state

        state = read_state(_targets(repair.pair)[s.replica][1], _peers(repair.pair, s.replica))
        outcome = skip_applied(s.error, s.gtid, state)
    _log(repair, user, RepairEvent.CHECKED, step_key, outcome.state, outcome.text)
    return outcome


def confirm(repair: Repair, step_key: str, user) -> None:
    _step(repair, step_key)
    _log(repair, user, RepairEvent.CONFIRMED, step_key, "", "")
