"""Alert pages: channels (admins), routing (admins), the notifications log (every viewer)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts.delivery import send_test
from alerts.forms import KIND_FIELDS, ChannelForm, RoutingForm
from alerts.models import Channel, FlapEpisode, Notification
from hapanel.roles import is_admin, is_viewer
from monitor.models import Pair

# The largest id the database holds: a bigger number in a URL is no object (and not an integer overflow).
MAX_ID = 2**63 - 1


def _is_id(value: str) -> bool:
    """ASCII digits ("²".isdigit() is true too) within the id column's range."""
    return value.isascii() and value.isdigit() and int(value) <= MAX_ID


def _object(model, pk: int):
    """The object with this id; 404 beyond the id column's range too."""
    if not _is_id(str(pk)):
        raise Http404("no such object")
    return get_object_or_404(model, pk=pk)


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_admin(request.user):
            raise PermissionDenied("Only admins configure alerts.")
        return view(request, *args, **kwargs)

    return wrapped


@admin_required
def channels(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/channels.html", {"channels": Channel.objects.all()})


@admin_required
def channel_edit(request: HttpRequest, channel_id: int | None = None) -> HttpResponse:
    channel = _object(Channel, channel_id) if channel_id else None
    form = ChannelForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        saved = form.save(channel)
        messages.success(request, f"Channel “{saved.name}” saved.")
        return redirect("alerts-channels")
    return render(request, "alerts/channel_form.html", {"form": form, "channel": channel, "kinds": KIND_FIELDS})


@admin_required
@require_POST
def channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _object(Channel, channel_id)
    channel.delete()
    messages.success(request, f"Channel “{channel.name}” deleted.")
    return redirect("alerts-channels")


@admin_required
@require_POST
def channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _object(Channel, channel_id)
    result = send_test(channel)
    (messages.success if result == "sent" else messages.error)(request, f"Test to “{channel.name}”: {result}")
    return redirect("alerts-channels")


@admin_required
def routes(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("pair") or ""
    if raw and not _is_id(raw):
        return HttpResponse(f"Bad request: pair={raw[:40]!r} is not a pair id\n", status=400,
                            content_type="text/plain; charset=utf-8")
    pair = _object(Pair, int(raw)) if raw else None
    form = RoutingForm(request.POST or None, pair=pair)
    if request.method == "POST" and form.is_valid():
        count = form.save()
        messages.success(request, f"Routing for {pair or 'all pairs'} saved: {count} routes.")
        return redirect(request.get_full_path())
    return render(request, "alerts/routes.html", {"form": form, "pair": pair, "pairs": Pair.objects.all()})


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    if not is_viewer(request.user):
        raise PermissionDenied("Viewers and admins only.")
    rows = (Notification.objects.select_related("channel", "transition__pair").prefetch_related("log")
            .order_by("-id")[:200])
    flapping = FlapEpisode.objects.filter(ended__isnull=True).select_related("pair")
    return render(request, "alerts/notifications.html", {"notifications": rows, "flapping": flapping,
                                                         "failing": Channel.objects.exclude(disabled_reason="")})
