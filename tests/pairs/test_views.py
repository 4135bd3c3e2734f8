"""Who may configure pairs, CSRF, delete with or without history, pause/resume, the change log snippet."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from monitor.models import Pair, Transition
from pairs.changes import changes_for_pair
from pairs.models import PairChange
from tests.factories import ADMIN_URLS, pair_data


@pytest.fixture
def pair(admin_client) -> Pair:
    assert admin_client.post("/pairs/new/", pair_data("vault")).status_code == 302
    return Pair.objects.get(name="vault")


def test_viewer_gets_403_on_every_admin_url(viewer_client, pair):
    for method, url in ADMIN_URLS:
        response = getattr(viewer_client, method)(url.format(id=pair.pk))
        assert response.status_code == 403, (method, url)
    assert Pair.objects.get(pk=pair.pk).paused is False


def test_anonymous_is_sent_to_login(anonymous_client, pair):
    for method, url in ADMIN_URLS:
        response = getattr(anonymous_client, method)(url.format(id=pair.pk))
        assert response.status_code == 302 and response.url.startswith("/login/"), (method, url)


def test_csrf_is_enforced(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/pairs/new/", pair_data("nope")).status_code == 403
    page = client.get("/pairs/new/")
    token = page.cookies["csrftoken"].value
    assert client.post("/pairs/new/", {**pair_data("yes"), "csrfmiddlewaretoken": token}).status_code == 302
    assert list(Pair.objects.values_list("name", flat=True)) == ["yes"]


def test_pause_and_resume_are_recorded(admin_client, pair):
    assert admin_client.get(f"/pairs/{pair.pk}/pause/").status_code == 405
    admin_client.post(f"/pairs/{pair.pk}/pause/")
    assert Pair.objects.get(pk=pair.pk).paused
    admin_client.post(f"/pairs/{pair.pk}/resume/")
    assert not Pair.objects.get(pk=pair.pk).paused
    assert [c.action for c in changes_for_pair(pair)] == ["resumed", "paused", "created"]


def _transition(pair: Pair) -> Transition:
    from django.utils import timezone

    return Transition.objects.create(pair=pair, kind="ha", old_status="Unknown", new_status="Alive", cause="ok",
                                     detected_at=timezone.now())


def test_delete_needs_confirmation_and_keeps_history_when_asked(admin_client, pair):
    _transition(pair)
    page = admin_client.get(f"/pairs/{pair.pk}/delete/").content.decode()
    assert "Keep its history" in page and "1 recorded status change" in page
    assert admin_client.post(f"/pairs/{pair.pk}/delete/", {}).status_code == 200  # no choice made
    response = admin_client.post(f"/pairs/{pair.pk}/delete/", {"history": "keep"})
    assert response.status_code == 302 and response.url == "/"
    assert not Pair.objects.filter(pk=pair.pk).exists()  # gone from every list
    archived = Pair.all_objects.get(pk=pair.pk)
    assert archived.archived and Transition.objects.filter(pair_id=pair.pk).count() == 1
    assert f'href="/pairs/{pair.pk}/"' not in admin_client.get("/").content.decode()  # not on the board
    # The name is free again.
    assert admin_client.post("/pairs/new/", pair_data("vault")).status_code == 302
    log = PairChange.objects.filter(pair_id=pair.pk, action="deleted").get()
    assert log.note == "history kept" and log.pair_name == "vault"


def test_delete_can_remove_history(admin_client, pair):
    _transition(pair)
    admin_client.post(f"/pairs/{pair.pk}/delete/", {"history": "remove"})
    assert not Pair.all_objects.filter(pk=pair.pk).exists()
    assert not Transition.objects.filter(pair_id=pair.pk).exists()
    log = PairChange.objects.get(action="deleted")
    assert log.pair is None and log.pair_name == "vault" and log.note == "history removed"


def test_snippets_for_the_pair_page(admin_client, admin, pair):
    admin_client.post(f"/pairs/{pair.pk}/pause/")
    pair.refresh_from_db()
    template = Template("{% load pairconfig %}{% pair_actions pair %}{% pair_changes pair 10 %}")
    request = RequestFactory().get("/")
    request.user = admin
    html = template.render(Context({"pair": pair, "request": request, "csrf_token": "tok"}))
    assert f'href="/pairs/{pair.pk}/edit/"' in html and "Resume alerts" in html
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Paused by alice" in text and "Created by alice" in text
    assert "Secondary monitor password" in html and "••••" in html
    request.user = type("Anon", (), {"is_authenticated": False})()
    assert "/edit/" not in template.render(Context({"pair": pair, "request": request}))


def test_setup_page_generates_once_and_the_zip_matches(admin_client, pair):
    assert admin_client.get(f"/pairs/{pair.pk}/setup.zip").status_code == 302  # nothing generated yet
    options = {"flavour": "mariadb", "tls_dir": "/etc/mysql/tls", "primary_server_id": "1",
               "secondary_server_id": "2", "monitor_from": "10.0.0.%", "vault_schema": "vault",
               "emergency_from": "%"}
    page = admin_client.post(f"/pairs/{pair.pk}/setup/", options).content.decode()
    assert "CHANGE MASTER TO MASTER_HOST=&#x27;db2.example.com&#x27;" in page
    archive = zipfile.ZipFile(io.BytesIO(admin_client.get(f"/pairs/{pair.pk}/setup.zip").content))
    readme = archive.read("hapanel-setup/README.txt").decode()
    monitor_password = readme.split("hapanel_monitor: ")[1].split()[0]
    assert monitor_password in page
    # Generating changes nothing the panel monitors with: the new password is stored only from Verify.
    assert Pair.objects.get(pk=pair.pk).node("primary").get_password() == "secret-primary"
    assert "hapanel-setup/secondary/04-replication.sql" in archive.namelist()
    change = PairChange.objects.get(pair=pair, action="setup")
    assert change.changes == {} and change.note == "setup generated for mariadb"
    again = admin_client.post(f"/pairs/{pair.pk}/setup/", options).content.decode()
    assert monitor_password not in again  # new passwords on every generation


def test_setup_options_are_validated(admin_client, pair):
    bad = {"flavour": "oracle", "tls_dir": "relative dir", "primary_server_id": "1", "secondary_server_id": "1",
           "monitor_from": "a b", "vault_schema": "x;drop", "emergency_from": "%"}
    form = admin_client.post(f"/pairs/{pair.pk}/setup/", bad).context["form"]
    assert set(form.errors) == {"flavour", "tls_dir", "secondary_server_id", "monitor_from", "vault_schema"}
