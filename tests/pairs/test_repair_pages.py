"""The rebuild assistant's pages: who may open them, bad options, the check button's guards, and the repair log.

The pair here points at a closed port of this machine: a check really connects and is refused in milliseconds.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from monitor.models import Node
from pairs.repair.models import Repair, RepairEvent
from tests import factories

OPTIONS = {"target": "secondary", "method": "mariabackup", "flavour": "mariadb", "version": "10.11.6",
           "tls_dir": "/etc/mysql/tls", "datadir": "/var/lib/mysql", "backup_dir": "/var/backups/hapanel-rebuild",
           "os_user": "mysql"}


@pytest.fixture
def broken_pair(db):
    """A pair whose secondary stopped on an apply error; both its nodes refuse connections (a closed port)."""
    pair = factories.save(factories.recorded("vault", kind="apply-error"))
    Node.objects.filter(pair=pair).update(host="127.0.0.1", port=1)
    return pair


def _open(client, pair) -> Repair:
    response = client.post(reverse("rebuild", args=[pair.pk]), OPTIONS)
    assert response.status_code == 302, response.content.decode()[:1500]
    return Repair.objects.get(pair=pair)


@pytest.mark.parametrize(("persona", "status"), [("anonymous", 302), ("outsider", 403), ("viewer", 403)])
def test_only_admins_open_the_assistant(request, broken_pair, persona, status):
    client = request.getfixturevalue(f"{persona}_client")
    repair = Repair.objects.create(pair=broken_pair, pair_name="vault", target="secondary", method="mariabackup",
                                   options={"flavour": "mariadb", "version": "10.11.6"})
    urls = [reverse("rebuild", args=[broken_pair.pk]), reverse("repair", args=[broken_pair.pk, repair.pk])]
    assert [client.get(u).status_code for u in urls] == [status, status]
    check = reverse("repair-check", args=[broken_pair.pk, repair.pk, "stop-target"])
    assert client.post(check).status_code == status
    assert not repair.events.exists()


def test_the_form_starts_from_what_the_monitor_read(admin_client, broken_pair):
    form = admin_client.get(reverse("rebuild", args=[broken_pair.pk])).context["form"]
    # The secondary's channel stopped on 1062: it is the node to rebuild, from a MariaDB primary.
    assert (form["target"].value(), form["flavour"].value(), form["method"].value()) == (
        "secondary", "mariadb", "mariabackup")
    assert form["version"].value() == broken_pair.readings["secondary"]["version"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"datadir": "var/lib/mysql"}, "datadir", "absolute path"),
    ({"backup_dir": "/tmp/it's"}, "backup_dir", "absolute path"),
    ({"version": "latest"}, "version", "Enter the version"),
    ({"flavour": "mysql-8.0", "version": "8.0.36"}, "method", "Mariabackup copies MariaDB only"),
    ({"flavour": "mysql-8.0", "version": "8.0.16", "method": "clone"}, "method", "MySQL 8.0.17 or later"),
    ({"method": "rsync"}, "method", "Select a valid choice"),
    ({"service": "mariadb; rm -rf /"}, "service", "plain name"),
])
def test_bad_options_get_field_errors(admin_client, broken_pair, changes, field, message):
    response = admin_client.post(reverse("rebuild", args=[broken_pair.pk]), {**OPTIONS, **changes})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors.get(field, [])), response.context["form"].errors
    assert not Repair.objects.exists()


def test_opening_and_checking_are_audited_and_shown_in_the_repair_log(admin_client, viewer_client, broken_pair):
    repair = _open(admin_client, broken_pair)
    assert repair.baseline == ""  # the primary did not answer: the GTID check will say it cannot tell
    page = admin_client.get(reverse("repair", args=[broken_pair.pk, repair.pk])).content.decode()
    assert "1. Stop the secondary" in page and "mariabackup --copy-back" in page and 'class="copy"' in page

    html = admin_client.post(reverse("repair-check", args=[broken_pair.pk, repair.pk, "stop-target"]),
                             HTTP_HX_REQUEST="true").content.decode()
    assert html.startswith('<div id="result-stop-target"') and "<b>Done</b>" in html and "refused" in html
    html = admin_client.post(reverse("repair-check", args=[broken_pair.pk, repair.pk, "position"]),
                             HTTP_HX_REQUEST="true").content.decode()
    assert "<b>Not yet</b>" in html
    admin_client.post(reverse("repair-confirm", args=[broken_pair.pk, repair.pk, "stop-target"]))

    assert list(repair.events.order_by("id").values_list("action", "step", "result", "username")) == [
        (RepairEvent.OPENED, "", "", "alice"), (RepairEvent.CHECKED, "stop-target", "done", "alice"),
        (RepairEvent.CHECKED, "position", "not yet", "alice"), (RepairEvent.CONFIRMED, "stop-target", "", "alice")]
    admin_page = admin_client.get(reverse("pair", args=[broken_pair.pk])).content.decode()
    assert "Repair log" in admin_page and "Rebuild the secondary from the primary</a>" in admin_page
    viewer_page = viewer_client.get(reverse("pair", args=[broken_pair.pk])).content.decode()
    # Viewers read the log, but the assistant is for admins.
    assert "Repair log" in viewer_page and "confirmed done" in viewer_page
    assert reverse("rebuild", args=[broken_pair.pk]) not in viewer_page


def test_a_check_is_a_post_with_a_csrf_token(admin, broken_pair):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    repair = Repair.objects.create(pair=broken_pair, pair_name="vault", target="secondary", method="mariabackup",
                                   options={"flavour": "mariadb", "version": "10.11.6"})
    url = reverse("repair-check", args=[broken_pair.pk, repair.pk, "stop-target"])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert client.post(reverse("repair-check", args=[broken_pair.pk, repair.pk, "no-such-step"])).status_code == 403
    assert not repair.events.exists()


def test_checks_are_rate_limited_like_test_connection(admin_client, broken_pair, flush_redis, settings):
    settings.CHECKS_PER_MINUTE = 2
    repair = _open(admin_client, broken_pair)
    url = reverse("repair-check", args=[broken_pair.pk, repair.pk, "stop-target"])
    assert [admin_client.post(url).status_code for _ in range(3)] == [302, 302, 429]
    assert repair.events.filter(action=RepairEvent.CHECKED).count() == 2


def test_an_unknown_step_or_another_pair_s_repair_is_not_found(admin_client, broken_pair):
    repair = _open(admin_client, broken_pair)
    assert admin_client.post(reverse("repair-check", args=[broken_pair.pk, repair.pk, "nope"])).status_code == 404
    other = factories.save(factories.recorded("other"))
    assert admin_client.get(reverse("repair", args=[other.pk, repair.pk])).status_code == 404


def test_a_healthy_pair_offers_no_rebuild(admin_client, db):
    pair = factories.save(factories.recorded("fine"))
    assert reverse("rebuild", args=[pair.pk]) not in admin_client.get(reverse("pair", args=[pair.pk])).content.decode()


def test_a_one_way_pair_rebuilds_its_secondary_only(admin_client, broken_pair):
    broken_pair.topology = "one-way"
    broken_pair.save(update_fields=["topology"])
    response = admin_client.post(reverse("rebuild", args=[broken_pair.pk]), {**OPTIONS, "target": "primary"})
    assert "only the secondary is rebuilt" in " ".join(response.context["form"].errors["target"])
