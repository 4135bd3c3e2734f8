"""Hostile values in URLs and query strings: a 4xx that says what is wrong, never a 500; the API answers JSON."""

from __future__ import annotations

import pytest

from tests.factories import flip, recorded, save

pytestmark = pytest.mark.django_db
TOKEN = "hostile-input-token"


@pytest.fixture
def pair(settings):
    settings.METRICS_TOKEN = TOKEN
    pair = save(recorded("alpha"))
    flip(pair)
    return pair


@pytest.mark.parametrize("value", ["%C2%B2", "99999999999999999999", "-1", "abc", "1%00"])
@pytest.mark.parametrize("url", ["/api/v1/transitions", "/transitions/"])
def test_a_bad_pair_filter_is_a_400_that_says_so(viewer_client, pair, url, value):
    response = viewer_client.get(f"{url}?pair={value}")
    assert response.status_code == 400
    assert "not a pair id" in response.content.decode() or "NUL character" in response.content.decode()


def test_an_unknown_status_filter_is_a_400(viewer_client, pair):
    api = viewer_client.get("/api/v1/pairs?status=garbage")
    assert api.status_code == 400
    assert api.json() == {"error": "status='garbage' is not one of: Failed, Unknown, Alive, problems"}
    for url in ("/?status=garbage", "/board/?status=garbage"):
        page = viewer_client.get(url)
        assert page.status_code == 400 and "status='garbage' is not one of" in page.content.decode()
    assert viewer_client.get("/api/v1/pairs?status=problems").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/pairs/99999999999999999999", "/api/v1/pairs/12345", "/api/v1/nothing",
                                  "/api/v2/pairs", "/api/"])
def test_api_404s_are_json_in_the_one_error_shape(anonymous_client, pair, path):
    response = anonymous_client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error"}


def test_the_api_refuses_writes_in_json(viewer_client, pair):
    response = viewer_client.post("/api/v1/pairs", {})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert "read-only" in response.json()["error"]


def test_a_pair_id_beyond_the_database_range_is_no_pair(viewer_client, pair):
    assert viewer_client.get("/pairs/99999999999999999999/").status_code == 404
    assert viewer_client.get(f"/pairs/{pair.pk}/").status_code == 200


def test_a_huge_query_value_is_not_echoed_back(viewer_client, pair):
    response = viewer_client.get("/api/v1/transitions", {"pair": "x" * 5_000_000})
    assert response.status_code == 400 and len(response.content) < 200
