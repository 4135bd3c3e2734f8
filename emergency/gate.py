"""Whether emergency access is open for a pair, and what to tell its users.

Open when users may need it: the monitor recorded the primary down or hung, the link between the sites is
cut while the secondary still answers, this panel's own connection to the primary is refused or times out
(the page must not depend on the monitor running), or an admin opened a drill. Closed, with the reason,
when the panel merely cannot log in to the primary (its own account or TLS settings), when an operator
stopped replication on purpose, or when the copy on the secondary cannot be read.

The words here are for the vault's users: no cause codes, addresses or server error text. Those go to the
log and the pair page, for the operators.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from emergency.connect import copy_reach, nodes, primary_reach
from emergency.models import Access, Drill
from monitor.models import Node, Pair
from monitor.readings import Reach
from monitor.vocabulary import Cause, Status

# Why the gate is open or closed: a word for the templates and the tests, never shown to users.
PRIMARY_DOWN, PRIMARY_HUNG, PRIMARY_SILENT, LINK_CUT, DRILL = (
    "primary-down", "primary-hung", "primary-silent", "link-cut", "drill")
AVAILABLE, PANEL_LOGIN, OPERATOR_STOP, COPY_UNREADABLE = (
    "available", "panel-login", "operator-stop", "copy-unreadable")

WHAT = {
    PRIMARY_DOWN: "The main vault server is down",
    PRIMARY_HUNG: "The main vault server has stopped responding",
    PRIMARY_SILENT: "The main vault server does not answer",
    LINK_CUT: "The connection between the two sites is cut, so the main vault server cannot be reached from here",
    AVAILABLE: "The main vault server is working",
    PANEL_LOGIN: "The main vault server is expected to be working: only this emergency page cannot sign in to "
                 "it to check, which is a fault of this page's settings, not an outage",
    OPERATOR_STOP: "The main vault server is working: an administrator paused the copying to the standby "
                   "server on purpose, for maintenance",
    COPY_UNREADABLE: "The emergency copy cannot be read: the standby server that holds it does not answer",
}


@dataclass(frozen=True)
class CopyAge:
    """How old the secondary's copy is: the time of the newest change from the primary that reached it."""

    as_of: dt.datetime | None  # None: unknown
    seconds: float | None = None
    warn: bool = True


@dataclass(frozen=True)
class Gate:
    open: bool
    why: str  # one of the words above
    primary: str  # addresses, for the audit trail and the log: never on the page
    secondary: str
    since: dt.datetime | None = None
    drill_until: dt.datetime | None = None
    drill_by: str = ""
    web_url: str = ""
    copy: CopyAge | None = None

    @property
    def what(self) -> str:
        return WHAT.get(self.why, "")

    @property
    def reason(self) -> str:
        """The reason in plain words, as users read it."""
        if self.why == DRILL:
            return f"An emergency drill is running, opened by {self.drill_by}"
        return self.what


def copy_age(pair: Pair, now: dt.datetime | None = None) -> CopyAge:
    """From the monitor's last reading of the secondary: the primary's heartbeat row there was `age` seconds
    old at `last_checked`, so the copy holds the primary's changes up to `last_checked - age`."""
    hb = ((pair.readings or {}).get("secondary") or {}).get("peer_heartbeat") or {}
    age = hb.get("age")
    if pair.last_checked is None or not isinstance(age, int | float):
        return CopyAge(None)
    as_of = pair.last_checked - dt.timedelta(seconds=float(age))
    seconds = max(0.0, ((now or timezone.now()) - as_of).total_seconds())
    return CopyAge(as_of, seconds, seconds > settings.EMERGENCY_COPY_WARN_SECONDS)


def gate(pair: Pair) -> Gate:
    access: Access = pair.emergency
    both = nodes(pair)
    base = {"primary": both[Node.PRIMARY].address, "secondary": both[Node.SECONDARY].address,
            "web_url": access.web_url}
    is_open, why, since, drill = _opening(pair)
    if not is_open:
        return Gate(False, why, **base)
    if not copy_reach(access).ok:  # logged by the check, with the server's words
        return Gate(False, COPY_UNREADABLE, **base)
    extra = {"drill_until": drill.until, "drill_by": drill.opened_by} if drill is not None else {}
    return Gate(True, why, since=since, copy=copy_age(pair), **base, **extra)


def recorded_why(ha_status: str, ha_cause: str, primary_reach: str | None) -> str | None:
    """Why the statuses the monitor recorded open the page, or None when they do not (pure).

    `primary_reach` is how the monitor's own connection to the primary ended at the last recorded reading. A
    primary recorded down is down for sure only when its host answered and refused the connection: one that
    merely went silent to the monitor and to the secondary is down, or working beyond a partition for the
    users at its own site (a panel at the secondary's site sees a split of the sites exactly so), and users
    are told that it does not answer, not that it is down."""
    if ha_cause == Cause.PRIMARY_DOWN:
        return PRIMARY_DOWN if primary_reach == Reach.REFUSED else PRIMARY_SILENT
    if ha_cause == Cause.PRIMARY_HUNG:
        return PRIMARY_HUNG
    if ha_status == Status.FAILED and ha_cause == Cause.LINK_CUT:
        return LINK_CUT
    return None


def _opening(pair: Pair) -> tuple[bool, str, dt.datetime | None, Drill | None]:
    """(open, why, since, drill), before the copy on the secondary is checked."""
    cause = pair.ha_cause
    recorded_since = pair.ha_since if pair.ha_status != Status.ALIVE else None
    primary = ((pair.readings or {}).get("primary") or {}).get("reach")
    why = recorded_why(pair.ha_status, cause, primary if isinstance(primary, str) else None)
    if why == LINK_CUT:
        return True, why, recorded_since, None
    if why is not None:
        return True, why, recorded_since or _reach_since(pair), None
    drill = Drill.objects.filter(pair=pair, until__gt=timezone.now()).first()
    if drill is not None:
        return True, DRILL, drill.opened_at, drill
    reach = primary_reach(pair)
    if reach.server_gone:  # refused or timed out from here: gone for the users of this panel too
        return True, PRIMARY_SILENT, _reach_since(pair), None
    if not reach.ok:  # an auth or TLS error of the panel's own account: logged by the check, for the operators
        return False, PANEL_LOGIN, None, None
    if cause == Cause.STOPPED_BY_OPERATOR:
        return False, OPERATOR_STOP, None, None
    return False, AVAILABLE, None, None


def _reach_since(pair: Pair) -> dt.datetime | None:
    reach = primary_reach(pair)
    if reach.ok or reach.down_since is None:
        return pair.ha_since if pair.ha_status != Status.ALIVE else None
    since = dt.datetime.fromtimestamp(reach.down_since, tz=dt.UTC)
    if pair.ha_status != Status.ALIVE and pair.ha_since:
        since = min(since, pair.ha_since)
    return since
