"""Channels (where alerts go), routes (which events go where) and notifications (one per flip per channel)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from alerts.transports import mask_url
from hapanel import encryption
from monitor.models import Pair, PairRisk, RoleChange, Transition

# Event kinds an admin can route; `flapping` and `stable` follow the routes of the flips they stand for.
HA_FAILED, HA_ALIVE = "ha-failed", "ha-alive"
REPL_FAILED, REPL_ALIVE = "replication-failed", "replication-alive"
MONITOR_STALE, MONITOR_RECOVERED = "monitor-stale", "monitor-recovered"
# The panel cannot tell any more (its login refused, neither node reachable, an answer it cannot read), and can
# again: losing sight of a pair is news, though not a failure of the pair.
SIGHT_LOST, SIGHT_BACK = "sight-lost", "sight-back"
# A warning before a failure (monitor/risks/) raised by a checkup, and cleared once the checkup no longer finds it.
WARNING_RAISED, WARNING_CLEARED = "warning-raised", "warning-cleared"
# An admin swapped the pair's roles in the panel (a switchover or a failover): the primary is another server now.
ROLES_CHANGED = "roles-changed"
EVENTS = [
    (HA_FAILED, "High Availability Failed"),
    (HA_ALIVE, "High Availability Alive"),
    (REPL_FAILED, "Replication Failed"),
    (REPL_ALIVE, "Replication Alive"),
    (MONITOR_STALE, "Monitor stale"),
    (MONITOR_RECOVERED, "Monitor recovered"),
    (SIGHT_LOST, "Lost sight of the pair"),
    (SIGHT_BACK, "Sight of the pair regained"),
    (WARNING_RAISED, "Warning raised"),
    (WARNING_CLEARED, "Warning cleared"),
    (ROLES_CHANGED, "Roles changed"),
]
# Routed for all pairs when a channel is made: a new channel hears of every failure, and the admin unroutes
# what it should not get, rather than a first failure going unheard because nobody ticked its box.
ON_BY_DEFAULT = tuple(event for event, _ in EVENTS)
EVENT_TITLES = dict(EVENTS)
# Config keys holding secrets: stored encrypted under "<key>_enc", decrypted only to send.
SECRET_KEYS = ("secret", "auth_key", "priv_key")


class Channel(models.Model):
    EMAIL, SNMP, SYSLOG, WEBHOOK = "email", "snmp", "syslog", "webhook"
    KINDS = [(EMAIL, "Email"), (SNMP, "SNMP trap"), (SYSLOG, "Syslog"), (WEBHOOK, "Webhook")]

    kind = models.CharField(max_length=10, choices=KINDS)
    name = models.CharField(max_length=100)
    config = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    # Set when the channel keeps failing (flagged on the status page); cleared by the next delivery that works.
    disabled_reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"

    @property
    def flagged(self) -> bool:
        return bool(self.disabled_reason)

    def transport_config(self) -> dict:
        """The config as a transport needs it: secrets decrypted, under their plain names."""
        config = {k: v for k, v in self.config.items() if not k.endswith("_enc")}
        for key in SECRET_KEYS:
            if self.config.get(f"{key}_enc"):
                config[key] = encryption.decrypt(self.config[f"{key}_enc"])
        return config

    def has_secret(self, key: str) -> bool:
        return bool(self.config.get(f"{key}_enc"))

    @property
    def target(self) -> str:
        """Where the channel sends, as anyone may see it: a webhook's URL without its path and query."""
        c = self.config
        if self.kind == self.EMAIL:
            return ", ".join(c.get("recipients") or [])
        if self.kind == self.WEBHOOK:
            return mask_url(c.get("url") or "")
        if c.get("protocol") == "unix":
            return c.get("path") or "/dev/log"
        return f"{c.get('protocol', '')} {c.get('host')}:{c.get('port')}".strip()

    def check_failing(self) -> None:
        """Flags the channel when its last N finished deliveries all failed."""
        n = settings.ALERTS_FLAG_AFTER
        last = list(self.notifications.filter(status__in=[Notification.SENT, Notification.FAILED])
                    .order_by("-id").values_list("status", "last_error")[:n])
        if len(last) == n and all(s == Notification.FAILED for s, _ in last):
            reason = f"the last {n} deliveries failed; latest: {last[0][1]}"[:300]
            Channel.objects.filter(pk=self.pk).update(disabled_reason=reason)

    def clear_flag(self) -> None:
        if self.disabled_reason:
            Channel.objects.filter(pk=self.pk).update(disabled_reason="")


