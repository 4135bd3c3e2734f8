"""The transition history: filters shared by the transitions page and the API."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from hapanel.url_converters import parse_id
from monitor.models import Transition

KINDS = dict(Transition.KINDS)
# "+00:00" arrives as " 00:00" when a client forgets to URL-encode the plus sign.
_LOST_PLUS = re.compile(r" (\d\d(:?\d\d)?)$")


class BadFilter(ValueError):
    """A filter value the user has to correct; the message says how."""


def parse_when(value: str, what: str) -> dt.datetime | None:
    """ISO 8601 (`2025-03-01T12:00:00Z`, `…+02:00`, `2025-03-01`); naive times are in the panel's time zone."""
    value = (value or "").strip()
    if not value:
        return None
    value = _LOST_PLUS.sub(r"+\1", value) if "T" in value else value
    try:
        when = parse_datetime(value)
        if when is None and (day := parse_date(value)) is not None:
            when = dt.datetime.combine(day, dt.time())
    except ValueError:
        when = None
    if when is None:
        raise BadFilter(f"{what}={value!r} is not an ISO 8601 time; use e.g. 2025-03-01T12:00:00Z")
    when = timezone.make_aware(when) if timezone.is_naive(when) else when
    try:
        # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts (up to ±23:59).
        return when.astimezone(dt.UTC)
    except OverflowError:
        raise BadFilter(f"{what}={value!r} is outside the years a time can hold") from None


@dataclass
class Filters:
    pair: int | None = None
    kind: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def parse(cls, params) -> Filters:
        pair = (params.get("pair") or "").strip()
        pair_id = parse_id(pair)
        if pair and pair_id is None:
            raise BadFilter(f"pair={pair[:40]!r} is not a pair id")
        kind = params.get("kind") or ""
        if kind and kind not in KINDS:
            raise BadFilter(f"kind={kind!r} is not one of: {', '.join(KINDS)}")
        return cls(pair_id, kind, parse_when(params.get("since", ""), "since"),
                   parse_when(params.get("until", ""), "until"))

    def apply(self, qs: QuerySet[Transition]) -> QuerySet[Transition]:
        if self.pair is not None:
            qs = qs.filter(pair_id=self.pair)
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.since:
            qs = qs.filter(detected_at__gte=self.since)
        if self.until:
            qs = qs.filter(detected_at__lt=self.until)
        return qs


def transitions(filters: Filters) -> QuerySet[Transition]:
    return filters.apply(Transition.objects.select_related("pair").only(
        "id", "kind", "old_status", "new_status", "cause", "summary", "detected_at", "paused", "pair__id",
        "pair__name"))


def api_transition(t: Transition) -> dict:
    return {"id": t.pk, "pair": {"id": t.pair_id, "name": t.pair.name}, "kind": t.kind, "old_status": t.old_status,
            "new_status": t.new_status, "cause": t.cause, "summary": t.summary,
            "detected_at": t.detected_at.isoformat(), "paused": t.paused}
