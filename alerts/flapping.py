"""Flapping: more than N alerted flips of a pair in M minutes send one `flapping` alert, hold the rest,
and, once the pair has not flipped for a while, one `stable again` summary.

Damping oscillation must never hide an incident: during an episode a failure with a cause not seen in it yet
is alerted at once, and a status that stays Failed longer than ALERTS_FLAP_HOLD seconds has its held alerts
released."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from alerts.models import FlapEpisode, Notification
from monitor.models import Pair, Transition
from monitor.vocabulary import Status


def classify(t: Transition) -> str:
    """What the notifications of this flip are: a plain FLIP, the FLAPPING alert, or HELD."""
    window = t.detected_at - dt.timedelta(minutes=settings.ALERTS_FLAP_MINUTES)
    if _new_failure(t):
        return Notification.FLIP
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


def _new_failure(t: Transition) -> bool:
    """A failure whose cause this flapping episode has not shown yet (a crash after cuts) is news."""
    if t.new_status != Status.FAILED:
        return False
    episode = FlapEpisode.objects.filter(pair_id=t.pair_id, ended__isnull=True).first()
    if episode is None:
        return False
    seen = (Transition.objects.filter(pair_id=t.pair_id, detected_at__gte=episode.started, new_status=Status.FAILED,
                                      cause=t.cause).exclude(pk=t.pk))
    return not seen.exists()


def release_sustained(now: dt.datetime | None = None) -> list[int]:
    """The held alerts of a status that has stayed Failed longer than ALERTS_FLAP_HOLD during an episode,
    made pending (each once: compare-and-set on the row); returns their ids to deliver."""
    now = now or timezone.now()
    hold = dt.timedelta(seconds=settings.ALERTS_FLAP_HOLD)
    released: list[int] = []
    for episode in FlapEpisode.objects.filter(ended__isnull=True).select_related("pair"):
        pair = episode.pair
        for kind, status, since in ((Transition.HA, pair.ha_status, pair.ha_since),
                                    (Transition.REPLICATION, pair.repl_status, pair.repl_since)):
            if status != Status.FAILED or since is None or now - since < hold:
                continue
            into_failed = Transition.objects.filter(pair=pair, kind=kind, new_status=Status.FAILED).order_by("-id")
            held = Notification.objects.filter(transition=into_failed[:1], status=Notification.HELD)
            for pk in held.values_list("pk", flat=True):
                if Notification.objects.filter(pk=pk, status=Notification.HELD).update(
                        status=Notification.PENDING) == 1:
                    released.append(pk)
    return released


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
        made += _tell_episode(episode, Notification.STABLE)
    return made


def digests(now: dt.datetime | None = None) -> list[int]:
    """During an episode, a digest of the flips held since the last one, at most every ALERTS_DIGEST_SECONDS,
    to the channels that got the `flapping` alert; returns the notifications made."""
    now = now or timezone.now()
    due = now - dt.timedelta(seconds=settings.ALERTS_DIGEST_SECONDS)
    made: list[int] = []
    for episode in FlapEpisode.objects.filter(ended__isnull=True, held__gt=F("digested")):
        last = episode.last_digest or episode.started
        if last > due:
            continue
        # Compare-and-set: one beat (or worker) tells these held flips.
        if FlapEpisode.objects.filter(pk=episode.pk, digested=episode.digested).update(
                digested=episode.held, last_digest=now) != 1:
            continue
        made += _tell_episode(episode, Notification.DIGEST)
    return made


def _tell_episode(episode: FlapEpisode, purpose: str) -> list[int]:
    """One notification of `purpose` on the pair's latest transition, per channel that got the episode's
    `flapping` alert (made once: the row is unique per transition, channel and purpose); returns the new ids."""
    latest = Transition.objects.filter(pair_id=episode.pair_id).order_by("-id").first()
    channels = (Notification.objects.filter(transition__pair_id=episode.pair_id, purpose=Notification.FLAPPING,
                                            transition__detected_at__gte=episode.started)
                .values_list("channel_id", "event").distinct())
    made = []
    for channel_id, event in channels:
        n, created = Notification.objects.get_or_create(
            transition=latest, channel_id=channel_id, purpose=purpose, defaults={"event": event})
        if created:
            made.append(n.pk)
    return made


def is_flapping(pair: Pair) -> bool:
    return FlapEpisode.objects.filter(pair=pair, ended__isnull=True).exists()
