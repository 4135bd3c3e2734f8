"""Who may see what: viewers (and admins) see status; the API and metrics also take the bearer token."""

from __future__ import annotations

import hmac
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from hapanel import roles


def viewer_required(view):
    """Anonymous: to the login page (an htmx poll gets 401 + HX-Redirect); no role: 403."""
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.headers.get("HX-Request"):
                response = HttpResponse("Your session has ended: log in again.", status=401)
                response["HX-Redirect"] = f"{reverse('login')}?next=/"
                return response
            return redirect_to_login(request.get_full_path())
        if not roles.is_viewer(request.user):
            return render(request, "board/forbidden.html", status=403)
        return view(request, *args, **kwargs)
    return wrapped


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
