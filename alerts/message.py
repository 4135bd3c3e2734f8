"""What an alert says, once, in plain data; each transport renders it in its own format."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from alerts.models import EVENT_TITLES, WARNING_RAISED, FlapEpisode, Notification
from hapanel.durations import humanize
from monitor.models import Transition


@dataclass(frozen=True)
class Message:
    event: str  # ha-failed ... or flapping / stable / test
    title: str  # "High Availability Failed"
    pair: str
    status_kind: str  # "High Availability" / "Replication" / "" for a test
    old_status: str
    new_status: str
    cause: str
    summary: str
    evidence: dict = field(default_factory=dict)
    detected_at: dt.datetime | None = None
    previous_lasted: float | None = None  # seconds the previous state of this status lasted
    url: str = ""
    notification_id: int | None = None
    what_to_do: str = ""  # the remediation line the pair page shows for this cause
    # An earlier send of this notification may have reached the receiver: its sender stopped before it could
    # record the outcome. Receivers that keep `notification` (X-Hapanel-Delivery) can drop the repeat.
    maybe_repeat: bool = False

    @property
    def severity(self) -> str:
        """A syslog-style severity name: failures are errors, recoveries notices."""
        if self.event.endswith("-failed"):
            return "err"
        if self.event in ("monitor-stale", "sight-lost", "flapping", WARNING_RAISED):
            return "warning"
        return "notice"

    @property
    def subject(self) -> str:
        cause = f" ({self.cause})" if self.cause else ""
        return f"[hapanel] {self.pair}: {self.title}{cause}"

    def evidence_lines(self) -> list[str]:
        return [f"{k}: {v}" for k, v in flatten(self.evidence)]

    def text(self) -> str:
        """The body of an email or a chat message: every field on its own line."""
        lines = [self.subject.removeprefix("[hapanel] "), ""]
        if self.maybe_repeat:
            lines[1:1] = [REPEAT_NOTE, ""]
        if self.status_kind:
            lines.append(f"{self.status_kind} Status: {self.old_status} → {self.new_status}")
        if self.summary:
            lines.append(f"Why: {self.summary}")
        if self.what_to_do:
            lines.append(f"What to do: {self.what_to_do}")
        if self.detected_at:
            lines.append(f"When: {self.detected_at.isoformat(timespec='seconds')}")
        if self.previous_lasted is not None:
            lines.append(f"{self.old_status} lasted: {humanize(self.previous_lasted)}")
        if self.url:
            lines.append(f"Pair: {self.url}")
        if self.evidence:
            lines += ["", "Evidence:"] + [f"  {line}" for line in self.evidence_lines()]
        return "\n".join(lines)

    def one_line(self) -> str:
        """Syslog's MSG: one line, the same facts."""
        parts = [self.subject.removeprefix("[hapanel] ")]
        if self.maybe_repeat:
            parts.append("may repeat an earlier message")
        if self.status_kind:
            parts.append(f"{self.status_kind} {self.old_status} -> {self.new_status}")
        if self.summary:
            parts.append(self.summary)
        if self.what_to_do:
            parts.append(f"what to do: {self.what_to_do}")
        if self.previous_lasted is not None:
            parts.append(f"{self.old_status} lasted {humanize(self.previous_lasted)}")
        if self.url:
            parts.append(self.url)
        return " | ".join(parts)


def flatten(value: object, prefix: str = "") -> list[tuple[str, object]]:
    """Nested evidence as `a.b: value` pairs, empty values left out (they explain nothing)."""
    if isinstance(value, dict):
        return [kv for k, v in value.items() for kv in flatten(v, f"{prefix}{k}.")]
    if isinstance(value, list):
        return [kv for i, v in enumerate(value) for kv in flatten(v, f"{prefix}{i}.")]
    if value in (None, "", [], {}):
        return []
    return [(prefix.rstrip("."), value)]


def previous_lasted(t: Transition) -> float | None:
    """How long the state this flip ended lasted: since the previous flip of the same status."""
    prev = (Transition.objects.filter(pair_id=t.pair_id, kind=t.kind, pk__lt=t.pk).order_by("-id")
            .values_list("detected_at", flat=True).first())
    return (t.detected_at - prev).total_seconds() if prev else None


REPEAT_NOTE = ("This may repeat an earlier message: the sender of that one stopped before it could record "
               "whether it arrived.")


