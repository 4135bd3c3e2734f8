"""The small repair's pages: where it is offered, who may open it, its POST's guards, and a node that cannot be read.

The pair here points at a closed port of this machine: opening really connects and is refused in milliseconds.
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from monitor.models import Node, Pair
from pairs.repair.models import Repair
from tests import factories


@pytest.fixture
def broken_pair(db):
    """A pair whose secondary stopped on a duplicate key (1062); both its nodes refuse connections."""
    pair = factories.save(factories.recorded("vault", kind="apply-error"))
    Node.objects.filter(pair=pair).update(host="127.0.0.1", port=1)
    return pair


def _with_errno(pair: Pair, errno: int) -> Pair:
    readings = pair.readings
    readings["secondary"]["channels"][0]["last_sql_errno"] = errno
    Pair.objects.filter(pk=pair.pk).update(readings=readings)
    return Pair.objects.get(pk=pair.pk)


@pytest.mark.parametrize(("errno", "offered"), [(1062, True), (1032, True), (1146, False)])
def test_the_pair_page_offers_the_small_repair_for_a_duplicate_key_or_missing_row(admin_client, broken_pair, errno,
                                                                                  offered):
    _with_errno(broken_pair, errno)
    page = admin_client.get(reverse("pair", args=[broken_pair.pk])).content.decode()
    assert (f'href="{reverse("skip-event", args=[broken_pair.pk])}"' in page) is offered
    assert "Rebuild the secondary from the primary</a>" in page  # the rebuild stays offered beside it


def test_viewers_are_not_offered_the_small_repair(viewer_client, broken_pair):
    page = viewer_client.get(reverse("pair", args=[broken_pair.pk])).content.decode()
    assert reverse("skip-event", args=[broken_pair.pk]) not in page


@pytest.mark.parametrize(("persona", "status"), [("anonymous", 302), ("outsider", 403), ("viewer", 403)])
def test_only_admins_open_the_small_repair(request, broken_pair, persona, status):
    client = request.getfixturevalue(f"{persona}_client")
    url = reverse("skip-event", args=[broken_pair.pk])
    assert (client.get(url).status_code, client.post(url).status_code) == (status, status)
    assert not Repair.objects.exists()


def test_the_start_page_shows_the_error_the_monitor_last_read(admin_client, broken_pair):
    response = admin_client.get(reverse("skip-event", args=[broken_pair.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The secondary stopped on duplicate key" in html and "Offered now:" in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_opening_without_a_csrf_token_is_refused(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    pair = factories.save(factories.recorded("vault", kind="apply-error"))
    assert client.post(reverse("skip-event", args=[pair.pk])).status_code == 403
    assert not Repair.objects.exists()


def test_a_node_that_cannot_be_read_opens_nothing_and_says_why(admin_client, broken_pair):
    response = admin_client.post(reverse("skip-event", args=[broken_pair.pk]))
    assert response.status_code == 409
    assert "does not answer the monitor" in response.content.decode()
    assert not Repair.objects.exists()


@override_settings(CHECKS_PER_MINUTE=1)
def test_opening_counts_against_the_checks_budget(admin_client, broken_pair, flush_redis):
    url = reverse("skip-event", args=[broken_pair.pk])
    assert admin_client.post(url).status_code == 409  # it connected (and was refused)
    response = admin_client.post(url)
    assert response.status_code == 429 and "at most 1 a minute" in response.content.decode()


def test_an_unknown_pair_or_step_is_a_404(admin_client, broken_pair):
    assert admin_client.get(reverse("skip-event", args=[999999])).status_code == 404
    repair = Repair.objects.create(pair=broken_pair, pair_name="vault", procedure="skip-event", target="secondary",
                                   method="skip", options=_options())
    assert admin_client.get(reverse("repair", args=[broken_pair.pk, repair.pk])).status_code == 200
    check = reverse("repair-check", args=[broken_pair.pk, repair.pk, "no-such-step"])
    assert admin_client.post(check).status_code == 404


def _options() -> dict:
    return {"flavour": "mariadb", "version": "10.11.6", "replica": "secondary", "replica_address": "127.0.0.1:1",
            "source_address": "127.0.0.1:1", "connection": "", "position": "1-1-1",
            "error": {"errno": 1062, "text": "Could not execute Write_rows_v1 event on table shop.t; Duplicate entry "
                      "'1' for key 'PRIMARY', Error_code: 1062", "event": "Write_rows", "schema": "shop", "table": "t",
                      "key_value": "1", "key_name": "PRIMARY"},
            "transaction": {"read": False, "why": "refused"}, "relay": {},
            "lookup": {"schema": "shop", "table": "t", "columns": ["id"], "values": ["1"], "vault": False,
                       "origin": "the duplicate value of key PRIMARY"},
            "rows": {"primary": {"role": "primary", "state": "failed", "rows": [], "error": "refused"}}}


def test_a_check_of_a_node_that_cannot_be_read_says_unknown(admin_client, broken_pair):
    repair = Repair.objects.create(pair=broken_pair, pair_name="vault", procedure="skip-event", target="secondary",
                                   method="skip", options=_options())
    url = reverse("repair-check", args=[broken_pair.pk, repair.pk, "compare-row"])
    html = admin_client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<b>Unknown</b>" in html and "cannot be read" in html
    html = admin_client.post(reverse("repair-check", args=[broken_pair.pk, repair.pk, "skip-event"]),
                             HTTP_HX_REQUEST="true").content.decode()
    assert "<b>Not yet</b>" in html and "does not answer the monitor" in html
