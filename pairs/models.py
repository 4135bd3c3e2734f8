from __future__ import annotations

from django.conf import settings
from django.db import models

from monitor.models import Pair


class PairChange(models.Model):
    """One admin action on a pair: who, when, and each field's old and new value (secrets masked)."""

    CREATED, EDITED, DELETED, PAUSED, RESUMED, SETUP = "created", "edited", "deleted", "paused", "resumed", "setup"
    ACTIONS = [(CREATED, "created"), (EDITED, "edited"), (DELETED, "deleted"), (PAUSED, "paused"),
               (RESUMED, "resumed"), (SETUP, "setup generated")]

    # Nullable: the record of a deletion outlives the pair it was about.
    pair = models.ForeignKey(Pair, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    pair_name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=10, choices=ACTIONS)
    changes = models.JSONField(default=dict, blank=True)  # {"primary.host": {"old": ..., "new": ...}}
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.pair_name} {self.action} by {self.username or 'system'}"


from pairs.repair.models import Repair, RepairEvent  # noqa: E402 (the repairs' audit lives with its assistant)

__all__ = ["PairChange", "Repair", "RepairEvent"]