def for_notification(n: Notification, maybe_repeat: bool = False) -> Message:
    if n.risk_id:
        return _for_risk(n, maybe_repeat)
    if n.role_change_id:
        return _for_role_change(n, maybe_repeat)
    t = n.transition
    pair = t.pair
    title, summary, event = EVENT_TITLES.get(n.event, n.event), t.summary, n.event
    if n.purpose == Notification.FLAPPING:
        event, title = "flapping", "Flapping"
        summary = (f"more than {settings.ALERTS_FLAP_FLIPS} flips in {settings.ALERTS_FLAP_MINUTES:g} min; "
                   f"further flips are held until it is stable. Latest: {t.summary}")
    elif n.purpose == Notification.DIGEST:
        episode = FlapEpisode.objects.filter(pair_id=t.pair_id, started__lte=t.detected_at).first()
        event, title = "flapping", "Still flapping"
        summary = (f"{episode.held if episode else 0} flips held so far in this flapping episode. Now High "
                   f"Availability {pair.ha_status} ({pair.ha_cause}), Replication {pair.repl_status} "
                   f"({pair.repl_cause}). Latest: {t.summary}")
    elif n.purpose == Notification.STABLE:
        episode = FlapEpisode.objects.filter(pair_id=t.pair_id, started__lte=t.detected_at).first()
        held = episode.held if episode else 0
        event, title = "stable", "Stable again"
        summary = (f"no flip for {settings.ALERTS_STABLE_SECONDS:g} s after flapping; {held} flips were held. "
                   f"Now High Availability {pair.ha_status} ({pair.ha_cause}), "
                   f"Replication {pair.repl_status} ({pair.repl_cause}).")
    return Message(
        event=event, title=title, pair=pair.name, status_kind=t.get_kind_display(), old_status=t.old_status,
        new_status=t.new_status, cause=t.cause, summary=summary, evidence=t.evidence or {},
        detected_at=t.detected_at, previous_lasted=previous_lasted(t),
        url=settings.SITE_URL.rstrip("/") + pair.get_absolute_url(), notification_id=n.pk,
        what_to_do=t.remediation if n.purpose not in (Notification.STABLE, Notification.DIGEST) else "",
        maybe_repeat=maybe_repeat,
    )


def _for_risk(n: Notification, maybe_repeat: bool) -> Message:
    """A warning before a failure, raised or cleared: its summary, evidence and, when raised, what to do."""
    r = n.risk
    raised = n.event == WARNING_RAISED
    cleared_at = r.cleared_at or r.checked_at
    lead = {"critical": "Critical warning", "unknown": "Cannot judge"}.get(r.severity, "Warning")
    summary = (f"{lead} about the {r.subject}: {r.summary}" if raised
               else f"No longer found about the {r.subject}: {r.summary}")
    return Message(
        event=n.event, title=EVENT_TITLES.get(n.event, n.event), pair=r.pair.name, status_kind="",
        old_status="" if raised else "Warning", new_status="raised" if raised else "cleared", cause=r.code,
        summary=summary, evidence=r.evidence or {}, detected_at=r.raised_at if raised else cleared_at,
        previous_lasted=None if raised else (cleared_at - r.raised_at).total_seconds(),
        url=settings.SITE_URL.rstrip("/") + r.pair.get_absolute_url(), notification_id=n.pk,
        what_to_do=r.remediation if raised else "", maybe_repeat=maybe_repeat,
    )


def _for_role_change(n: Notification, maybe_repeat: bool) -> Message:
    """The pair's roles swapped in the panel: which server is the primary now, and who said so."""
    c = n.role_change
    summary = (f"{c.primary} is the primary now, {c.secondary} the secondary"
               + (f" ({c.reason})" if c.reason else "") + f"; swapped by {c.username or 'an admin'}")
    return Message(
        event=n.event, title=EVENT_TITLES.get(n.event, n.event), pair=c.pair.name, status_kind="",
        old_status=f"primary {c.secondary}", new_status=f"primary {c.primary}", cause="", summary=summary,
        evidence={"primary": c.primary, "secondary": c.secondary, "by": c.username}, detected_at=c.at,
        url=settings.SITE_URL.rstrip("/") + c.pair.get_absolute_url(), notification_id=n.pk,
        maybe_repeat=maybe_repeat,
    )


def sample_message(channel_name: str) -> Message:
    from django.utils import timezone

    return Message(event="test", title="Test alert", pair="hapanel", status_kind="", old_status="", new_status="",
                   cause="", summary=f"a test of the channel {channel_name!r}: if you read this, it works.",
                   detected_at=timezone.now(), url=settings.SITE_URL)
