"""How old a recorded poll may grow before the pair's statuses are no longer to be trusted.

The pages, the API, the metrics and the staleness sweep all use this bound: past it a pair shows
`Unknown` (monitor-stale) with the age of its last reading, whatever status is stored.
"""

from __future__ import annotations

from django.conf import settings


def stale_after(poll_interval: float) -> float:
    """Seconds without a recorded poll after which a pair polled every `poll_interval` seconds is stale."""
    return max(3 * poll_interval, settings.STALE_MIN_SECONDS)
