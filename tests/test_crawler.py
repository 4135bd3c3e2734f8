"""Every URL of the panel, with hostile values in every path argument and the common query parameters, as
anonymous, viewer and admin, by GET and by POST (with a valid CSRF token): nothing answers 5xx.

Pairs, channels and a notification live in the app database (tests.factories): no MariaDB behind them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from alerts.models import Channel, Notification
from tests.factories import flip, make_pairs

pytestmark = pytest.mark.django_db

HOSTILE = ["%C2%B2", "99999999999999999999", "-1", "0", "abc", "'\"<x>", "\u202e", "a\x00b", "\r\nX: 1"]
# Past every field limit (64 kB for a pasted certificate); a 5 MB paste has its own test in tests/pairs.
BIG = "x" * 300_000
QUERY_KEYS = ["pair", "status", "minutes", "page", "limit", "name", "kind", "since", "until", "next"]
# Last: they end the session or remove the objects the other URLs are requested with.
LAST = re.compile(r"logout|delete")


def _patterns(resolvers, prefix: str = ""):
    """(route with <name> placeholders, [argument names], pattern name) for every URL pattern."""
    for p in resolvers:
        route = prefix + _route(p)
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, list(p.pattern.regex.groupindex), p.name or ""


def _route(p) -> str:
    pattern = p.pattern
    raw = str(pattern)
    if isinstance(pattern, RoutePattern):  # path(): <int:pair_id> → <pair_id>
        return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", raw)
    # re_path(): the regex without anchors; a named group becomes a placeholder, the rest as written
    raw = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", raw.lstrip("^").rstrip("$"))
    return re.sub(r"[\\.*+?()]", "", raw)


def _urls(route: str, args: list[str], real: dict[str, int]) -> list[str]:
    """The route with real ids, then each hostile value in each path argument (URL-quoted as a browser would)."""
    from urllib.parse import quote

    def fill(values: dict[str, str]) -> str:
        return "/" + re.sub(r"<(\w+)>", lambda m: values[m.group(1)], route).lstrip("/")

    base = {a: str(real.get(a, 1)) for a in args}
    urls = [fill(base)]
    for arg in args:
        urls += [fill({**base, arg: quote(v, safe="%")}) for v in HOSTILE]
    if not args and route.rstrip("/").endswith("api"):  # the catch-all under /api/
        urls += ["/api/" + quote(v, safe="%") for v in HOSTILE]
    return urls


def _requests(with_queries: bool) -> list[tuple[str, dict]]:
    """GET with each hostile value in every common parameter; POST (a form's body) with some of them: a view reads
    POST data through the same parsing, and forms are the slow pages."""
    if not with_queries:
        return [("get", {}), ("post", {})]
    queries = [dict.fromkeys(QUERY_KEYS, v) for v in HOSTILE]
    # Huge: once in a query string (a proxy would usually stop it first) and once in a form's body.
    return [("get", q) for q in [*queries, {"name": BIG}]] + [("post", q) for q in [*queries[::3], {"name": BIG}]]


@pytest.fixture
def world(admin, viewer):
    pairs = make_pairs(2)
    channel = Channel.objects.create(kind="webhook", name="hook", config={"url": "http://127.0.0.1:9/x?t=1"})
    Notification.objects.create(transition=flip(pairs[0]), channel=channel, event="ha-failed")
    return {"pair_id": pairs[0].pk, "channel_id": channel.pk, "account_id": 1}


def _client(user) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)  # a 500 is listed, not raised
    if user is not None:
        client.force_login(user)
    client.get("/login/")  # sets the CSRF cookie that a browser would have
    return client


@pytest.mark.parametrize("persona", ["anonymous", "viewer", "admin"])
def test_no_url_answers_5xx_to_hostile_input(request, world, persona):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    patterns = sorted(_patterns(get_resolver().url_patterns), key=lambda p: bool(LAST.search(p[0])))
    failures = []
    for route, args, _name in patterns:
        if route.startswith("django-admin/"):
            continue  # Django's own admin site, not the panel's code
        client = _client(user)
        token = client.cookies["csrftoken"].value
        for i, url in enumerate(_urls(route, args, world)):
            for method, query in _requests(i == 0):
                if method == "get":
                    response = client.get(url, query)
                else:
                    response = client.post(url, query, headers={"X-CSRFToken": token})
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url} {str(query)[:80]} → {response.status_code}")
    assert not failures, "\n".join(failures[:40])
