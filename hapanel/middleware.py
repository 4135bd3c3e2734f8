"""Response headers and session rules every page of the panel follows."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

# Scripts and styles from the panel's own static files only: an injected <script> or style attribute does
# nothing. The pages load htmx from static/js/htmx.min.js, whose own inline indicator styles base.html turns
# off (htmx-config).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
])


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


SEEN_KEY = "hapanel-seen"
SEEN_EVERY = 60  # seconds: the session is written at most this often, not at every board refresh


def mark_seen(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    """At login (the user_logged_in signal): the first page after it then has nothing to write."""
    if request is not None and hasattr(request, "session"):
        request.session[SEEN_KEY] = time.time()


class IdleSessionMiddleware:
    """Ends a panel login after HAPANEL_SESSION_IDLE_MINUTES without a request. A wall screen whose board
    keeps polling is not idle: every request counts, including the board's htmx refreshes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now, seen = time.time(), request.session.get(SEEN_KEY)
            if isinstance(seen, (int, float)) and now - seen > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
            elif not isinstance(seen, (int, float)) or now - seen >= SEEN_EVERY:
                request.session[SEEN_KEY] = now
        return self.get_response(request)
