"""The pair page's Compare vault copies button: admins only, POST, rate-limited like Test connection."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from emergency import vault_compare
from hapanel.access import admin_required
from hapanel.rate_limit import within_budget
from monitor.models import Pair


@admin_required("Only admins compare the copies of the vault.")
@require_POST
def compare(request: HttpRequest, pair_id: int) -> HttpResponse:
    """Compares the two copies now and goes back to the pair page, which shows the result. Nothing is written to
    the servers (emergency/vault_compare.py)."""
    pair = get_object_or_404(Pair, pk=pair_id)
    if not within_budget("vault-compares", request.user.pk):
        # Each comparison reads the whole vault on both nodes: a held-down button must not hammer them.
        return HttpResponse(f"Too many comparisons: at most {settings.CHECKS_PER_MINUTE} a minute.", status=429,
                            content_type="text/plain")
    outcome = vault_compare.compare_pair(pair.pk, wait=vault_compare.WEB_WAIT)
    if outcome == vault_compare.BUSY:
        messages.info(request, "A comparison of this pair's vault copies is running already; its result shows here "
                               "once it is done.")
    else:
        messages.success(request, "The copies of the vault were compared; the result is below.")
    return redirect(pair.get_absolute_url() + "#vault-copy")
