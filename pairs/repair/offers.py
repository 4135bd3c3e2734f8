"""Which causes and warnings offer the rebuild assistant, and for which node. Pure: no Django.

The pair page links "Rebuild the … from the …" from the card of a status whose cause is listed here. A new
cause or warning whose way out is a fresh copy adds its code to REBUILD with the sentence that says why; the
link, its wording and the node it rebuilds follow from here.
"""

from __future__ import annotations

from monitor.vocabulary import Cause as C
from pairs.repair.apply_error import SMALL_ERRNOS

# code -> why a rebuild is the way out; the code of a cause (monitor.vocabulary.Cause) or of a warning.
REBUILD: dict[str, str] = {
    C.BINLOG_MISSING: "the source no longer holds the binary logs the replica needs: only a fresh copy brings it back",
    C.APPLY_ERROR: "when the data differ in more rows than you can fix by hand, a fresh copy of the source is the "
                   "safe way back (skipping events would leave them different)",
    C.NOT_CONFIGURED: "a node that was replaced, or lost its data, starts from a fresh copy of the other node",
}


def rebuild_reason(code: str) -> str:
    """Why the rebuild is offered for this cause or warning; "" when it is not."""
    return REBUILD.get(code, "")


# code -> why the small repair (skip the one failing transaction once the rows agree) may be the way out; offered
# only while a replica's SQL thread stopped on a duplicate key or a missing row (skip_event.py).
SKIP: dict[str, str] = {
    C.APPLY_ERROR: "the replica stopped on a single duplicate key or missing row: when the row is the same on both "
                   "nodes, skipping that one transaction is safe, and the panel compares the row first",
}


def skip_reason(code: str, readings: dict | None) -> str:
    """Why the small repair is offered for this cause, as last read; "" when it is not."""
    if code not in SKIP:
        return ""
    for role in ("secondary", "primary"):
        for channel in ((readings or {}).get(role) or {}).get("channels") or []:
            if channel.get("last_sql_errno") in SMALL_ERRNOS:
                return SKIP[code]
    return ""


def broken_replica(readings: dict | None, fallback: str = "secondary") -> str:
    """The node to rebuild by default: the one whose replica channel stopped on an error, as last read."""
    for role in ("secondary", "primary"):
        for channel in ((readings or {}).get(role) or {}).get("channels") or []:
            if channel.get("last_sql_errno") or channel.get("last_io_errno") or channel.get("sql_running") == "No":
                return role
    return fallback
