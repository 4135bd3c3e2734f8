"""Alert tasks: thin, take ids, safe to run twice (the notification claim makes them so)."""

from __future__ import annotations

import logging

from celery import shared_task

from alerts import delivery, flapping

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def notify_transitions(transition_ids: list[int]) -> int:
    """New transitions: one notification per routed channel, each delivered by its own task."""
    return _deliver(delivery.notifications_for(transition_ids))


def _deliver(notification_ids: list[int]) -> int:
    for nid in notification_ids:
        deliver_notification.apply_async((nid,))
    return len(notification_ids)


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deliver_notification(self, notification_id: int) -> str:
    """One notification; a transient error retries with backoff (attempts are bounded by the row)."""
    outcome, countdown = delivery.deliver(notification_id)
    if outcome == delivery.RETRY:
        raise self.retry(countdown=countdown)
    return outcome


@shared_task(ignore_result=True)
def notify_risks(raised_ids: list[int], cleared_ids: list[int]) -> int:
    """Warnings before failures raised or cleared: one notification per routed channel, each delivered by its own
    task."""
    return _deliver(delivery.risk_notifications(raised_ids, cleared_ids))


@shared_task(ignore_result=True)
def notify_role_changes(change_ids: list[int]) -> int:
    """A pair's roles swapped in the panel: one notification per routed channel, each delivered by its own task."""
    return _deliver(delivery.role_change_notifications(change_ids))


@shared_task(ignore_result=True)
def sweep_transitions() -> int:
    """Beat: the transition rows, and the warnings' episodes, are the outbox. Flips and warnings whose alerts were
    never queued get them now; running twice is harmless, since their notifications are made once and each is
    claimed before it is sent."""
    ids = delivery.unprocessed()
    raised, cleared = delivery.unprocessed_risks()
    swaps = delivery.unprocessed_role_changes()
    return ((notify_transitions(ids) if ids else 0) + (notify_risks(raised, cleared) if raised or cleared else 0)
            + (notify_role_changes(swaps) if swaps else 0))


@shared_task(ignore_result=True)
def close_flapping() -> int:
    """Beat: pairs that stopped flapping get their one `stable again` summary; a failure that lasts through a
    flapping episode gets its held alerts; the held flips are told in a digest every few minutes."""
    return _deliver(flapping.close_stable() + flapping.release_sustained() + flapping.digests())


def _queue(task, args: tuple, what: str) -> None:
    """Queues an alerting task for rows already committed. A broker that is down now loses nothing: the rows are
    the outbox, and the sweep queues them once the broker is back; the poll or checkup that wrote them goes on."""
    try:
        task.apply_async(args)
    except Exception as exc:  # noqa: BLE001 (kombu's and redis-py's errors alike; the sweep makes good)
        log.warning("alerts of %s not queued, the broker is unreachable (%s): the outbox sweep sends them once it "
                    "is back", what, exc)


def queue_notifications(sender, transition_ids: list[int], **_kwargs) -> None:
    """Receiver of `monitor.signals.transitions_recorded`: alerting runs in a task of its own."""
    _queue(notify_transitions, (transition_ids,), f"transitions {transition_ids}")


def queue_risk_notifications(sender, raised_ids: list[int], cleared_ids: list[int], **_kwargs) -> None:
    """Receiver of `monitor.signals.risks_changed`."""
    _queue(notify_risks, (raised_ids, cleared_ids), f"warnings raised {raised_ids} and cleared {cleared_ids}")


def queue_role_change_notifications(sender, role_change_ids: list[int], **_kwargs) -> None:
    """Receiver of `monitor.signals.roles_changed`."""
    _queue(notify_role_changes, (role_change_ids,), f"role changes {role_change_ids}")
