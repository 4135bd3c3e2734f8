"""Alert tasks: thin, take ids, safe to run twice (the notification claim makes them so)."""

from __future__ import annotations

from celery import shared_task

from alerts import delivery, flapping


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deliver_notification(self, notification_id: int) -> str:
    """One notification; a transient error retries with backoff (attempts are bounded by the row)."""
    outcome, countdown = delivery.deliver(notification_id)
    if outcome == delivery.RETRY:
        raise self.retry(countdown=countdown)
    return outcome


@shared_task(ignore_result=True)
def close_flapping() -> int:
    """Beat: pairs that stopped flapping get their one `stable again` summary."""
    made = flapping.close_stable()
    delivery.queue(made)
    return len(made)
