"""When emergency access is open: the primary is unreachable from here, the pair's HA status is
Failed, or an admin opened a drill window. Otherwise users are sent to the primary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from emergency.connect import nodes, primary_reach
from emergency.models import Drill
from monitor.models import Node, Pair
from monitor.vocabulary import Status


@dataclass(frozen=True)
class Gate:
    open: bool
    reason: str
    primary: str
    secondary: str
    since: dt.datetime | None = None
    drill_until: dt.datetime | None = None


def gate(pair: Pair) -> Gate:
    both = nodes(pair)
    primary, secondary = both[Node.PRIMARY].address, both[Node.SECONDARY].address
    if pair.ha_status == Status.FAILED:
        return Gate(True, f"the pair's High Availability status is Failed ({pair.ha_cause})", primary, secondary,
                    pair.ha_since)
    reach = primary_reach(pair)
    if not reach.ok:
        since = dt.datetime.fromtimestamp(reach.down_since or 0, tz=dt.UTC)
        if pair.ha_status != Status.ALIVE and pair.ha_since:
            since = min(since, pair.ha_since)
        return Gate(True, f"this panel cannot reach the primary {primary}: {reach.error}", primary, secondary, since)
    drill = Drill.objects.filter(pair=pair, until__gt=timezone.now()).first()
    if drill is not None:
        return Gate(True, f"drill opened by {drill.opened_by}", primary, secondary, drill.opened_at, drill.until)
    return Gate(False, f"the primary {primary} is available", primary, secondary)
