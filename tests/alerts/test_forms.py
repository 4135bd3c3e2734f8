"""Admin pages for alerts: channel forms with field-level errors, the send-test button, routing, the log."""

from __future__ import annotations

import pytest

from alerts.models import EVENTS, Channel, Notification, Route
from monitor.models import Pair
from tests.factories import flip
from tests.receivers import HttpReceiver, SyslogReceiver


def test_viewer_cannot_configure_but_sees_the_log(viewer_client):
    assert viewer_client.get("/alerts/channels/").status_code == 403
    assert viewer_client.post("/alerts/routes/", {}).status_code == 403
    page = viewer_client.get("/alerts/")
    assert page.status_code == 200
    # No tab leads a viewer to a 403.
    assert "/alerts/channels/" not in page.content.decode() and "/alerts/routes/" not in page.content.decode()


@pytest.mark.parametrize("post,field,error", [
    ({"kind": "email", "email_recipients": "ops@example.com, not-an-address"}, "email_recipients",
     "Not an email address: not-an-address"),
    ({"kind": "snmp", "snmp_version": "2c", "snmp_host": "", "snmp_port": "162", "snmp_community": "public"},
     "snmp_host", "Required for this kind of channel."),
    ({"kind": "snmp", "snmp_version": "3", "snmp_host": "h", "snmp_port": "162", "snmp_user": "u",
      "snmp_engine_id": "zz", "snmp_priv_protocol": "none"}, "snmp_engine_id", "Enter a valid value."),
    ({"kind": "syslog", "syslog_protocol": "tcp", "syslog_host": "bad host!", "syslog_port": "514"},
     "syslog_host", "A host name or an IP address."),
    ({"kind": "webhook", "webhook_url": "ftp://example.com/x"}, "webhook_url", "An http:// or https:// URL."),
])
def test_channel_form_errors_are_per_field(admin_client, post, field, error):
    response = admin_client.post("/alerts/channels/new/", {"name": "x", "enabled": "on", **post})
    assert response.status_code == 200
    assert error in response.context["form"].errors[field][0]
    assert not Channel.objects.exists()


def test_create_edit_and_send_test(admin_client):
    with HttpReceiver() as http:
        response = admin_client.post("/alerts/channels/new/", {
            "name": "chat", "kind": "webhook", "enabled": "on", "webhook_url": http.url, "webhook_secret": "k"})
        assert response.status_code == 302
        channel = Channel.objects.get(name="chat")
        assert channel.config.keys() == {"url", "secret_enc"} and channel.transport_config()["secret"] == "k"
        # Every event is routed for every pair from the start: a first failure is never unheard.
        assert set(channel.routes.values_list("event", "pair")) == {(e, None) for e, _ in EVENTS}
        page = admin_client.post(f"/alerts/channels/{channel.pk}/test/", follow=True).content.decode()
        assert "Test to “chat”: sent" in page
        assert http.wait(1)[0].headers["X-Hapanel-Signature"].startswith("sha256=")
        http.status = 410
        page = admin_client.post(f"/alerts/channels/{channel.pk}/test/", follow=True).content.decode()
        assert "Test to “chat”: failed (permanent): HTTP 410 Gone" in page
    with SyslogReceiver() as syslog:
        admin_client.post(f"/alerts/channels/{channel.pk}/", {
            "name": "chat", "kind": "syslog", "enabled": "on", "syslog_protocol": "tcp", "syslog_host": "127.0.0.1",
            "syslog_port": str(syslog.port), "syslog_facility": "local0"})
        channel.refresh_from_db()
        assert channel.kind == "syslog" and channel.config["port"] == syslog.port
        admin_client.post(f"/alerts/channels/{channel.pk}/test/")
        assert syslog.wait(1)[0].body.startswith("<133>1 ")  # local0.notice


def test_routing_grid_per_pair_and_for_all(admin_client):
    a = Channel.objects.create(kind="webhook", name="a", config={"url": "http://127.0.0.1:9/"})
    b = Channel.objects.create(kind="email", name="b", config={"recipients": ["x@example.com"]})
    pair = Pair.objects.create(name="vault-1")
    admin_client.post("/alerts/routes/", {f"ha-failed__{a.pk}": "on", f"ha-alive__{a.pk}": "on"})
    admin_client.post(f"/alerts/routes/?pair={pair.pk}", {f"replication-failed__{b.pk}": "on"})
    assert set(Route.objects.values_list("event", "channel__name", "pair__name")) == {
        ("ha-failed", "a", None), ("ha-alive", "a", None), ("replication-failed", "b", "vault-1")}
    page = admin_client.get(f"/alerts/routes/?pair={pair.pk}")
    assert page.context["form"][f"replication-failed__{b.pk}"].value() is True
    admin_client.post("/alerts/routes/", {f"ha-failed__{a.pk}": "on"})  # unticking removes the route
    assert Route.objects.filter(pair=None).count() == 1 and Route.objects.filter(pair=pair).count() == 1


def test_notifications_page_lists_sent_and_failed(admin_client):
    from alerts.delivery import notifications_for_pair

    pair = Pair.objects.create(name="vault-1")
    ch = Channel.objects.create(kind="webhook", name="hook", config={"url": "http://127.0.0.1:9/"},
                                disabled_reason="the last 3 deliveries failed; latest: HTTP 410 Gone")
    Notification.objects.create(transition=flip(pair), channel=ch, event="ha-failed", status="sent", attempts=1)
    Notification.objects.create(transition=flip(pair, "Failed", "Alive"), channel=ch, event="ha-alive",
                                status="failed", attempts=1, last_error="HTTP 410 Gone")
    page = admin_client.get("/alerts/").content.decode()
    assert "High Availability Failed" in page and "High Availability Alive" in page and "HTTP 410 Gone" in page
    assert "Alert channel “hook” (Webhook) is failing" in page
    assert [n.status for n in notifications_for_pair(pair, 10)] == ["failed", "sent"]


def test_the_email_form_and_its_test_name_the_mail_server(admin_client, settings):
    """An admin sees where email alerts go: the worker's EMAIL_HOST and EMAIL_PORT, which the form cannot change."""
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9
    page = admin_client.get("/alerts/channels/new/").content.decode()
    assert "mail server of the panel's worker" in page and "127.0.0.1:9" in page
    channel = Channel.objects.create(kind="email", name="ops", config={"recipients": ["ops@example.com"]})
    page = admin_client.post(f"/alerts/channels/{channel.pk}/test/", follow=True).content.decode()
    assert "Test to “ops” (via the mail server 127.0.0.1:9): " in page
