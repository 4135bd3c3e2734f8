"""The switchover pages: open a switchover, failover or rejoin for a pair, and swap its roles in the panel.

Admins only. The steps' checks and confirmations go through the repair pages' own views (`views.py`), which
hand a switchover's check to `switchover_service`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from hapanel.access import admin_required
from monitor.models import Pair
from pairs.repair import switchover_service
from pairs.repair.forms import RebuildForm
from pairs.repair.models import Repair
from pairs.repair.service import setup_flavour
from pairs.repair.switchover import KINDS
from pairs.setup_sql import FLAVOURS, MARIADB

admin_only = admin_required("Only admins switch a pair's roles.")


class SwitchoverForm(forms.Form):
    flavour = forms.ChoiceField(choices=FLAVOURS)
    version = forms.CharField(max_length=40, label="Server version", help_text="as the nodes report it, e.g. 10.11.6")
    tls_dir = forms.CharField(initial="/etc/mysql/tls", label="TLS files folder on the servers",
                              help_text="holding ca.pem, as the setup assistant named it")
    service = forms.CharField(required=False, max_length=100, label="systemd unit",
                              help_text="mariadb or mysql when empty")

    @classmethod
    def for_pair(cls, pair: Pair, data=None) -> SwitchoverForm:
        readings = pair.readings or {}
        node = next((readings.get(r) for r in ("primary", "secondary") if (readings.get(r) or {}).get("flavour")), {})
        flavour, version = (node or {}).get("flavour", ""), str((node or {}).get("version") or "")
        return cls(data, initial={"flavour": setup_flavour(flavour, version) if flavour else MARIADB,
                                  "version": version})

    # The same fields as the rebuild's, checked the same way.
    clean_version = RebuildForm.clean_version
    clean_tls_dir = RebuildForm.clean_tls_dir

    def clean_service(self) -> str:
        value = self.cleaned_data["service"].strip()
        if value and not all(c.isalnum() or c in "_.@-" for c in value):
            raise forms.ValidationError("Enter a plain unit name, e.g. mariadb.")
        return value


@admin_only
def start(request: HttpRequest, pair_id: int, kind: str) -> HttpResponse:
    pair = get_object_or_404(Pair, pk=pair_id)
    if kind not in KINDS:
        raise Http404("no such procedure")
    form = SwitchoverForm.for_pair(pair, request.POST or None)
    if request.method == "POST" and form.is_valid():
        repair = switchover_service.open_procedure(pair, request.user, kind, {
            **{k: v for k, v in form.cleaned_data.items() if v}, "topology": pair.topology})
        return redirect("repair", pair.pk, repair.pk)
    return render(request, "pairs/repair/switchover_start.html", {
        "pair": pair, "form": form, "kind": kind, "title": KINDS[kind],
        "why": switchover_service.offered(pair).get(kind, ""),
    })


@admin_only
@require_POST
def swap(request: HttpRequest, pair_id: int, repair_id: int) -> HttpResponse:
    repair = get_object_or_404(Repair, pk=repair_id, pair_id=pair_id)
    if repair.procedure not in KINDS or repair.procedure == "rejoin":
        raise Http404("this procedure swaps no roles")
    messages.success(request, switchover_service.swap_roles(repair, request.user).capitalize() + ".")
    return redirect(reverse("repair", args=[pair_id, repair_id]) + "#step-swap-roles")
