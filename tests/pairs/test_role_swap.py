"""Swap roles: an admin's POST exchanges the pair's nodes in the panel once, keeps the history, audits who did it,
and a real worker tells every routed channel at a real receiver once ("Roles changed")."""

from __future__ import annotations

from django.urls import reverse

from alerts.models import Notification
from monitor.models import Node, RoleChange, Transition
from pairs.repair.models import Repair, RepairEvent
from tests.factories import flip, recorded, save
from tests.receivers import TrapReceiver, channels_for
from tests.services import wait_for


def _opened(client, pair, kind: str = "switchover") -> Repair:
    response = client.post(reverse("switchover", args=[pair.pk, kind]),
                           {"flavour": "mariadb", "version": "10.11.6", "tls_dir": "/etc/mysql/tls"})
    assert response.status_code == 302, response.content.decode()[:1500]
    return Repair.objects.get(pair=pair, procedure=kind)


def test_swap_roles_once_with_one_message_per_channel(alert_worker, receivers, admin_client, viewer_client):
    channels_for(receivers)
    pair = save(recorded("alpha"))
    flip(pair)  # a flip of its history, which the swap keeps
    before = {n.role: n.address for n in pair.nodes.all()}
    repair = _opened(admin_client, pair)
    page = admin_client.get(reverse("repair", args=[pair.pk, repair.pk])).content.decode()
    assert "Planned switchover" in page and "Swap roles</button>" in page and "super_read_only" not in page

    swap = reverse("swap-roles", args=[pair.pk, repair.pk])
    assert viewer_client.post(swap).status_code == 403
    assert admin_client.post(swap).status_code == 302
    after = {n.role: n.address for n in Node.objects.filter(pair=pair)}
    assert after == {"primary": before["secondary"], "secondary": before["primary"]}
    assert admin_client.post(swap).status_code == 302  # pressed twice: the second does not swap back
    assert {n.role: n.address for n in Node.objects.filter(pair=pair)} == after
    assert Transition.objects.filter(pair=pair).count() == 1
    change = RoleChange.objects.get(pair=pair)
    assert (change.primary, change.secondary, change.username) == (before["secondary"], before["primary"], "alice")
    logged = list(repair.events.filter(step="swap-roles").order_by("id").values_list("action", "username", "result"))
    assert logged == [(RepairEvent.CONFIRMED, "alice", "done"), (RepairEvent.CHECKED, "alice", "not yet")]

    r = receivers
    r.http.wait(1, '"roles-changed"')
    wait_for(lambda: not Notification.objects.filter(status__in=["pending", "sending"]).exists(), 20,
             "every notification delivered")
    for name, receiver, per_channel in (("email", r.smtp, 1), ("webhook", r.http, 1), ("syslog", r.syslog, 2),
                                        ("snmp", r.traps, 1)):
        assert len(receiver.messages("roles-changed" if name != "email" else "Roles changed")) == per_channel, name
    body = r.http.json()[0]
    assert (body["event"], body["pair"]) == ("roles-changed", "alpha")
    assert body["summary"].startswith(f"{before['secondary']} is the primary now, {before['primary']} the secondary")
    assert "alice" in body["summary"]
    assert before["secondary"] in TrapReceiver.varbinds(r.traps.messages("roles-changed")[0]).values().__str__()
    shown = admin_client.get(reverse("pair", args=[pair.pk])).content.decode()
    assert f"primary now <code>{before['secondary']}</code>" in shown


def test_the_pair_page_offers_what_the_statuses_allow(admin_client, viewer_client, db):
    alive = save(recorded("alive"))
    page = admin_client.get(reverse("pair", args=[alive.pk])).content.decode()
    assert "Planned switchover</a>" in page and "Failover: the primary is lost</a>" not in page
    assert "Planned switchover</a>" not in viewer_client.get(reverse("pair", args=[alive.pk])).content.decode()
    down = save(recorded("down", "primary-down"))
    page = admin_client.get(reverse("pair", args=[down.pk])).content.decode()
    assert "Failover: the primary is lost</a>" in page and "Planned switchover</a>" not in page


def test_bad_input_gets_field_errors(admin_client, db):
    pair = save(recorded("alpha"))
    response = admin_client.post(reverse("switchover", args=[pair.pk, "switchover"]),
                                 {"flavour": "mariadb", "version": "x", "tls_dir": "relative", "service": "a b"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter the version the servers report" in html and "Enter an absolute path" in html
    assert "Enter a plain unit name" in html
    assert admin_client.get(reverse("switchover", args=[pair.pk, "nonsense"])).status_code == 404
