"""Alert pages: channels (admins), routing (admins), the notifications log (every viewer)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts.delivery import send_test
from alerts.forms import KIND_FIELDS, ChannelForm, RoutingForm
from alerts.models import Channel, FlapEpisode, Notification
from hapanel.access import admin_required
from hapanel.roles import is_viewer
from hapanel.url_converters import parse_id
from monitor.models import Pair

admin_only = admin_required("Only admins configure alerts.")


@admin_only
def channels(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/channels.html", {"channels": Channel.objects.all()})


@admin_only
def channel_edit(request: HttpRequest, channel_id: int | None = None) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id) if channel_id else None
    form = ChannelForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        saved = form.save(channel)
        messages.success(request, f"Channel “{saved.name}” saved.")
        return redirect("alerts-channels")
    return render(request, "alerts/channel_form.html", {"form": form, "channel": channel, "kinds": KIND_FIELDS,
                                                         "mail_server": mail_server()})


@admin_only
@require_POST
def channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    channel.delete()
    messages.success(request, f"Channel “{channel.name}” deleted.")
    return redirect("alerts-channels")


@admin_only
@require_POST
def channel_test(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    result = send_test(channel)
    via = f" (via the mail server {mail_server()})" if channel.kind == Channel.EMAIL else ""
    (messages.success if result == "sent" else messages.error)(request, f"Test to “{channel.name}”{via}: {result}")
    return redirect("alerts-channels")


def mail_server() -> str:
    """Where email alerts go: the worker's Django email settings, which the form cannot change."""
    tls = ", STARTTLS" if settings.EMAIL_USE_TLS else ""
    return f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}{tls}"


@admin_only
def routes(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("pair") or ""
    pair_id = parse_id(raw)
    if raw and pair_id is None:
        return HttpResponse(f"Bad request: pair={raw[:40]!r} is not a pair id\n", status=400,
                            content_type="text/plain; charset=utf-8")
    pair = get_object_or_404(Pair, pk=pair_id) if raw else None
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
    rows = (Notification.objects.select_related("channel", "transition__pair", "risk__pair", "role_change__pair")
            .prefetch_related("log").order_by("-id")[:200])
    flapping = FlapEpisode.objects.filter(ended__isnull=True).select_related("pair")
    return render(request, "alerts/notifications.html", {"notifications": rows, "flapping": flapping,
                                                         "failing": Channel.objects.exclude(disabled_reason="")})
