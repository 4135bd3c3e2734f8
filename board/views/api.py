"""JSON API v1: read-only, the same honest statuses as the pages (docs/openapi.yaml)."""

from __future__ import annotations

import datetime as dt

import orjson
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from board import history, presenters
from board.board import Board
from board.views.access import token_or_viewer
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


@token_or_viewer
def pairs(request: HttpRequest) -> HttpResponse:
    return _json({"monitor": _monitor(), "pairs": [presenters.api_pair(v) for v in Board(request.GET).views()]})


@token_or_viewer
def pair(request: HttpRequest, pair_id: int) -> HttpResponse:
    obj = get_object_or_404(Pair.objects.prefetch_related("nodes"), pk=pair_id)
    view = presenters.present(obj)
    data = presenters.api_pair(view)
    data["ha"]["remediation"] = (obj.health.get("ha") or {}).get("remediation", "")
    data["replication"]["remediation"] = (obj.health.get("replication") or {}).get("remediation", "")
    data["nodes"] = [{"role": n.role, "address": n.address} for n in obj.nodes.all()]
    data["readings"] = obj.readings
    return _json(data)


@token_or_viewer
def transitions(request: HttpRequest) -> HttpResponse:
    try:
        filters = history.Filters.parse(request.GET)
    except history.BadFilter as exc:
        return _json({"error": str(exc)}, status=400)
    filters.since = filters.since or timezone.now() - DEFAULT_WINDOW
    rows = list(history.transitions(filters).order_by("detected_at", "id")[:MAX_TRANSITIONS + 1])
    return _json({"transitions": [history.api_transition(t) for t in rows[:MAX_TRANSITIONS]],
                         "truncated": len(rows) > MAX_TRANSITIONS})
