"""Per-admin budgets of the buttons that make the panel connect to servers on request (Test connection, the
emergency account check): HAPANEL_CHECKS_PER_MINUTE each, counted in the cache."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def within_budget(kind: str, user_id: int) -> bool:
    """Counts this user's `kind` actions in a one-minute window; open when the cache is down (an outage must
    not take the buttons away)."""
    key = f"{kind}:{user_id}"
    try:
        cache.add(key, 0, timeout=60)
        return cache.incr(key) <= settings.CHECKS_PER_MINUTE
    except Exception:  # noqa: BLE001 (whatever the cache client raises)
        return True
