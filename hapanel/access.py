"""Who may open a page: `viewer_required` for the status pages, `admin_required` for configuration."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from hapanel import roles

View = Callable[..., HttpResponse]


def viewer_required(view: View) -> View:
    """Anonymous: to the login page (an htmx poll gets 401 + HX-Redirect); no role: 403."""
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.headers.get("HX-Request"):
                # htmx swaps a redirect's body into the board; HX-Redirect makes it load the login page instead.
                response = HttpResponse("Your session has ended: log in again.", status=401)
                response["HX-Redirect"] = f"{reverse('login')}?next=/"
                return response
            return redirect_to_login(request.get_full_path())
        if not roles.is_viewer(request.user):
            return render(request, "board/forbidden.html", status=403)
        return view(request, *args, **kwargs)
    return wrapped


def admin_required(message: str) -> Callable[[View], View]:
    """Anonymous: to the login page; signed in without the admin role: 403 with `message` (what admins do here)."""
    def decorator(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not roles.is_admin(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)
        return wrapped
    return decorator
