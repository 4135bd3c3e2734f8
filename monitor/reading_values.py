"""Tolerant readers of the values in a reading: junk becomes `Unreadable` (or None where a value only feeds
a warning), never an exception the rules did not expect. Pure: no Django, no I/O, no clock."""

from __future__ import annotations

import math
from enum import Enum

from monitor.readings import NodeReading, Reach, ReplicationChannel


class Unreadable(ValueError):
    """A reading holds a value the rules cannot interpret."""


def as_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unreadable(f"{what}={value!r}")
    return value


def opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def as_state(value: object, allowed: tuple[str, ...], what: str) -> str:
    if isinstance(value, str):
        for state in allowed:  # servers and probes differ in case and padding, not in words
            if value.strip().lower() == state.lower():
                return state
    raise Unreadable(f"{what}={value!r}")


def reach_of(node: NodeReading) -> Reach:
    try:
        return Reach(node.reach)
    except (ValueError, TypeError) as exc:
        raise Unreadable(f"reach={node.reach!r}") from exc


def channel_of(node: NodeReading) -> ReplicationChannel | None:
    """The replica channel of a direction: the default ("") connection, else the first one."""
    chans = node.channels if node.channels is not None else ()
    if not isinstance(chans, tuple | list) or not all(isinstance(c, ReplicationChannel) for c in chans):
        raise Unreadable(f"channels={chans!r}")
    return next((c for c in chans if c.name == ""), chans[0]) if chans else None


def plain_value(value: object) -> object:
    """Evidence must be JSON-serialisable."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    return repr(value)
