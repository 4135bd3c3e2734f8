"""The audit outbox: events committed in the panel's database before any answer, drained to the
primary's vault audit table (INSERT IGNORE by event id, so retries and two drainers never duplicate)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from emergency import connect, vault
from emergency.auth import subject
from emergency.models import Access, Drill, OutboxEvent
from monitor.models import Node, Pair

log = logging.getLogger(__name__)
BATCH = 500
AUDIT_LOCK_WAIT = 1.0  # seconds an audit write waits for a lock held by another writer of the panel's database


def record_event(pair: Pair, operation: str, username: str, served_by: str = "", client_addr: str = "",
                 resource: str = "", account: str = "", detail: str = "") -> OutboxEvent:
    """Durably commits one event; raises DatabaseError when it cannot (the caller then shows nothing)."""
    with _short_lock_wait():
        with transaction.atomic(durable=True):
            return OutboxEvent.objects.create(
                pair=pair, operation=operation, username=username[:150], subject=subject(username)[:150],
                served_by=served_by, client_addr=client_addr, resource=resource, account=account,
                detail=detail[:200],
            )


@contextmanager
def _short_lock_wait() -> Iterator[None]:
    """Waits at most AUDIT_LOCK_WAIT for a database lock. The panel's database otherwise waits up to 20 s for
    a busy SQLite file (settings.py), and a user in an emergency is better told at once that nothing can be
    shown than kept waiting; the writes that hold the lock (polls, the drain) take milliseconds."""
    if connection.vendor != "sqlite":
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:  # for this connection's next statements, reset below
                cur.execute("SET lock_timeout = %s", [f"{int(AUDIT_LOCK_WAIT * 1000)}ms"])
            try:
                yield
            finally:
                with connection.cursor() as cur:
                    cur.execute("RESET lock_timeout")
        else:
            yield
        return
    connection.ensure_connection()
    busy = connection.connection.execute("PRAGMA busy_timeout").fetchone()[0]
    connection.connection.execute(f"PRAGMA busy_timeout = {int(AUDIT_LOCK_WAIT * 1000)}")
    try:
        yield
    finally:
        connection.connection.execute(f"PRAGMA busy_timeout = {int(busy)}")


def outbox_backlog(pair: Pair | int) -> tuple[int, dt.datetime | None]:
    """Undelivered events of the pair and the time of the oldest, for the status and pair pages."""
    agg = OutboxEvent.objects.filter(pair=pair, delivered__isnull=True).aggregate(oldest=Min("at"))
    count = OutboxEvent.objects.filter(pair=pair, delivered__isnull=True).count()
    return count, agg["oldest"]


def pair_block(pair: Pair) -> dict:
    """What the pair page shows of emergency access: the backlog, the last delivery failure, the drill."""
    count, oldest = outbox_backlog(pair)
    access = Access.objects.filter(pair=pair).first()
    drill = Drill.objects.filter(pair=pair, until__gt=timezone.now()).first()
    return {"outbox_count": count, "outbox_oldest": oldest, "emergency_access": access,
            "outbox_error": access.drain_error if access else "",
            "outbox_error_at": access.drain_error_at if access else None,
            "drill_until": drill.until if drill else None}


def _row(e: OutboxEvent) -> tuple:
    return (str(e.event_id), timezone.make_naive(e.at, dt.UTC), e.username, e.operation, e.resource, e.account,
            e.served_by, e.client_addr, e.origin, e.detail)


def drain(pair: Pair) -> int:
    """Delivers the pair's backlog to its primary; returns how many events were marked delivered.

    Never raises for a failure of the primary: the reason is logged, kept on the pair's Access for the pair
    page, and the events wait for the next run.
    """
    access = Access.objects.select_related("pair").filter(pair=pair).first()
    if access is None or not OutboxEvent.objects.filter(pair=pair, delivered__isnull=True).exists():
        return 0
    delivered = 0
    try:
        conn = connect.primary_writer(access)
        try:
            while batch := list(OutboxEvent.objects.filter(pair=pair, delivered__isnull=True)[:BATCH]):
                vault.insert_audit(conn, access.schema, [_row(e) for e in batch])
                delivered += OutboxEvent.objects.filter(pk__in=[e.pk for e in batch],
                                                        delivered__isnull=True).update(delivered=timezone.now())
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 (named below; a bug in this code is named too, rather than lost)
        reason = drain_failure(exc, access)
        log.warning("audit outbox of %s not delivered to the primary %s: %s", pair.name,
                    connect.nodes(pair)[Node.PRIMARY].address, reason)
        Access.objects.filter(pk=access.pk).update(drain_error=reason[:300], drain_error_at=timezone.now())
        return delivered
    if access.drain_error:
        Access.objects.filter(pk=access.pk).update(drain_error="", drain_error_at=None)
    return delivered


def drain_failure(exc: BaseException, access: Access) -> str:
    """Why a delivery failed, in the words an operator acts on."""
    import pymysql

    from monitor.probe.errors import classify  # the driver's errors: loaded once something failed
    from monitor.readings import Reach

    if not isinstance(exc, pymysql.MySQLError):
        return f"{type(exc).__name__}: {exc}"
    reach, code, message = classify(exc)
    table = f"{access.schema}.audit"
    if code in (1290, 1836):  # --read-only / --super-read-only, or MariaDB's read-only replica
        return f"the primary is read-only and refuses the audit rows ({message})"
    if code in (1146, 1049):
        return f"the audit table {table} is missing: run `manage.py vault init` ({message})"
    if code in (1142, 1044):
        return f"the audit account {access.writer_user} may not write {table} ({message})"
    if reach == Reach.AUTH:
        return f"the audit account {access.writer_user} was refused by the primary ({message})"
    if reach == Reach.TLS:
        return f"the TLS connection to the primary failed ({message})"
    if reach == Reach.REFUSED:
        return f"the primary is down: connection refused ({message})"
    if reach == Reach.TIMEOUT:
        return f"the primary does not answer: timed out ({message})"
    return f"the primary answered with an error ({message})"


def pairs_to_drain() -> list[int]:
    return list(Pair.objects.filter(emergency_outbox__delivered__isnull=True, emergency__isnull=False)
                .values_list("pk", flat=True).distinct())


def drain_all() -> int:
    """Each pair on its own: a failure of one, even an unexpected one, never keeps the others waiting."""
    delivered = 0
    for pk in pairs_to_drain():
        pair = Pair.all_objects.filter(pk=pk).first()
        if pair is None:
            continue
        try:
            delivered += drain(pair)
        except Exception:  # the panel's own database, say: logged, and the next pair still gets its turn
            log.exception("audit outbox of %s: the drain failed", pair.name)
    return delivered
