"""The outbox drain, run by beat every few seconds (a pair back to Alive is drained on the next run).

One task per pair: a primary that hangs costs its own task the connection's timeouts and delays no other
pair's delivery. `expires` drops runs that waited longer than a few beats; the next beat sends fresh ones.
"""

from __future__ import annotations

from celery import shared_task
from celery.utils.log import get_task_logger
from django.conf import settings
from django.core.cache import cache

from emergency import outbox, vault_compare
from monitor.models import Pair

log = get_task_logger(__name__)
PAIR_TASK_EXPIRES = 30.0  # seconds


@shared_task(ignore_result=True)
def drain_outbox() -> int:
    """Sends one drain task per pair with undelivered events; returns how many were sent."""
    pks = outbox.pairs_to_drain()
    for pk in pks:
        drain_pair.apply_async(args=[pk], expires=PAIR_TASK_EXPIRES)
    return len(pks)


@shared_task(ignore_result=True)
def drain_pair(pair_id: int) -> int:
    # One drain of a pair at a time: a hung primary must not collect a task from every beat and fill the
    # worker slots the polls need. The lease expires by itself, so a run killed midway never blocks the pair for good.
    lease = f"emergency-drain:{pair_id}"
    if not cache.add(lease, 1, timeout=PAIR_TASK_EXPIRES):
        return 0
    try:
        pair = Pair.all_objects.filter(pk=pair_id).first()
        delivered = outbox.drain(pair) if pair is not None else 0
    finally:
        cache.delete(lease)
    if delivered and pair is not None:
        log.info("audit outbox of %s: %d event(s) delivered to the primary", pair.name, delivered)
    return delivered


@shared_task(ignore_result=True)
def dispatch_vault_compares() -> int:
    """Beat, every VAULT_COMPARE_TICK: one comparison task per pair that is due. Each expires with the tick: a
    later tick queues it again while it is still due."""
    pks = vault_compare.due_pairs()
    for pk in pks:
        compare_vault.apply_async(args=[pk], expires=settings.VAULT_COMPARE_TICK)
    return len(pks)


@shared_task(ignore_result=True)
def compare_vault(pair_id: int) -> str:
    """One comparison of a pair's two copies of the vault (emergency.vault_compare); a pair compared meanwhile is
    left alone."""
    return vault_compare.compare_pair(pair_id, due_only=True)
