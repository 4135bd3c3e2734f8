"""Delivery: one Notification per flip per channel, claimed before sending, retried, every attempt logged."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from alerts import flapping
from alerts.events import dedupe, event_for, risk_events
from alerts.message import for_notification, sample_message
from alerts.models import ROLES_CHANGED, Attempt, Channel, Notification
from alerts.transports import TransportError, for_channel
from monitor.models import PairRisk, RoleChange, Transition

log = logging.getLogger(__name__)

SENT, FAILED, RETRY, SKIPPED = "sent", "failed", "retry", "skipped"


def channels_for(pair_id: int, event: str):
    # One filter() call: the event and the pair must match the same route row.
    return Channel.objects.filter(Q(routes__pair__isnull=True) | Q(routes__pair_id=pair_id),
                                  routes__event=event, enabled=True).distinct()


def unprocessed(now: dt.datetime | None = None) -> list[int]:
    """Transitions whose alerts were never made: the publish after the flip was lost (the broker was down,
    the worker died). Only recent ones: an older flip is history, not news. A few seconds' grace leaves the
    normal path (the task queued at commit) to do its work first."""
    now = now or timezone.now()
    return list(Transition.objects.filter(
        processed__isnull=True,
        detected_at__gte=now - dt.timedelta(seconds=settings.ALERTS_SWEEP_WINDOW),
        detected_at__lt=now - dt.timedelta(seconds=settings.ALERTS_SWEEP_GRACE),
    ).order_by("id").values_list("pk", flat=True)[:500])


def notifications_for(transition_ids: Iterable[int]) -> list[int]:
    """Creates the notifications of new transitions; returns the ids still to deliver. Safe to run twice."""
    transitions = Transition.objects.filter(pk__in=list(transition_ids), paused=False).order_by("id")
    events = dedupe([(t, e) for t in transitions if (e := event_for(t))])
    pending = [nid for t, event in events for nid in _notifications(t, event)]
    Transition.objects.filter(pk__in=list(transition_ids), processed__isnull=True).update(processed=timezone.now())
    return pending


def _notifications(t: Transition, event: str) -> list[int]:
    """The pending notification ids of this flip, made on the first run only."""
    existing = Notification.objects.filter(transition=t, purpose__in=[Notification.FLIP, Notification.FLAPPING])
    if not existing.exists():  # a redelivered task must not classify (and count) the flip twice
        channels = list(channels_for(t.pair_id, event))
        if not channels:
            return []
        kind = flapping.classify(t)
        purpose = Notification.FLAPPING if kind == Notification.FLAPPING else Notification.FLIP
        status = Notification.HELD if kind == Notification.HELD else Notification.PENDING
        for channel in channels:
            try:
                with transaction.atomic():
                    Notification.objects.create(transition=t, channel=channel, event=event, purpose=purpose,
                                                status=status)
            except IntegrityError:
                pass  # made by a concurrent run of the same task
    return list(existing.filter(status=Notification.PENDING).values_list("pk", flat=True))


def risk_notifications(raised_ids: Iterable[int], cleared_ids: Iterable[int]) -> list[int]:
    """Creates the notifications of warnings raised and cleared; returns the ids still to deliver. Safe to run
    twice: a warning's raising, and its clearing, make one notification per channel (a unique constraint)."""
    raised_ids, cleared_ids = list(raised_ids), list(cleared_ids)
    pending = []
    for risk, event in risk_events(raised_ids, cleared_ids):
        for channel in channels_for(risk.pair_id, event):
            try:
                with transaction.atomic():
                    Notification.objects.create(risk=risk, channel=channel, event=event)
            except IntegrityError:
                pass  # made by an earlier or concurrent run
        pending += Notification.objects.filter(risk=risk, event=event, status=Notification.PENDING).values_list(
            "pk", flat=True)
    now = timezone.now()
    PairRisk.objects.filter(pk__in=raised_ids, raise_processed__isnull=True).update(raise_processed=now)
    PairRisk.objects.filter(pk__in=cleared_ids, clear_processed__isnull=True).update(clear_processed=now)
    return pending


def unprocessed_risks(now: dt.datetime | None = None) -> tuple[list[int], list[int]]:
    """Warnings whose raising or clearing was never turned into notifications (a lost publish), as `unprocessed`
    finds flips: recent ones only, after a grace."""
    now = now or timezone.now()
    window = (now - dt.timedelta(seconds=settings.ALERTS_SWEEP_WINDOW),
              now - dt.timedelta(seconds=settings.ALERTS_SWEEP_GRACE))
    raised = PairRisk.objects.filter(raise_processed__isnull=True, raised_at__range=window)
    cleared = PairRisk.objects.filter(clear_processed__isnull=True, cleared_at__range=window)
    return (list(raised.order_by("id").values_list("pk", flat=True)[:500]),
            list(cleared.order_by("id").values_list("pk", flat=True)[:500]))


