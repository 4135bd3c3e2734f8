"""JSON API v1: read-only, the same honest statuses as the pages (docs/openapi.yaml)."""

from __future__ import annotations

import datetime as dt
from functools import wraps

import orjson
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from board import history, presenters
from board.board import Board
from board.views.access import token_or_viewer
from board.views.inputs import board_query_problem, json_error, query_problem
from monitor import risk_record
from monitor.models import Pair

MAX_TRANSITIONS = 1000
DEFAULT_WINDOW = dt.timedelta(hours=24)  # transitions without `since`: the last day


def _json(data: dict, status: int = 200) -> HttpResponse:
    """orjson writes the thousand pairs of a list in a tenth of the standard encoder's time."""
    return HttpResponse(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), status=status,
                        content_type="application/json")


def _monitor() -> dict:
    state = presenters.monitor_banner()
    return {"ok": state["ok"], "reason": state["reason"], "since": state["since_dt"] and state["since_dt"].isoformat()}


def api_view(view):
    """Read-only, authenticated, and every refusal as JSON: bad parameters 400, no such object 404, writes 405."""
    @wraps(view)
    @token_or_viewer
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = json_error(405, f"{request.method} is not allowed: the API is read-only (GET)")
            response["Allow"] = "GET, HEAD"
            return response
        if problem := query_problem(request.GET):
            return json_error(400, problem)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return json_error(404, "no such pair")
    return wrapped


def not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Any other path under /api/: the API's 404, in the API's shape."""
    return json_error(404, f"no such API endpoint: {request.path}")


@api_view
def pairs(request: HttpRequest) -> HttpResponse:
    if problem := board_query_problem(request.GET):
        return json_error(400, problem)
    return _json({"monitor": _monitor(), "pairs": [presenters.api_pair(v) for v in Board(request.GET).views()]})


@api_view
def pair(request: HttpRequest, pair_id: int) -> HttpResponse:
    obj = get_object_or_404(Pair.objects.prefetch_related("nodes"), pk=pair_id)
    view = presenters.present(obj)
    data = presenters.api_pair(view)
    data["ha"]["remediation"] = (obj.health.get("ha") or {}).get("remediation", "")
    data["replication"]["remediation"] = (obj.health.get("replication") or {}).get("remediation", "")
    data["nodes"] = [{"role": n.role, "address": n.address} for n in obj.nodes.all()]
    data["readings"] = obj.readings
    data["warnings_before_failures"]["checked_at"] = obj.checked_up_at
    data["warnings_before_failures"]["open"] = [presenters.risk_view(r) for r in risk_record.current(obj)]
    return _json(data)


@api_view
def transitions(request: HttpRequest) -> HttpResponse:
    try:
        filters = history.Filters.parse(request.GET)
    except history.BadFilter as exc:
        return json_error(400, str(exc))
    filters.since = filters.since or timezone.now() - DEFAULT_WINDOW
    rows = list(history.transitions(filters).order_by("detected_at", "id")[:MAX_TRANSITIONS + 1])
    return _json({"transitions": [history.api_transition(t) for t in rows[:MAX_TRANSITIONS]],
                         "truncated": len(rows) > MAX_TRANSITIONS})
