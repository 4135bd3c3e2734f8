"""Flapping: more than N alerted flips of a pair in M minutes send one `flapping` alert, hold the rest,
and, once the pair has not flipped for a while, one `stable again` summary."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from alerts.models import FlapEpisode, Notification
from monitor.models import Pair, Transition


def classify(t: Transition) -> str:
    """What the notifications of this flip are: a plain FLIP, the FLAPPING alert, or HELD."""
    window = t.detected_at - dt.timedelta(minutes=settings.ALERTS_FLAP_MINUTES)
    if _hold(t):
        return Notification.HELD
    recent = (Transition.objects.filter(pair_id=t.pair_id, detected_at__gte=window, notifications__isnull=False)
              .exclude(pk=t.pk).values("pk").distinct().count())
    if recent + 1 <= settings.ALERTS_FLAP_FLIPS:
        return Notification.FLIP
    try:
        with transaction.atomic():
            FlapEpisode.objects.create(pair_id=t.pair_id, started=t.detected_at, last_flip=t.detected_at)
    except IntegrityError:  # another worker opened the episode a moment ago: this flip is held
        return Notification.HELD if _hold(t) else Notification.FLIP
    return Notification.FLAPPING


def _hold(t: Transition) -> bool:
    hit = FlapEpisode.objects.filter(pair_id=t.pair_id, ended__isnull=True).update(
        held=F("held") + 1, last_flip=Greatest("last_flip", Value(t.detected_at, output_field=DateTimeField())))
    return hit == 1


def close_stable(now: dt.datetime | None = None) -> list[int]:
    """Ends the episodes of pairs quiet for ALERTS_STABLE_SECONDS; returns the summary notifications made."""
    now = now or timezone.now()
    quiet_since = now - dt.timedelta(seconds=settings.ALERTS_STABLE_SECONDS)
    made: list[int] = []
    for episode in FlapEpisode.objects.filter(ended__isnull=True, last_flip__lt=quiet_since):
        # Compare-and-set: one beat (or worker) closes an episode and writes its summary.
        if FlapEpisode.objects.filter(pk=episode.pk, ended__isnull=True).update(ended=now) != 1:
            continue
        last = Transition.objects.filter(pair_id=episode.pair_id).order_by("-id").first()
        channels = (Notification.objects.filter(transition__pair_id=episode.pair_id, purpose=Notification.FLAPPING,
                                                transition__detected_at__gte=episode.started)
                    .values_list("channel_id", "event").distinct())
        for channel_id, event in channels:
            n, created = Notification.objects.get_or_create(
                transition=last, channel_id=channel_id, purpose=Notification.STABLE, defaults={"event": event})
            if created:
                made.append(n.pk)
    return made


def is_flapping(pair: Pair) -> bool:
    return FlapEpisode.objects.filter(pair=pair, ended__isnull=True).exists()
