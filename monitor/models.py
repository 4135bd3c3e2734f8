from __future__ import annotations

from django.db import models
from django.urls import reverse

from hapanel import encryption
from monitor.vocabulary import KIND_CHOICES, STATUS_CHOICES, Cause, Kind, Status


class CurrentPairs(models.Manager):
    """Pairs still in service: a pair deleted with "keep history" is archived, not removed."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(archived=False)


class Pair(models.Model):
    ONE_WAY = "one-way"
    BIDIRECTIONAL = "bidirectional"
    TOPOLOGIES = [(ONE_WAY, "One-way (primary → secondary)"), (BIDIRECTIONAL, "Bidirectional")]

    name = models.CharField(max_length=100, unique=True)
    topology = models.CharField(max_length=20, choices=TOPOLOGIES, default=BIDIRECTIONAL)
    poll_interval = models.FloatField(default=1.0, help_text="seconds between polls")
    debounce = models.PositiveSmallIntegerField(default=1, help_text="failing polls before Failed")
    lag_warning = models.FloatField(default=5.0, help_text="heartbeat age (s) that raises a warning")
    paused = models.BooleanField(default=False, help_text="maintenance: polled and shown, no alerts")
    created = models.DateTimeField(auto_now_add=True)
    # Deleted with its history kept: hidden from every list and never polled (see CurrentPairs).
    archived = models.BooleanField(default=False)

    objects = CurrentPairs()
    all_objects = models.Manager()

    # Current statuses, written only by monitor.record (compare-and-set).
    ha_status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=Status.UNKNOWN)
    ha_cause = models.CharField(max_length=40, default=Cause.NOT_POLLED)
    ha_since = models.DateTimeField(null=True, blank=True)
    repl_status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=Status.UNKNOWN)
    repl_cause = models.CharField(max_length=40, default=Cause.NOT_POLLED)
    repl_since = models.DateTimeField(null=True, blank=True)
    ha_failing = models.PositiveIntegerField(default=0)
    repl_failing = models.PositiveIntegerField(default=0)
    lag = models.FloatField(null=True, blank=True)
    last_checked = models.DateTimeField(null=True, blank=True)
    # What the board shows of `health`, written with it: pulling them out of the JSON cost the board's query
    # more than reading every other column.
    ha_summary = models.TextField(default="", blank=True)
    repl_summary = models.TextField(default="", blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # The documents last, in the table too (migration 0003): SQLite reads a row's columns in order, and these
    # few kB spill into overflow pages that the board's query would otherwise walk through.
    health = models.JSONField(default=dict, blank=True)  # the last PairHealth as a dict
    readings = models.JSONField(default=dict, blank=True)  # the last readings of both nodes
    # Warnings before failures (monitor.risk_record): the board's marker of the open ones, and the last checkup.
    risk_marker = models.JSONField(default=dict, blank=True)
    checked_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def health_columns(health: dict) -> dict:
        """The board's columns taken from a health document (`PairHealth.to_dict()`)."""
        return {"ha_summary": (health.get("ha") or {}).get("summary", ""),
                "repl_summary": (health.get("replication") or {}).get("summary", ""),
                "warnings": list(health.get("warnings") or [])}

    def get_absolute_url(self) -> str:
        return reverse("pair", args=[self.pk])

    def node(self, role: str) -> Node:
        return next(n for n in self.nodes.all() if n.role == role)


