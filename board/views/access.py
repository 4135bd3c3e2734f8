"""The API and metrics: a viewer's session or the bearer token (the pages use hapanel.access.viewer_required)."""

from __future__ import annotations

import hmac
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from hapanel import roles


def bearer_ok(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def token_or_viewer(view):
    """Machines send `Authorization: Bearer <HAPANEL_METRICS_TOKEN>`; people use their session."""
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if bearer_ok(request):
            return view(request, *args, **kwargs)
        if not request.user.is_authenticated or "Authorization" in request.headers:
            response = JsonResponse({"error": "authentication required: a session or "
                                     "`Authorization: Bearer <token>`"}, status=401)
            response["WWW-Authenticate"] = 'Bearer realm="hapanel"'
            return response
        if not roles.is_viewer(request.user):
            return JsonResponse({"error": "your account has no viewer or admin role"}, status=403)
        return view(request, *args, **kwargs)
    return wrapped
