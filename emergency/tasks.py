"""The outbox drain, run by beat every few seconds (a pair back to Alive is drained on the next run)."""

from __future__ import annotations

from celery import shared_task
from celery.utils.log import get_task_logger

from emergency import outbox

log = get_task_logger(__name__)


@shared_task(ignore_result=True)
def drain_outbox() -> int:
    delivered = outbox.drain_all()
    if delivered:
        log.info("audit outbox: %d event(s) delivered to the primaries", delivered)
    return delivered