class Node(models.Model):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    ROLES = [(PRIMARY, "Primary"), (SECONDARY, "Secondary")]
    TLS_OFF = "off"
    TLS_REQUIRED = "required"
    TLS_VERIFY_CA = "verify-ca"
    TLS_VERIFY_IDENTITY = "verify-identity"
    TLS_MODES = [
        (TLS_VERIFY_IDENTITY, "Verify CA and host name"),
        (TLS_VERIFY_CA, "Verify CA"),
        (TLS_REQUIRED, "Required, not verified"),
        (TLS_OFF, "Off (not recommended)"),
    ]

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="nodes")
    role = models.CharField(max_length=10, choices=ROLES)
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=3306)
    known_as = models.CharField(
        max_length=1000, blank=True, help_text="other names and addresses, comma-separated (slave_hosts)"
    )
    monitor_user = models.CharField(max_length=80, default="hapanel_monitor")
    monitor_password_enc = models.TextField(blank=True)
    tls_mode = models.CharField(max_length=20, choices=TLS_MODES, default=TLS_VERIFY_IDENTITY)
    ca_cert = models.TextField(blank=True, help_text="PEM")
    client_cert = models.TextField(blank=True, help_text="PEM")
    client_key_enc = models.TextField(blank=True)

    class Meta:
        ordering = ["pair", "role"]
        constraints = [models.UniqueConstraint(fields=["pair", "role"], name="one_node_per_role")]

    def __str__(self) -> str:
        return f"{self.pair.name}/{self.role} {self.address}"

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def set_password(self, plain: str) -> None:
        self.monitor_password_enc = encryption.encrypt(plain)

    def get_password(self) -> str:
        return encryption.decrypt(self.monitor_password_enc)

    def set_client_key(self, pem: str) -> None:
        self.client_key_enc = encryption.encrypt(pem)

    def get_client_key(self) -> str:
        return encryption.decrypt(self.client_key_enc)


class Transition(models.Model):
    HA = Kind.HA
    REPLICATION = Kind.REPLICATION
    KINDS = KIND_CHOICES

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="transitions")
    kind = models.CharField(max_length=12, choices=KINDS)
    old_status = models.CharField(max_length=10, choices=STATUS_CHOICES)
    new_status = models.CharField(max_length=10, choices=STATUS_CHOICES)
    cause = models.CharField(max_length=40)
    summary = models.TextField(blank=True)
    remediation = models.TextField(blank=True, default="", help_text="what to do, as the flip's alerts say it")
    evidence = models.JSONField(default=dict, blank=True)
    detected_at = models.DateTimeField(db_index=True)
    paused = models.BooleanField(default=False, help_text="recorded during maintenance: no alerts")
    processed = models.DateTimeField(null=True, blank=True, help_text="alerts queued")

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [models.Index(fields=["pair", "-detected_at"])]

    def __str__(self) -> str:
        return f"{self.pair.name} {self.get_kind_display()} {self.old_status} → {self.new_status} ({self.cause})"


class PairRisk(models.Model):
    """One episode of a warning before a failure: raised by a checkup, cleared by the first checkup that no longer
    finds it. Open episodes are the pair's current warnings; the rest is their history. Written only by
    monitor.risk_record (an open episode is unique per pair and key, so two workers raise it once)."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="risk_episodes")
    key = models.CharField(max_length=120)  # code:subject, monitor.risks.checkup.Risk.key
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10)
    subject = models.CharField(max_length=40)
    summary = models.TextField()
    remediation = models.TextField(blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    nodes = models.JSONField(default=list, blank=True)  # the roles it rests on: unread, they keep it open
    raised_at = models.DateTimeField()
    checked_at = models.DateTimeField()  # the last checkup that found it
    cleared_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False, help_text="raised during maintenance: no alerts")
    # The alert outbox: when the notifications of the raise and of the clearing were made.
    raise_processed = models.DateTimeField(null=True, blank=True)
    clear_processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["pair", "key"], condition=models.Q(cleared_at__isnull=True),
                                               name="one_open_risk")]
        indexes = [models.Index(fields=["pair", "cleared_at"])]

    def __str__(self) -> str:
        return f"{self.pair.name} {self.code} ({self.subject}){' cleared' if self.cleared_at else ''}"


class RoleChange(models.Model):
    """The pair's roles swapped in the panel (a switchover or a failover): which node became the primary, who said
    so. The nodes' roles are the monitor's own record; the servers are changed by an operator, not here. The
    row is the alert outbox of the `roles-changed` event, like a Transition."""

    pair = models.ForeignKey(Pair, on_delete=models.CASCADE, related_name="role_changes")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150, blank=True)
    primary = models.CharField(max_length=300)  # the new primary's address
    secondary = models.CharField(max_length=300)  # the new secondary's (the old primary)
    reason = models.CharField(max_length=300, blank=True)  # "planned switchover", "failover" ...
    paused = models.BooleanField(default=False, help_text="made during maintenance: no alerts")
    processed = models.DateTimeField(null=True, blank=True, help_text="alerts queued")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.pair.name}: {self.primary} became the primary"
