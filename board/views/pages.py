"""The HTML pages ops staff watch: the board, its live fragment, a pair, the transition history."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from board import charts, history, presenters, runbook
from board.board import Board
from board.views import extras
from board.views.inputs import bad_request, board_query_problem, query_problem
from hapanel.access import viewer_required
from monitor import coordination, risk_record
from monitor.models import Pair

CHART_WINDOW = 3600.0  # the pair page's lag chart: the last hour
FRAGMENT_TTL = 10  # seconds a rendered board stays in the cache (keyed by its ETag, so never wrong)


@viewer_required
def index(request: HttpRequest) -> HttpResponse:
    if problem := board_query_problem(request.GET):
        return bad_request(problem)
    board = Board(request.GET)
    return render(request, "board/index.html", {"board": board, "statuses": presenters.STATUS_FILTERS[1:],
                                                 **extras.board_extras(request)})


@viewer_required
def board(request: HttpRequest) -> HttpResponse:
    """The board's live part, polled by htmx: 304 when nothing shown changed, else the cached rendering."""
    if problem := board_query_problem(request.GET):
        return bad_request(problem)
    b = Board(request.GET)
    if b.etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        html = cache.get(f"board:{b.etag}")  # wall screens showing the same board share one rendering
        if html is None:
            # Kept as bytes: a megabyte of text would be encoded to pickle it, and again for each answer.
            html = b.fragment(request)
            cache.set(f"board:{b.etag}", html, FRAGMENT_TTL)
        response = HttpResponse(html)
    response["ETag"] = b.etag
    response["X-Server-Time"] = f"{b.now.timestamp():.3f}"  # the page ticks ages against the server's clock
    response["Cache-Control"] = "no-cache, private"
    return response


@viewer_required
def pair_detail(request: HttpRequest, pair_id: int) -> HttpResponse:
    pair = get_object_or_404(Pair.objects.prefetch_related("nodes"), pk=pair_id)
    view = presenters.present(pair)
    now = time.time()
    chart = charts.lag_chart(coordination.lag_history(pair.pk, now - CHART_WINDOW), now - CHART_WINDOW, now,
                             pair.lag_warning)
    return render(request, "board/pair.html", {
        "pair": pair, "view": view, "nodes": presenters.node_views(pair), "chart": chart,
        "cards": runbook.for_pair(view, pair.health, pair.readings), "transitions": pair.transitions.all()[:20],
        "monitor": presenters.monitor_banner(), "risks": risk_record.current(pair),
        **extras.pair_extras(request, pair),
    })


@viewer_required
def transitions(request: HttpRequest) -> HttpResponse:
    if problem := query_problem(request.GET):
        return bad_request(problem)
    try:
        filters, error = history.Filters.parse(request.GET), ""
    except history.BadFilter as exc:
        filters, error = history.Filters(), str(exc)
    page = Paginator(history.transitions(filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "board/transitions.html", {
        "page": page, "filters": filters, "error": error, "query": query.urlencode(),
        "pairs": Pair.objects.values_list("id", "name"), "kinds": history.KINDS,
    }, status=400 if error else 200)


def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: the web process answers. With `?deep=1`, also the monitor: 503 when the dispatcher
    has not ticked within the staleness bound (no worker and beat, or Redis unreachable)."""
    body = {"ok": True, "time": timezone.now().isoformat()}
    if request.GET.get("deep") in ("1", "true", "yes"):
        state = coordination.monitor_state()
        body.update(ok=state["ok"], monitor=state["reason"] or "running")
    return JsonResponse(body, status=200 if body["ok"] else 503)
