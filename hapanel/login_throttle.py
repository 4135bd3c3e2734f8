"""Throttling of panel logins, per user name and per client address, in the cache (Redis).

An authentication backend, so the panel's login page and Django's admin login are both covered. Failures
are counted in a fixed window that starts with the first failure; once a count reaches its limit, attempts
are refused without checking the password and without touching the counters, so hammering a locked
account does not extend its lock. A successful login clears the user's count (not the address's: one valid
account must not reset an address that is guessing others).
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from hapanel.client_address import client_address

log = logging.getLogger(__name__)


def _keys(request: HttpRequest | None, username: str) -> list[tuple[str, int]]:
    """(cache key, limit) of each count an attempt belongs to."""
    name = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
    keys = [(f"login-fail:user:{name}", settings.LOGIN_LOCKOUT_FAILURES)]
    if request is not None:
        keys.append((f"login-fail:addr:{client_address(request)}", settings.LOGIN_ADDRESS_FAILURES))
    return keys


def locked(request: HttpRequest | None, username: str) -> bool:
    counts = cache.get_many([key for key, _ in _keys(request, username)])
    return any(counts.get(key, 0) >= limit for key, limit in _keys(request, username))


def failed(request: HttpRequest | None, username: str) -> None:
    window = int(settings.LOGIN_LOCKOUT_MINUTES * 60)
    for key, _ in _keys(request, username):
        cache.add(key, 0, timeout=window)  # starts the window; incr keeps the key's expiry
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: this failure starts a new window
            cache.add(key, 1, timeout=window)


def succeeded(username: str) -> None:
    cache.delete(_keys(None, username)[0][0])


def _locked_or_open(request: HttpRequest | None, username: str) -> bool:
    """`locked`, but open while the cache is unreachable: an operator must still be able to log in to the
    panel in the middle of an outage, and the password check itself still runs."""
    try:
        return locked(request, username)
    except Exception:  # noqa: BLE001 (whatever the cache client raises)
        log.warning("login throttling skipped: the cache does not answer", exc_info=True)
        return False


def _count(request: HttpRequest | None, username: str, ok: bool) -> None:
    try:
        succeeded(username) if ok else failed(request, username)
    except Exception:  # noqa: BLE001
        log.warning("login throttling skipped: the cache does not answer", exc_info=True)


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field(), "")
        if _locked_or_open(request, username or ""):
            if request is not None:
                request.login_locked = True  # the login page says why, instead of "wrong password"
            raise PermissionDenied("too many failed logins")  # stops every backend: no password check
        user = super().authenticate(request, username=username, password=password, **kwargs)
        _count(request, username or "", user is not None)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
