"""The small repair's opening page: what the monitor last read of the stopped replica, and a button that reads
the failing row on both nodes and opens the repair. Its steps, checks and confirmations go through the repair
pages' own views (`views.py`).

Admins only. Opening connects to both nodes, so it is a POST and counts against HAPANEL_CHECKS_PER_MINUTE with
the steps' checks.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from hapanel.access import admin_required
from hapanel.rate_limit import within_budget
from monitor.models import Pair
from pairs.repair import offers, skip_service
from pairs.repair.apply_error import SMALL_ERRNOS, parse

admin_only = admin_required("Only admins repair pairs.")


def _last_read(pair: Pair) -> list[tuple[str, object]]:
    """(role, parsed error) of each channel the monitor last saw stopped on a duplicate key or missing row."""
    out = []
    for role in ("secondary", "primary"):
        for channel in ((pair.readings or {}).get(role) or {}).get("channels") or []:
            errno = channel.get("last_sql_errno")
            if isinstance(errno, int) and errno in SMALL_ERRNOS:
                out.append((role, parse(errno, str(channel.get("last_sql_error") or ""))))
    return out


@admin_only
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair, pk=pair_id)
    problem, status = "", 200
    if request.method == "POST":
        if not within_budget("repair-checks", request.user.pk):
            problem, status = f"Too many checks: at most {settings.CHECKS_PER_MINUTE} a minute.", 429
        else:
            opened = skip_service.open_skip(pair, request.user)
            if not isinstance(opened, str):
                return redirect("repair", pair.pk, opened.pk)
            problem, status = opened[0].upper() + opened[1:] + ".", 409
    return render(request, "pairs/repair/skip_start.html", {
        "pair": pair, "errors": _last_read(pair), "problem": problem,
        "why": offers.skip_reason(pair.repl_cause, pair.readings),
        "repairs": pair.repairs.filter(procedure=skip_service.KIND)[:10],
    }, status=status)
