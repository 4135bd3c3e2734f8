"""Throttling of panel logins, per user name and per client address, in the cache (Redis).

An authentication backend, so the panel's login page and Django's admin login are both covered. Failures
are counted in a fixed window that starts with the first failure; once a count reaches its limit, attempts
are refused without checking the password and without touching the counters, so hammering a locked
account does not extend its lock. A successful login clears the user's count (not the address's: one valid
account must not reset an address that is guessing others). Each count keeps the end of its window beside
it, so that the login page can say when to try again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time

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


def _window() -> int:
    return int(settings.LOGIN_LOCKOUT_MINUTES * 60)


def locked_until(request: HttpRequest | None, username: str) -> dt.datetime | None:
    """When the user name or the client address may try again, if either has reached its limit."""
    keys = _keys(request, username)
    stored = cache.get_many([name for key, _ in keys for name in (key, f"{key}:until")])
    ends = [stored.get(f"{key}:until", time.time() + _window()) for key, limit in keys
            if stored.get(key, 0) >= limit]
    return dt.datetime.fromtimestamp(max(ends), dt.UTC) if ends else None


def failed(request: HttpRequest | None, username: str) -> None:
    window = _window()
    for key, _ in _keys(request, username):
        if cache.add(key, 0, timeout=window):  # starts the window; incr keeps the key's expiry
            cache.set(f"{key}:until", time.time() + window, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: this failure starts a new window
            cache.add(key, 1, timeout=window)
            cache.set(f"{key}:until", time.time() + window, timeout=window)


def succeeded(username: str) -> None:
    key = _keys(None, username)[0][0]
    cache.delete_many([key, f"{key}:until"])


def _locked_or_open(request: HttpRequest | None, username: str) -> dt.datetime | None:
    """`locked_until`, but open while the cache is unreachable: an operator must still be able to log in to
    the panel in the middle of an outage, and the password check itself still runs."""
    try:
        return locked_until(request, username)
    except Exception:  # noqa: BLE001 (whatever the cache client raises)
        log.warning("login throttling skipped: the cache does not answer", exc_info=True)
        return None


def _count(request: HttpRequest | None, username: str, ok: bool) -> None:
    try:
        succeeded(username) if ok else failed(request, username)
    except Exception:  # noqa: BLE001
        log.warning("login throttling skipped: the cache does not answer", exc_info=True)


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field(), "")
        until = _locked_or_open(request, username or "")
        if until is not None:
            if request is not None:
                request.login_locked_until = until  # the login page says why and until when, not "wrong password"
            raise PermissionDenied("too many failed logins")  # stops every backend: no password check
        user = super().authenticate(request, username=username, password=password, **kwargs)
        _count(request, username or "", user is not None)
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