class Route(models.Model):
    event = models.CharField(max_length=20, choices=EVENTS)
    pair = models.ForeignKey(Pair, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_routes",
                             help_text="empty: every pair")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="routes")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "pair", "channel"], name="one_route_per_pair"),
            models.UniqueConstraint(fields=["event", "channel"], condition=Q(pair__isnull=True),
                                    name="one_route_for_all_pairs"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.channel} ({self.pair or 'all pairs'})"


class Notification(models.Model):
    PENDING, SENDING, SENT, FAILED, HELD = "pending", "sending", "sent", "failed", "held"
    STATUSES = [(PENDING, "pending"), (SENDING, "sending"), (SENT, "sent"), (FAILED, "failed"),
                (HELD, "held (flapping)")]
    # What the message says: the flip itself, "this pair is flapping", or the summary once it is stable.
    FLIP, FLAPPING, STABLE, DIGEST = "flip", "flapping", "stable", "digest"
    PURPOSES = [(FLIP, "flip"), (FLAPPING, "flapping"), (STABLE, "stable again"), (DIGEST, "digest of held flips")]

    # What it tells: a flip (transition), or the raising or clearing of a warning before a failure (risk).
    transition = models.ForeignKey(Transition, on_delete=models.CASCADE, related_name="notifications", null=True,
                                   blank=True)
    risk = models.ForeignKey(PairRisk, on_delete=models.CASCADE, related_name="notifications", null=True, blank=True)
    role_change = models.ForeignKey(RoleChange, on_delete=models.CASCADE, related_name="notifications", null=True,
                                    blank=True)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=20, choices=EVENTS)
    purpose = models.CharField(max_length=10, choices=PURPOSES, default=FLIP)
    status = models.CharField(max_length=10, choices=STATUSES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Exactly once: a flip (or the stable summary closing a flapping episode) per channel.
            models.UniqueConstraint(fields=["transition", "channel", "purpose"], name="one_notification"),
            # Exactly once: a warning's raising, and its clearing, per channel.
            models.UniqueConstraint(fields=["risk", "channel", "event"], condition=Q(risk__isnull=False),
                                    name="one_risk_notification"),
            # Exactly once: a swap of the pair's roles per channel.
            models.UniqueConstraint(fields=["role_change", "channel"], condition=Q(role_change__isnull=False),
                                    name="one_role_change_notification"),
        ]

    def __str__(self) -> str:
        return f"{self.transition or self.risk or self.role_change} → {self.channel}: {self.status}"

    @property
    def pair(self) -> Pair:
        if self.role_change_id:
            return self.role_change.pair
        return self.transition.pair if self.transition_id else self.risk.pair

    @property
    def what(self) -> str:
        """What it told, in a few words, for the lists of alerts."""
        if self.transition_id:
            t = self.transition
            return f"{t.old_status} → {t.new_status} ({t.cause})"
        if self.role_change_id:
            return f"primary now {self.role_change.primary}"
        return f"{self.risk.code} ({self.risk.subject})"

    @property
    def event_title(self) -> str:
        if self.purpose == self.FLAPPING:
            return "Flapping"
        if self.purpose == self.STABLE:
            return "Stable again"
        if self.purpose == self.DIGEST:
            return "Still flapping"
        return EVENT_TITLES.get(self.event, self.event)

    def claim(self, now: dt.datetime | None = None) -> bool:
        """Compare-and-set: only one sender turns this row `sending`; a stuck claim expires."""
        now = now or timezone.now()
        stuck = now - dt.timedelta(seconds=settings.ALERTS_CLAIM_TIMEOUT)
        hit = Notification.objects.filter(
            Q(status=self.PENDING) | Q(status=self.SENDING, claimed_at__lt=stuck), pk=self.pk,
        ).update(status=self.SENDING, claimed_at=now, attempts=models.F("attempts") + 1)
        return hit == 1


class Attempt(models.Model):
    """Every try of every notification, with its error: the delivery log."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    error = models.TextField(blank=True)
    permanent = models.BooleanField(default=False)
    duration = models.FloatField(help_text="seconds")

    class Meta:
        ordering = ["-at"]


class FlapEpisode(models.Model):
    """A pair flipping too often: one `flapping` alert when it starts, flips held, one summary at the end."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="flap_episodes")
    started = models.DateTimeField()
    last_flip = models.DateTimeField()
    held = models.PositiveIntegerField(default=0)
    ended = models.DateTimeField(null=True, blank=True)
    # The held flips told in the last digest, and when: a digest goes out at most every ALERTS_DIGEST_SECONDS.
    digested = models.PositiveIntegerField(default=0)
    last_digest = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started"]
        constraints = [models.UniqueConstraint(fields=["pair"], condition=Q(ended__isnull=True),
                                               name="one_open_episode")]
