"""Recording a verdict: compare-and-set on the pair's statuses; a real flip writes one Transition.

Two workers polling the same pair, a redelivered task or a late poll cannot make a second
Transition: the status UPDATE filters on the status it read, and on a last check older than this
one, so only one writer's UPDATE hits a row, and only that writer creates the Transition.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q

from monitor import causes
from monitor.models import Pair, Transition
from monitor.readings import PairHealth, Verdict
from monitor.signals import transitions_recorded
from monitor.vocabulary import Cause, Status

FIELDS = {
    Transition.HA: ("ha_status", "ha_cause", "ha_since"),
    Transition.REPLICATION: ("repl_status", "repl_cause", "repl_since"),
}


def _older(checked_at: dt.datetime) -> Q:
    return Q(last_checked__isnull=True) | Q(last_checked__lt=checked_at)


class _Seen(NamedTuple):
    """What a flip compares against: a pair's statuses as the recording transaction reads them (tuples, not
    model instances, which took a fifth of recording's CPU in a profile at a thousand pairs)."""

    pk: int
    paused: bool
    ha_status: str
    repl_status: str


@dataclass
class Outcome:
    """One poll's verdict to record. With `details=False` the health and readings documents are left as
    they are (written recently; nothing but numbers changed); statuses, causes, lag and the check time
    are always written, and a flip always writes everything."""

    pair_id: int
    health: PairHealth
    checked_at: dt.datetime
    readings: dict | None = None
    counters: dict | None = None
    details: bool = True


def record(
    pair_id: int, health: PairHealth, checked_at: dt.datetime, readings: dict | None = None,
    counters: dict | None = None, details: bool = True,
) -> list[Transition]:
    """Writes the verdict of one poll; returns the transitions it made (usually none)."""
    return record_many([Outcome(pair_id, health, checked_at, readings, counters, details)]).get(pair_id, [])


def record_many(outcomes: list[Outcome]) -> dict[int, list[Transition]]:
    """Writes the verdicts of several polls in one transaction; returns the transitions made, by pair."""
    made: dict[int, list[Transition]] = {}
    if not outcomes:
        return made
    with transaction.atomic():
        pairs = {row[0]: _Seen(*row) for row in Pair.objects.filter(pk__in=[o.pair_id for o in outcomes])
                 .values_list("id", "paused", "ha_status", "repl_status")}
        updates: dict[tuple[str, ...], list[tuple[int, dict]]] = {}
        for o in outcomes:
            pair = pairs.get(o.pair_id)
            if pair is None:
                continue
            flips = [t for kind, verdict in ((Transition.HA, o.health.ha), (Transition.REPLICATION,
                                                                              o.health.replication))
                     if (t := _flip(pair, kind, verdict, o.checked_at)) is not None]
            extra = {
                "lag": o.health.lag, "last_checked": o.checked_at,
                "ha_cause": o.health.ha.cause, "repl_cause": o.health.replication.cause,
            }
            if o.details or flips:
                extra["health"] = health = o.health.to_dict()
                extra.update(Pair.health_columns(health))
                if o.readings is not None:
                    extra["readings"] = o.readings
            if o.counters:
                extra.update(o.counters)
            updates.setdefault(tuple(extra), []).append((o.pair_id, extra))
            if flips:
                made[o.pair_id] = flips
        for names, rows in updates.items():
            _update_newer(names, rows)
        if made:
            ids = [t.pk for flips in made.values() for t in flips]
            transaction.on_commit(lambda: announce(ids))
    return made


def _update_newer(names: tuple[str, ...], rows: list[tuple[int, dict]]) -> None:
    """Sets these fields on each pair whose last check is older than the row's, with one statement run for
    every row (executemany): compiling an ORM update per pair was a large part of a poll's cost at a
    thousand pairs. Causes and details follow the newest poll only; an older, late poll leaves them alone."""
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the `connection` proxy costs a lookup per value
    fields = [Pair._meta.get_field(name) for name in names]
    checked = Pair._meta.get_field("last_checked")
    q = db.ops.quote_name
    assignments = ", ".join(f"{q(f.column)} = %s" for f in fields)
    sql = (f"UPDATE {q(Pair._meta.db_table)} SET {assignments} WHERE {q('id')} = %s "
           f"AND ({q(checked.column)} IS NULL OR {q(checked.column)} < %s)")
    params = [[f.get_db_prep_save(values[f.name], db) for f in fields]
              + [pair_id, checked.get_db_prep_save(values["last_checked"], db)] for pair_id, values in rows]
    with db.cursor() as cursor:
        cursor.executemany(sql, params)


def _flip(pair: _Seen, kind: str, verdict: Verdict, at: dt.datetime) -> Transition | None:
    status_f, cause_f, since_f = FIELDS[kind]
    old = getattr(pair, status_f)
    new = str(verdict.status)
    if old == new:
        return None
    hit = Pair.objects.filter(_older(at), pk=pair.pk, **{status_f: old}).update(
        **{status_f: new, cause_f: verdict.cause, since_f: at}
    )
    if hit != 1:
        return None  # another worker recorded this flip, or a newer poll already did
    return Transition.objects.create(
        pair_id=pair.pk, kind=kind, old_status=old, new_status=new, cause=verdict.cause,
        summary=verdict.summary, remediation=verdict.remediation, evidence=verdict.evidence, detected_at=at,
        paused=pair.paused,
    )


def mark_stale(stale: list[tuple[int, dt.datetime, str]], at: dt.datetime) -> list[Transition]:
    """Turns both statuses Unknown (cause monitor-stale) for each (pair id, cutoff, reason) whose pair had no
    poll recorded since its cutoff.

    All pairs in one transaction, with bulk writes: when the monitor falls behind, hundreds of pairs go stale
    together, and a transaction per pair would put it further behind. The rows are locked while they are
    compared (SELECT ... FOR UPDATE; SQLite serializes writers anyway), so a poll recorded meanwhile either
    comes first and keeps its pair out, or waits and finds the status it expected gone.
    """
    made: list[Transition] = []
    if not stale:
        return made
    cutoffs = {pair_id: (cutoff, reason) for pair_id, cutoff, reason in stale}
    with transaction.atomic():
        rows = Pair.objects.select_for_update().filter(pk__in=list(cutoffs)).order_by("pk").only(
            "id", "paused", "last_checked", "ha_status", "repl_status")
        for kind, (status_f, cause_f, since_f) in FIELDS.items():
            hit = [p for p in rows if getattr(p, status_f) != Status.UNKNOWN
                   and (p.last_checked is None or p.last_checked < cutoffs[p.pk][0])]
            if not hit:
                continue
            Pair.objects.filter(pk__in=[p.pk for p in hit]).update(
                **{status_f: Status.UNKNOWN, cause_f: Cause.MONITOR_STALE, since_f: at})
            made += Transition.objects.bulk_create(Transition(
                pair_id=p.pk, kind=kind, old_status=getattr(p, status_f), new_status=Status.UNKNOWN,
                cause=Cause.MONITOR_STALE, summary=cutoffs[p.pk][1], detected_at=at, paused=p.paused,
                remediation=causes.remediation(Cause.MONITOR_STALE, {}),
                evidence={"last_checked": p.last_checked.isoformat() if p.last_checked else None},
            ) for p in hit)
        if made:
            ids = [t.pk for t in made]
            transaction.on_commit(lambda: announce(ids))
    return made


def announce(transition_ids: list[int]) -> None:
    """Tells the listeners (alerts) about committed transitions."""
    transitions_recorded.send(sender=Transition, transition_ids=transition_ids)
