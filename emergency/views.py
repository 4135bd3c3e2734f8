"""The emergency pages: login, the granted accounts, reveal (POST), logout. Read-only by design."""

from __future__ import annotations

import functools
import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from emergency import access_check, auth, connect, crypto, reader, vault_compare
from emergency.gate import COPY_UNREADABLE, Gate, gate
from emergency.models import Access, Drill, OutboxEvent
from emergency.outbox import record_event
from hapanel.access import admin_required
from hapanel.client_address import client_address
from hapanel.durations import humanize
from hapanel.rate_limit import within_budget
from hapanel.roles import is_admin
from monitor.models import Node, Pair

log = logging.getLogger(__name__)
SESSION_KEY = "emergency"
AUDIT_DOWN = ("This request could not be recorded in the audit trail, so nothing is shown. Try again in a moment; "
              "if it keeps failing, tell your administrators.")


def _render(request: HttpRequest, template: str, status: int = 200, **context) -> HttpResponse:
    # Every variable the templates use is set: with DEBUG on, Django logs the whole context (a revealed
    # secret included) when a template variable is missing.
    context.setdefault("error", "")
    g: Gate = request.gate
    now = timezone.now()
    context.update(pair=request.pair, gate=g, vault_user=getattr(request, "vault_user", None),
                   reveal_seconds=settings.EMERGENCY_REVEAL_SECONDS,
                   since_ago=humanize((now - g.since).total_seconds()) if g.since else "",
                   copy_ago=humanize(g.copy.seconds) if g.copy and g.copy.seconds is not None else "",
                   copy_differs=vault_compare.USER_NOTE if g.open and vault_compare.copy_may_differ(request.pair)
                   else "")
    return render(request, f"emergency/{template}", context, status=status)


def client_addr(request: HttpRequest) -> str:
    """The user's address, for the lockout and the audit trail: behind the panel's trusted reverse proxies,
    the address they saw, so that users behind one proxy are not locked out together."""
    return client_address(request)


def _audit(request: HttpRequest, operation: str, username: str, **fields) -> None:
    record_event(request.pair, operation, username, served_by=request.gate.secondary,
                 client_addr=client_addr(request), **fields)


def _session_user(request: HttpRequest) -> dict | None:
    """The vault user of this browser for this pair; ends the session after the idle limit."""
    data = request.session.get(SESSION_KEY)
    if not data or data.get("pair") != request.pair.pk:
        return None
    now = time.time()
    if now - data["seen"] > settings.EMERGENCY_IDLE_MINUTES * 60:
        request.session.pop(SESSION_KEY)
        try:
            _audit(request, OutboxEvent.LOGOUT, data["username"], detail="session ended after idle time")
        except DatabaseError:
            log.exception("idle logout of an emergency session could not be audited")
        return None
    if now - data["seen"] > 10:  # saving the session on every request would cost a write each time
        data["seen"] = now
        request.session.modified = True
    return data


def emergency_page(need_user: bool = True, when_closed: bool = False):
    def decorate(view):
        @never_cache
        @functools.wraps(view)
        def wrapper(request: HttpRequest, pair_id: int, *args, **kwargs) -> HttpResponse:
            import pymysql  # loaded with the first emergency request, not with the URLconf

            request.pair = get_object_or_404(Pair.objects.select_related("emergency"), pk=pair_id,
                                             emergency__isnull=False)
            request.access = request.pair.emergency
            request.gate = gate(request.pair)
            request.vault_user = _session_user(request)
            if not request.gate.open and not when_closed:
                # 503 when the copy cannot be read: the service is down, not refused on purpose.
                return _render(request, "closed.html", status=503 if request.gate.why == COPY_UNREADABLE else 403)
            if need_user and request.vault_user is None:
                return redirect("emergency:login", pair_id)
            try:
                return view(request, *args, **kwargs)
            except pymysql.MySQLError as exc:
                # The users learn that the copy cannot be read; the server's own words go to the operators.
                log.warning("emergency access to %s: the secondary %s failed: %s", request.pair.name,
                            request.gate.secondary, exc)
                connect.forget_reach()  # the next request checks the secondary afresh
                request.gate = Gate(False, COPY_UNREADABLE, request.gate.primary, request.gate.secondary,
                                    web_url=request.access.web_url)
                return _render(request, "closed.html", status=503)
        return wrapper
    return decorate


@never_cache
def index(request: HttpRequest) -> HttpResponse:
    # An archived (deleted) pair keeps its Access row for the history, but is no longer offered.
    pairs = [a.pair for a in Access.objects.select_related("pair").filter(pair__archived=False)
             .order_by("pair__name")]
    if len(pairs) == 1:
        return redirect("emergency:accounts", pairs[0].pk)
    return render(request, "emergency/pick.html", {"pairs": pairs})


@emergency_page(need_user=False)
def login(request: HttpRequest) -> HttpResponse:
    if request.vault_user is not None:
        return redirect("emergency:accounts", request.pair.pk)
    if request.method != "POST":
        return _render(request, "login.html")
    username, post = request.POST.get("username", "").strip(), request.POST
    outcome = connect.read(request.access, auth.authenticate, request.pair, request.access.schema, username,
                           post.get("password", ""), post.get("code", ""), client_addr(request))
    try:
        if outcome.user is None:
            _audit(request, OutboxEvent.LOGIN_FAILED, username or "-", detail=outcome.detail)
            return _render(request, "login.html", status=401, error=outcome.error, username=username)
        _audit(request, OutboxEvent.LOGIN, username)
    except DatabaseError as exc:
        log.warning("emergency access to %s: a login could not be audited: %s", request.pair.name, exc)
        return _render(request, "login.html", status=503, error=AUDIT_DOWN, username=username)
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"pair": request.pair.pk, "uid": outcome.user["id"], "username": username,
                                    "seen": time.time(), "at": time.time()}
    return redirect("emergency:accounts", request.pair.pk)