def role_change_notifications(change_ids: Iterable[int]) -> list[int]:
    """Creates the notifications of swaps of a pair's roles; returns the ids still to deliver. Safe to run twice:
    one notification per swap per channel (a unique constraint). A swap made while the pair was paused sends
    nothing."""
    change_ids = list(change_ids)
    pending = []
    for change in RoleChange.objects.filter(pk__in=change_ids, paused=False).order_by("id"):
        for channel in channels_for(change.pair_id, ROLES_CHANGED):
            try:
                with transaction.atomic():
                    Notification.objects.create(role_change=change, channel=channel, event=ROLES_CHANGED)
            except IntegrityError:
                pass  # made by an earlier or concurrent run
        pending += Notification.objects.filter(role_change=change, status=Notification.PENDING).values_list(
            "pk", flat=True)
    RoleChange.objects.filter(pk__in=change_ids, processed__isnull=True).update(processed=timezone.now())
    return pending


def unprocessed_role_changes(now: dt.datetime | None = None) -> list[int]:
    """Swaps whose notifications were never made (a lost publish), recent ones only, after a grace."""
    now = now or timezone.now()
    return list(RoleChange.objects.filter(
        processed__isnull=True, at__gte=now - dt.timedelta(seconds=settings.ALERTS_SWEEP_WINDOW),
        at__lt=now - dt.timedelta(seconds=settings.ALERTS_SWEEP_GRACE),
    ).order_by("id").values_list("pk", flat=True)[:500])


def backoff(attempts: int) -> float:
    return min(settings.ALERTS_BACKOFF * 2 ** max(attempts - 1, 0), 300.0)


def deliver(notification_id: int) -> tuple[str, float]:
    """Sends one notification if this caller wins the claim: (outcome, retry countdown)."""
    n = Notification.objects.select_related("transition__pair", "risk__pair", "role_change__pair", "channel").filter(
        pk=notification_id).first()
    if n is None or not n.claim():
        return SKIPPED, 0.0  # sent, being sent, failed for good, held, or gone
    attempts = n.attempts + 1  # claim() counted this attempt in the database
    # A claim taken without a logged outcome: that sender died mid-send, and its message may have arrived.
    maybe_repeat = Attempt.objects.filter(notification=n).count() < n.attempts
    started = time.monotonic()
    try:
        for_channel(n.channel).send(for_notification(n, maybe_repeat))
    except TransportError as exc:
        return _failed(n, attempts, exc, time.monotonic() - started)
    except Exception as exc:  # noqa: BLE001 (a bug in a transport must not leave the row `sending`)
        log.exception("notification %s: unexpected error", n.pk)
        # The class only: an exception's text may hold the full URL or the target's answer (the log has it).
        return _failed(n, attempts, TransportError(f"unexpected error ({type(exc).__name__})"),
                       time.monotonic() - started)
    Attempt.objects.create(notification=n, ok=True, duration=time.monotonic() - started)
    Notification.objects.filter(pk=n.pk, status=Notification.SENDING).update(
        status=Notification.SENT, sent_at=timezone.now(), last_error="")
    n.channel.clear_flag()
    return SENT, 0.0


def _failed(n: Notification, attempts: int, exc: TransportError, duration: float) -> tuple[str, float]:
    Attempt.objects.create(notification=n, ok=False, error=exc.message, permanent=exc.permanent, duration=duration)
    final = exc.permanent or attempts >= settings.ALERTS_MAX_ATTEMPTS
    Notification.objects.filter(pk=n.pk, status=Notification.SENDING).update(
        status=Notification.FAILED if final else Notification.PENDING, last_error=exc.message)
    log.warning("notification %s to %s, attempt %d: %s%s", n.pk, n.channel, attempts, exc.message,
                " (permanent)" if exc.permanent else "" if final else f", retry in {backoff(attempts):.0f} s")
    if final:
        n.channel.check_failing()
        return FAILED, 0.0
    return RETRY, backoff(attempts)


def send_test(channel: Channel) -> str:
    """The "send test" button: sends now, in the request, and says what happened."""
    try:
        for_channel(channel).send(sample_message(channel.name))
    except TransportError as exc:
        return f"failed{' (permanent)' if exc.permanent else ''}: {exc.message}"
    except Exception as exc:  # noqa: BLE001 (the button answers whatever a transport does; the log has the rest)
        log.exception("test of channel %s: unexpected error", channel.pk)
        return f"failed: unexpected error ({type(exc).__name__})"
    channel.clear_flag()
    return "sent"


def notifications_for_pair(pair, limit: int = 20) -> list[Notification]:
    """For the pair page: the latest notifications of this pair's flips, newest first."""
    return list(Notification.objects.filter(Q(transition__pair=pair) | Q(risk__pair=pair) | Q(role_change__pair=pair))
                .select_related("channel", "transition", "risk", "role_change").order_by("-id")[:limit])


def failing_channels() -> list[Channel]:
    """For the status page: channels flagged because their last deliveries failed."""
    return list(Channel.objects.exclude(disabled_reason=""))
