"""The repair pages: start a rebuild for a pair, follow its steps, run each step's check (htmx), confirm it done.

Admins only. A check connects to the nodes, so it is a POST and counts against HAPANEL_CHECKS_PER_MINUTE
like Test connection.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from hapanel.access import admin_required
from hapanel.rate_limit import within_budget
from monitor.models import Pair
from pairs.repair import service, skip_service, switchover_service
from pairs.repair.forms import RebuildForm
from pairs.repair.models import Repair

admin_only = admin_required("Only admins repair pairs.")


def _repair(pair_id: int, repair_id: int) -> Repair:
    return get_object_or_404(Repair, pk=repair_id, pair_id=pair_id)


def _steps_of(repair: Repair):
    """The module that generates and checks this repair's steps: the rebuild's, the small repair's, or the
    switchover's."""
    if repair.procedure == skip_service.KIND:
        return skip_service
    return service if repair.procedure == "rebuild" else switchover_service


@admin_only
def rebuild_start(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair, pk=pair_id)
    form = RebuildForm.for_pair(pair, request.POST or None, target=request.GET.get("target", ""))
    if request.method == "POST" and form.is_valid():
        options = form.options()
        try:
            service.rebuild_input(pair, options)
        except ValueError as exc:  # the generator's own rules, beyond the form's fields
            form.add_error(None, str(exc))
        else:
            repair = service.open_repair(pair, request.user, options)
            return redirect("repair", pair.pk, repair.pk)
    repairs = pair.repairs.all()[:10]
    return render(request, "pairs/repair/start.html", {"pair": pair, "form": form, "repairs": repairs})


@admin_only
def repair_page(request: HttpRequest, pair_id: int, repair_id: int) -> HttpResponse:
    repair = _repair(pair_id, repair_id)
    states = service.step_states(repair)
    generated = _steps_of(repair).procedure(repair)
    steps = [(number, step, states.get(step.key, {})) for number, step in generated.numbered()]
    template = {"rebuild": "pairs/repair/repair.html", skip_service.KIND: "pairs/repair/skip_event.html"}.get(
        repair.procedure, "pairs/repair/switchover.html")
    return render(request, template, {
        "pair": repair.pair, "repair": repair, "procedure": generated, "steps": steps,
    })


@admin_only
@require_POST
def repair_check(request: HttpRequest, pair_id: int, repair_id: int, step: str) -> HttpResponse:
    repair = _repair(pair_id, repair_id)
    if not within_budget("repair-checks", request.user.pk):
        # Each check connects to both nodes: the button must not become a way to hammer them.
        return HttpResponse(f"Too many checks: at most {settings.CHECKS_PER_MINUTE} a minute.", status=429,
                            content_type="text/plain")
    try:
        _steps_of(repair).run_check(repair, step, request.user)
    except KeyError:
        raise Http404("no such step") from None
    if request.headers.get("HX-Request"):
        return render(request, "pairs/repair/_check_result.html",
                      {"state": service.step_states(repair).get(step, {}), "key": step})
    return redirect("repair", pair_id, repair_id)


@admin_only
@require_POST
def repair_confirm(request: HttpRequest, pair_id: int, repair_id: int, step: str) -> HttpResponse:
    repair = _repair(pair_id, repair_id)
    try:
        _steps_of(repair).confirm(repair, step, request.user)
    except KeyError:
        raise Http404("no such step") from None
    messages.success(request, "Step confirmed done; the repair log records it.")
    return redirect(reverse("repair", args=[pair_id, repair_id]) + f"#step-{step}")
