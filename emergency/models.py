"""Emergency access in the panel's own database: how to reach a pair's vault, the audit outbox,
TOTP replay state and drill windows. Nothing here lives on a monitored server."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from hapanel import encryption
from monitor.models import Pair


class Access(models.Model):
    """The accounts emergency access uses for one pair: a SELECT-only reader (served from the
    secondary) and an audit writer (INSERT on the vault's audit table, used on the primary only)."""

    pair = models.OneToOneField(Pair, on_delete=models.CASCADE, related_name="emergency")
    schema = models.CharField(max_length=64, default="vault")
    reader_user = models.CharField(max_length=80, default="hapanel_emergency")
    reader_password_enc = models.TextField(blank=True)
    writer_user = models.CharField(max_length=80, default="hapanel_audit")
    writer_password_enc = models.TextField(blank=True)
    # Where users normally open the vault: the closed emergency page sends them there.
    web_url = models.URLField(max_length=300, blank=True)
    # The last failed delivery of the audit outbox to the primary, in words; empty once one succeeds.
    drain_error = models.CharField(max_length=300, blank=True)
    drain_error_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"emergency access to {self.pair.name} ({self.schema})"

    def set_passwords(self, reader: str, writer: str) -> None:
        self.reader_password_enc, self.writer_password_enc = encryption.encrypt(reader), encryption.encrypt(writer)

    def reader_password(self) -> str:
        return encryption.decrypt(self.reader_password_enc)

    def writer_password(self) -> str:
        return encryption.decrypt(self.writer_password_enc)


class OutboxEvent(models.Model):
    """One audit event, durable here before the answer is sent; `delivered` once the primary has it."""

    LOGIN, LOGIN_FAILED, LOGOUT, RETRIEVE = "login", "login-failed", "logout", "password-retrieval"
    RETRIEVE_REFUSED = "password-retrieval-refused"
    DRILL = "drill-open"

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="emergency_outbox")
    at = models.DateTimeField(default=timezone.now)
    username = models.CharField(max_length=150)  # as typed: the audit keeps what the user sent
    # The user name as the vault's collation compares it (case and accents ignored): lockout counts by it.
    subject = models.CharField(max_length=150, blank=True)
    operation = models.CharField(max_length=40)
    resource = models.CharField(max_length=200, blank=True)
    account = models.CharField(max_length=200, blank=True)
    served_by = models.CharField(max_length=260, blank=True, help_text="the node that served the request")
    client_addr = models.CharField(max_length=64, blank=True)
    origin = models.CharField(max_length=20, default="emergency")
    detail = models.CharField(max_length=200, blank=True)
    delivered = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["pair", "delivered"]),
            models.Index(fields=["operation", "username", "at"]),
            models.Index(fields=["pair", "operation", "subject", "at"]),
            models.Index(fields=["operation", "client_addr", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.operation} {self.resource}/{self.account}"


class TotpUse(models.Model):
    """A time step whose code was accepted: inserting it twice fails, so a replayed code is refused."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE)
    username = models.CharField(max_length=150)
    step = models.BigIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pair", "username", "step"], name="totp_step_once")]


class Drill(models.Model):
    """An admin opened emergency access while the primary is fine, for a fire drill, until `until`."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="emergency_drills")
    opened_by = models.CharField(max_length=150)
    opened_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-opened_at"]


class VaultComparison(models.Model):
    """The last comparison of the secondary's copy of the vault with the primary's (emergency/vault_compare.py):
    when, at which position, each table's result with the keys of the rows that differ (never their values), or
    why it could not run. One row per pair, rewritten by each comparison."""

    EQUAL, DIFFERS, ERROR = "equal", "differs", "error"
    OUTCOMES = [(EQUAL, "the copies are equal"), (DIFFERS, "the copies differ"), (ERROR, "could not compare")]

    pair = models.OneToOneField(Pair, on_delete=models.CASCADE, related_name="vault_comparison")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=OUTCOMES)
    account = models.CharField(max_length=80, blank=True, help_text="the account both nodes were read with")
    position = models.CharField(max_length=2000, blank=True, help_text="the primary's GTID position compared at")
    tables = models.JSONField(default=list, blank=True)  # monitor.risks.vault.TableResult.to_dict(), per table
    rounds = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"vault comparison of {self.pair.name}: {self.outcome}"

    @property
    def differing_tables(self) -> list[dict]:
        """The tables that differ, each with the keys of its differing rows as text ("id=3, id=7")."""
        from monitor.risks.vault import key_text

        return [{**t, "keys_text": ", ".join(key_text(tuple(t.get("key_columns") or ()), tuple(k))
                                             for k in t.get("keys") or [])}
                for t in self.tables if t.get("differing") or t.get("problem")]

    @property
    def unsettled(self) -> int:
        return sum(t.get("unsettled", 0) for t in self.tables)

    @property
    def table_names(self) -> str:
        return ", ".join(t.get("table", "") for t in self.tables)
