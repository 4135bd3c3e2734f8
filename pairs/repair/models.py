"""The audit of repairs: who opened which procedure for which pair, confirmed which step, ran which check."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from monitor.models import Pair


class Repair(models.Model):
    """One run of an assistant on a pair, with the options its steps were generated from."""

    # Nullable: the record of a repair outlives the pair it was about.
    pair = models.ForeignKey(Pair, null=True, blank=True, on_delete=models.SET_NULL, related_name="repairs")
    pair_name = models.CharField(max_length=100)
    procedure = models.CharField(max_length=20, default="rebuild")
    target = models.CharField(max_length=10)  # the node repaired: primary | secondary
    method = models.CharField(max_length=20)
    options = models.JSONField(default=dict, blank=True)  # flavour, version, hosts: what generated the steps
    # The source's GTID position when the repair began: a copy taken during the repair reaches at least this.
    baseline = models.TextField(blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    opened_by_name = models.CharField(max_length=150, blank=True)
    opened_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"{self.procedure} of the {self.target} of {self.pair_name}"


class RepairEvent(models.Model):
    OPENED, CONFIRMED, CHECKED = "opened", "confirmed", "checked"
    ACTIONS = [(OPENED, "opened"), (CONFIRMED, "confirmed done"), (CHECKED, "ran the check")]

    repair = models.ForeignKey(Repair, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=10, choices=ACTIONS)
    step = models.CharField(max_length=30, blank=True)
    result = models.CharField(max_length=10, blank=True)  # the check's: done, not yet, unknown
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.username or 'system'} {self.action} {self.step} {self.result}".strip()
