"""Admin pages for pairs: thin views over forms.PairEditor, actions, checks, the setup assistant."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from hapanel.access import admin_required
from hapanel.rate_limit import within_budget
from hapanel.url_converters import parse_id
from monitor.models import Pair
from pairs import actions, assistant, changes
from pairs.forms import PairEditor, form_target
from pairs.models import PairChange
from pairs.setup_sql import Passwords, plan

admin_only = admin_required("Only admins configure pairs.")


def _edit(request: HttpRequest, pair: Pair | None) -> HttpResponse:
    editor = PairEditor(request.POST or None, request.FILES or None, pair=pair)
    if request.method == "POST" and editor.is_valid():
        saved = actions.save(editor, request.user)
        for text in editor.warnings:
            messages.warning(request, text)
        for text in editor.notes:
            messages.info(request, text)
        messages.success(request, f"Pair “{saved.name}” saved.")
        return redirect("pair", saved.pk)
    return render(request, "pairs/pair_form.html", {"editor": editor, "pair": pair})


@admin_only
def pair_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@admin_only
def pair_edit(request: HttpRequest, pair_id: int) -> HttpResponse:
    return _edit(request, get_object_or_404(Pair, pk=pair_id))


@admin_only
def pair_delete(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair, pk=pair_id)
    choice = request.POST.get("history")
    if request.method == "POST" and choice in ("keep", "remove"):
        name, keep = pair.name, choice == "keep"
        actions.delete(pair, request.user, keep_history=keep)
        messages.success(request, f"Pair “{name}” deleted ({'history kept' if keep else 'history removed'}).")
        return redirect("index")
    error = "Choose whether to keep or remove the history." if request.method == "POST" else ""
    return render(request, "pairs/pair_delete.html",
                  {"pair": pair, "error": error, "transitions": pair.transitions.count()})


@admin_only
@require_POST
def pair_pause(request: HttpRequest, pair_id: int) -> HttpResponse:
    actions.set_paused(get_object_or_404(Pair, pk=pair_id), request.user, True)
    return redirect("pair", pair_id)


@admin_only
@require_POST
def pair_resume(request: HttpRequest, pair_id: int) -> HttpResponse:
    actions.set_paused(get_object_or_404(Pair, pk=pair_id), request.user, False)
    return redirect("pair", pair_id)


@admin_only
@require_POST
def test_connection(request: HttpRequest) -> HttpResponse:
    """Checks both nodes with the form's values, saved or not; saves nothing."""
    if not within_budget("connection-tests", request.user.pk):
        # Any host and port may be typed here: without a limit the button would be a port scanner.
        return HttpResponse(f"Too many connection tests: at most {settings.CHECKS_PER_MINUTE} a minute.",
                            status=429, content_type="text/plain")
    raw = request.POST.get("pair_id", "")
    pair_id = parse_id(raw)
    if raw and pair_id is None:
        return HttpResponseBadRequest("pair_id is not a pair's number.")
    pair = get_object_or_404(Pair, pk=pair_id) if raw else None
    editor = PairEditor(request.POST, request.FILES or None, pair=pair)
    rows = None
    if editor.nodes_valid():
        # Imported here: a web process loads the database driver only when an admin tests a connection.
        from pairs.checks import CHECK_TIMEOUT, check_pair, report

        targets = {role: form_target(form, role, CHECK_TIMEOUT) for role, form in editor.nodes.items()}
        checks = check_pair(targets, {role: form.cleaned_data["known_as"] for role, form in editor.nodes.items()})
        rows = report(checks, request.POST.get("topology", Pair.BIDIRECTIONAL))
    context = {"editor": editor, "pair": pair, "rows": rows, "tested": True}
    if request.headers.get("HX-Request"):
        return render(request, "pairs/_test_result.html", context)
    return render(request, "pairs/pair_form.html", context)


@admin_only
def pair_setup(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair, pk=pair_id)
    form = assistant.SetupForm(request.POST or None, initial={"replicating": assistant.replicates(pair)})
    generated = None
    if request.method == "POST" and form.is_valid():
        setup, passwords = assistant.setup_input(pair, form.cleaned_data), Passwords.generate()
        generated = plan(setup, passwords)
        assistant.keep(request.session, pair, setup, passwords)
        # Nothing of the pair changes: the panel keeps monitoring with its password until Verify saw the new one
        # log in on both nodes and the admin stored it there (pair_store_password).
        flavour = form.cleaned_data["flavour"]
        changes.log_change(pair, request.user, PairChange.SETUP, note=f"setup generated for {flavour}")
    return render(request, "pairs/setup.html", {"pair": pair, "form": form, "plan": generated})


@admin_only
def pair_setup_zip(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair, pk=pair_id)
    kept = assistant.kept(request.session, pair)
    if kept is None:
        messages.warning(request, "Generate the setup first: the download holds the passwords shown with it.")
        return redirect("pair-setup", pair.pk)
    response = HttpResponse(kept.zip_bytes(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="hapanel-setup-pair-{pair.pk}.zip"'
    return response


@admin_only
def pair_verify(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair, pk=pair_id)
    from pairs.verify import verify  # polls the pair: the poller and the driver, on request only

    result = None
    if request.method == "POST":
        result = verify(pair, assistant.generated_monitor_password(request.session, pair))
    return render(request, "pairs/verify.html", {"pair": pair, "result": result})


@admin_only
@require_POST
def pair_store_password(request: HttpRequest, pair_id: int) -> HttpResponse:
    """Stores the setup assistant's new monitor password, after trying it again on both nodes."""
    pair = get_object_or_404(Pair, pk=pair_id)
    from pairs.verify import try_password  # the database driver, on request only

    new = assistant.generated_monitor_password(request.session, pair)
    if new is None:
        messages.warning(request, "Nothing to store: the panel already monitors with the password of the last "
                                  "setup generated here, or none was generated since you logged in.")
    elif problems := try_password(pair, new).problems():
        messages.error(request, "The new monitor password was not stored: on the " + "; on the ".join(
            f"{role}, {text}" for role, text in problems) + ". The panel keeps monitoring with its password.")
    else:
        before = changes.snapshot(pair)
        for node in pair.nodes.all():
            node.set_password(new)
            node.save(update_fields=["monitor_password_enc"])
        changes.log_change(pair, request.user, PairChange.EDITED, changes.diff(before, changes.snapshot(pair)),
                           note="the setup assistant's monitor password, stored once it logged in on both nodes")
        messages.success(request, "The new monitor password is stored: the monitor uses it from its next poll.")
    return redirect("pair-verify", pair.pk)