@emergency_page()
def accounts(request: HttpRequest) -> HttpResponse:
    return _accounts_page(request)


def _accounts_page(request: HttpRequest, revealed: tuple[int, str] = (0, ""), error: str = "") -> HttpResponse:
    search = request.GET.get("q", "")
    rows = connect.read(request.access, reader.granted, request.access.schema, request.vault_user["uid"], search)
    return _render(request, "accounts.html", status=503 if error else 200, rows=rows, q=search,
                   revealed_id=revealed[0], revealed_secret=revealed[1], error=error)


@require_POST
@emergency_page()
def reveal(request: HttpRequest, account_id: int) -> HttpResponse:
    user = request.vault_user
    row = connect.read(request.access, reader.account, request.access.schema, user["uid"], account_id)
    fetch = request.headers.get("X-Emergency-Fetch") == "1"
    if row is None:
        # Asking for an account not granted is worth knowing about: audited before the refusal, like a retrieval.
        try:
            _audit(request, OutboxEvent.RETRIEVE_REFUSED, user["username"],
                   detail=f"account id {account_id} is not granted to this user")
        except DatabaseError as exc:
            return _audit_down(request, fetch, exc)
        raise Http404("no such account among those granted to you")
    try:
        _audit(request, OutboxEvent.RETRIEVE, user["username"], resource=row["resource"], account=row["login"])
    except DatabaseError as exc:
        return _audit_down(request, fetch, exc)
    log.info("emergency access to %s: %s retrieved the password of %s on %s", request.pair.name,
             user["username"], row["login"], row["resource"])
    secret = crypto.decrypt(row["secret"])
    if fetch:
        return _render(request, "_secret.html", secret=secret)
    return _accounts_page(request, revealed=(row["id"], secret))


def _audit_down(request: HttpRequest, fetch: bool, exc: DatabaseError) -> HttpResponse:
    log.warning("emergency access to %s: an audit event could not be recorded: %s", request.pair.name, exc)
    if fetch:
        return _render(request, "_secret.html", status=503, error=AUDIT_DOWN)
    return _accounts_page(request, error=AUDIT_DOWN)


@require_POST
@emergency_page(need_user=False, when_closed=True)
def logout(request: HttpRequest) -> HttpResponse:
    user = request.session.pop(SESSION_KEY, None) if request.vault_user else None
    if user is not None:
        try:
            _audit(request, OutboxEvent.LOGOUT, user["username"])
        except DatabaseError:
            log.exception("an emergency logout could not be audited")
        request.session.cycle_key()
    return redirect("emergency:login", request.pair.pk)


@require_POST
@login_required
def drill(request: HttpRequest, pair_id: int) -> HttpResponse:
    """An admin opens emergency access for a fire drill, for a bounded time; the opening is audited."""
    if not is_admin(request.user):
        return HttpResponseForbidden("only admins may open an emergency drill")
    pair = get_object_or_404(Pair, pk=pair_id, emergency__isnull=False)
    raw = request.POST.get("minutes") or "30"
    if not (raw.isascii() and raw.isdigit()):  # "²".isdigit() is true too, and int() refuses it
        return HttpResponseBadRequest("minutes is not a whole number of minutes")
    digits = raw.lstrip("0") or "0"
    # More than 3 digits is past the 240-minute cap anyway, and int() refuses strings of over 4300 digits.
    minutes = 240 if len(digits) > 3 else max(1, min(int(digits), 240))
    until = timezone.now() + timezone.timedelta(minutes=minutes)
    Drill.objects.create(pair=pair, opened_by=request.user.username, until=until,
                         reason=request.POST.get("reason", "")[:200])
    record_event(pair, OutboxEvent.DRILL, request.user.username, client_addr=client_addr(request),
                 detail=f"until {until:%Y-%m-%d %H:%M} UTC")
    if request.POST.get("back") == "pair":  # the button on the pair page: back there, showing the drill
        return redirect(pair.get_absolute_url())
    return redirect("emergency:login", pair.pk)


@admin_required("Only admins check the emergency accounts.")
@require_http_methods(["GET", "POST"])
def check_accounts(request: HttpRequest, pair_id: int) -> HttpResponse:
    """The proofs of `vault init` on both nodes, on request: what each account does, and the setup step that
    gives it what it lacks. Nothing is written to the servers (emergency/access_check.py)."""
    pair = get_object_or_404(Pair, pk=pair_id)
    access = Access.objects.filter(pair=pair).first()
    context = {"pair": pair, "access": access, "nodes": None, "error": ""}
    if request.method == "POST" and access is not None:
        if not within_budget("account-checks", request.user.pk):
            # Each check logs in to both nodes four times: a held-down button must not hammer them.
            return HttpResponse(f"Too many checks: at most {settings.CHECKS_PER_MINUTE} a minute.", status=429,
                                content_type="text/plain")
        try:
            # No wait for replication here: the page says what the nodes hold now.
            found = access_check.check_accounts(access, replication_wait=0)
        except ValueError as exc:  # a stored password that no longer decrypts
            context["error"] = str(exc)
        else:
            context["nodes"] = [(role, [a for a in found if a.role == role]) for role in (Node.PRIMARY, Node.SECONDARY)]
    return render(request, "emergency/check.html", context)
