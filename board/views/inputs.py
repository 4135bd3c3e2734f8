"""Values from outside (path, query string) checked before they reach a query: a clear 4xx, never a 500."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse, QueryDict

from board.presenters import STATUS_FILTERS


def shown(value: str, limit: int = 40) -> str:
    """A user's value quoted in an error message, cut short: a 5 MB parameter must not come back in full."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def query_problem(params: QueryDict) -> str:
    """Why these query parameters cannot be used at all ("" when they can): a NUL character, which no
    database column can hold."""
    for key, values in params.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            return f"{shown(key)}: a query parameter may not hold a NUL character"
    return ""


def board_query_problem(params: QueryDict) -> str:
    """As `query_problem`, and the board's `status` filter must be one the board knows."""
    status = params.get("status") or ""
    if status not in STATUS_FILTERS:
        return f"status={shown(status)} is not one of: {', '.join(s for s in STATUS_FILTERS if s)}"
    return query_problem(params)


def bad_request(message: str) -> HttpResponse:
    """A page's answer to a parameter it cannot use: the reason, readable as it is."""
    return HttpResponse(f"Bad request: {message}\n", status=400, content_type="text/plain; charset=utf-8")


def json_error(status: int, message: str) -> JsonResponse:
    """Every error of the JSON API has this one shape: {"error": "..."}."""
    return JsonResponse({"error": message}, status=status)
