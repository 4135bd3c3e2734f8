"""The audit outbox: events committed in the panel's database before any answer, drained to the
primary's vault audit table (INSERT IGNORE by event id, so retries and two drainers never duplicate)."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from emergency import connect, vault
from emergency.models import Access, OutboxEvent
from monitor.models import Pair

log = logging.getLogger(__name__)
BATCH = 500


def record_event(pair: Pair, operation: str, username: str, served_by: str = "", client_addr: str = "",
           resource: str = "", account: str = "", detail: str = "") -> OutboxEvent:
    """Durably commits one event; raises DatabaseError when it cannot (the caller then shows nothing)."""
    with transaction.atomic(durable=True):
        return OutboxEvent.objects.create(
            pair=pair, operation=operation, username=username[:150], served_by=served_by, client_addr=client_addr,
            resource=resource, account=account, detail=detail[:200],
        )


def outbox_backlog(pair: Pair | int) -> tuple[int, dt.datetime | None]:
    """Undelivered events of the pair and the time of the oldest, for the status and pair pages."""
    agg = OutboxEvent.objects.filter(pair=pair, delivered__isnull=True).aggregate(oldest=Min("at"))
    count = OutboxEvent.objects.filter(pair=pair, delivered__isnull=True).count()
    return count, agg["oldest"]


def _row(e: OutboxEvent) -> tuple:
    return (str(e.event_id), timezone.make_naive(e.at, dt.UTC), e.username, e.operation, e.resource, e.account,
            e.served_by, e.client_addr, e.origin, e.detail)


def drain(pair: Pair) -> int:
    """Delivers the pair's backlog to its primary; returns how many events were marked delivered."""
    access = Access.objects.select_related("pair").filter(pair=pair).first()
    if access is None or not OutboxEvent.objects.filter(pair=pair, delivered__isnull=True).exists():
        return 0
    try:
        conn = connect.primary_writer(access)
    except Exception as exc:  # noqa: BLE001 (the primary is down: the events wait for the next run)
        log.info("audit outbox of %s waits: primary not reachable (%s)", pair.name, type(exc).__name__)
        return 0
    delivered = 0
    try:
        while batch := list(OutboxEvent.objects.filter(pair=pair, delivered__isnull=True)[:BATCH]):
            vault.insert_audit(conn, access.schema, [_row(e) for e in batch])
            delivered += OutboxEvent.objects.filter(pk__in=[e.pk for e in batch], delivered__isnull=True).update(
                delivered=timezone.now())
    finally:
        conn.close()
    return delivered


def drain_all() -> int:
    pairs = Pair.objects.filter(emergency_outbox__delivered__isnull=True, emergency__isnull=False).distinct()
    return sum(drain(p) for p in pairs)
