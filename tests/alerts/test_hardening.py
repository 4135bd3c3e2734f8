"""Alert channels against hostile input and careless configuration: strict forms, secrets kept secret, failures
named by class (never the target's own words), no redirects, masked URLs, and email safe whatever a name holds."""

from __future__ import annotations

import http.server
import importlib
import socket
import threading

import pytest
from django.apps import apps

from alerts import delivery
from alerts.models import Attempt, Channel, Notification
from alerts.transports.webhook import signature
from monitor.models import Pair
from tests.factories import cert_and_key, flip
from tests.receivers import HttpReceiver, SmtpReceiver
from tests.services import free_port

pytestmark = pytest.mark.django_db

WEBHOOK = {"kind": "webhook", "enabled": "on"}
SYSLOG = {"kind": "syslog", "enabled": "on", "syslog_protocol": "tcp", "syslog_port": "514",
          "syslog_facility": "daemon"}
SNMP = {"kind": "snmp", "enabled": "on", "snmp_version": "2c", "snmp_port": "162", "snmp_community": "public"}


# ---- real servers on loopback that misbehave ------------------------------------------------------------------


class Server:
    """An HTTP server on loopback whose handler the test chooses; records the method and path of each request."""

    def __init__(self, answer) -> None:
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append((self.command, self.path))
                answer(self)

            do_GET = do_POST = _any  # noqa: N815 (http.server's names)

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RawServer:
    """A TCP listener that answers every connection with `reply` (None: says nothing and keeps it open)."""

    def __init__(self, reply: bytes | None) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply, self.open = reply, []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.reply is None:
                self.open.append(conn)
            else:
                conn.recv(65536)
                conn.sendall(self.reply)
                conn.close()

    def close(self) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def servers():
    made = []

    def start(kind, arg):
        made.append(kind(arg))
        return made[-1]

    yield start
    for s in made:
        s.close()


def send_test(client, channel: Channel) -> str:
    page = client.post(f"/alerts/channels/{channel.pk}/test/", follow=True)
    assert page.status_code == 200
    return [str(m) for m in page.context["messages"]][-1]  # the test's answer comes last


# ---- the channel form refuses what would misbehave later -------------------------------------------------------


@pytest.mark.parametrize("post,field", [
    ({**WEBHOOK, "name": "ops\nchat", "webhook_url": "https://hooks.example/x"}, "name"),
    ({**WEBHOOK, "name": "ops\u202etahc", "webhook_url": "https://hooks.example/x"}, "name"),
    ({**WEBHOOK, "name": "ops\u2066chat", "webhook_url": "https://hooks.example/x"}, "name"),
    ({**WEBHOOK, "name": "ops\x00", "webhook_url": "https://hooks.example/x"}, "name"),
    ({**SYSLOG, "name": "s", "syslog_host": "a..b"}, "syslog_host"),
    ({**SYSLOG, "name": "s", "syslog_host": "logs.example\n"}, "syslog_host"),
    ({**SYSLOG, "name": "s", "syslog_host": "[[["}, "syslog_host"),
    ({**SYSLOG, "name": "s", "syslog_host": "256.1.1.1"}, "syslog_host"),
    ({**SYSLOG, "name": "s", "syslog_host": "-logs.example"}, "syslog_host"),
    ({**SYSLOG, "name": "s", "syslog_host": "logs.example", "syslog_protocol": "tls",
      "syslog_ca_cert": "-----BEGIN CERTIFICATE-----\nçà\n-----END CERTIFICATE-----"}, "syslog_ca_cert"),
    ({**SYSLOG, "name": "s", "syslog_host": "logs.example", "syslog_protocol": "tls",
      "syslog_ca_cert": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----"}, "syslog_ca_cert"),
    ({**SNMP, "name": "t", "snmp_host": "a..b"}, "snmp_host"),
    ({**SNMP, "name": "t", "snmp_host": "traps.example\n"}, "snmp_host"),
    ({**SNMP, "name": "t", "snmp_host": "256.1.1.1"}, "snmp_host"),
    ({**SNMP, "name": "t", "snmp_host": "traps.example", "snmp_community": "public\nrw"}, "snmp_community"),
    ({**WEBHOOK, "name": "w", "webhook_url": "https://a..b/hook"}, "webhook_url"),
    ({**WEBHOOK, "name": "w", "webhook_url": "https://256.1.1.1/hook"}, "webhook_url"),
])
def test_channel_form_refuses_hostile_values(admin_client, post, field):
    response = admin_client.post("/alerts/channels/new/", post)
    assert response.status_code == 200, "the form comes back with the error"
    assert response.context["form"].errors[field]
    assert not Channel.objects.exists()


@pytest.mark.parametrize("host", ["logs.example.com", "logs", "10.0.0.1", "::1", "fe80::1", "logs.example.com."])
def test_channel_form_accepts_host_names_and_addresses(admin_client, host):
    response = admin_client.post("/alerts/channels/new/", {**SYSLOG, "name": "s", "syslog_host": host})
    assert response.status_code == 302, response.context and response.context["form"].errors
    assert Channel.objects.get().config["host"] == host


def test_syslog_tls_accepts_a_real_ca(admin_client):
    ca, _key = cert_and_key("syslog-ca", ca=True)
    response = admin_client.post("/alerts/channels/new/", {**SYSLOG, "name": "s", "syslog_host": "logs.example",
                                                           "syslog_protocol": "tls", "syslog_ca_cert": ca})
    assert response.status_code == 302


# ---- send test: a class of failure, never a 500, never the target's own text -----------------------------------


def _channel(kind: str, **config) -> Channel:
    return Channel.objects.create(kind=kind, name=f"{kind}-x", config=config)


def test_send_test_names_each_class_of_failure(admin_client, servers, settings):
    settings.ALERTS_TIMEOUT = 0.5
    garbage = servers(RawServer, b"SSH-2.0-OpenSSH_9.2\r\n")
    silent = servers(RawServer, None)
    teller = servers(Server, lambda h: (h.send_response(500, "Internal token=abc123 leaked"), h.end_headers(),
                                        h.wfile.write(b"stack trace with password=hunter2")))
    cases = [
        (_channel("webhook", url=f"http://127.0.0.1:{garbage.port}/hook"), "not HTTP"),
        (_channel("webhook", url=f"http://127.0.0.1:{free_port()}/hook"), "connection refused"),
        (_channel("webhook", url=f"http://127.0.0.1:{silent.port}/hook"), "timed out"),
        (_channel("webhook", url=f"https://127.0.0.1:{garbage.port}/hook"), "TLS"),
        (_channel("webhook", url="http://no-such-host.invalid/hook"), "DNS"),
        (_channel("webhook", url=f"{teller.url}/hook"), "HTTP 500 Internal Server Error"),
        (_channel("syslog", protocol="udp", host="a..b", port=514), "DNS"),
        (_channel("syslog", protocol="tcp", host="a..b", port=514), "DNS"),
        (_channel("syslog", protocol="tls", host="127.0.0.1", port=garbage.port,
                  ca_cert="-----BEGIN CERTIFICATE-----\nçà\n-----END CERTIFICATE-----"), "CA certificate"),
    ]
    for channel, expected in cases:
        said = send_test(admin_client, channel)
        assert said.startswith(f"Test to “{channel.name}”: failed") and expected in said, (channel.config, said)
        for secret in ("token=abc123", "hunter2", "OpenSSH", "leaked", "/hook"):
            assert secret not in said


def test_a_redirect_is_a_failure_and_is_not_followed(admin_client, servers):
    elsewhere = servers(Server, lambda h: (h.send_response(200), h.end_headers()))
    for code in (301, 302, 303, 307, 308):
        mover = servers(Server, lambda h, code=code: (h.send_response(code), h.send_header(
            "Location", f"{elsewhere.url}/stolen"), h.end_headers()))
        channel = _channel("webhook", url=f"{mover.url}/hook")
        said = send_test(admin_client, channel)
        assert f"failed (permanent): HTTP {code}" in said and "redirects are not followed" in said
        assert mover.requests == [("POST", "/hook")]
    assert elsewhere.requests == [], "nothing, neither GET nor POST, reached the redirect's target"


# ---- secrets: encrypted at rest, write-only, and only sent where they were stored for ------------------------------


def test_webhook_secret_is_encrypted_write_only_and_kept_on_edit(admin_client):
    with HttpReceiver() as http:
        admin_client.post("/alerts/channels/new/", {**WEBHOOK, "name": "chat", "webhook_url": http.url,
                                                    "webhook_secret": "k-very-secret"})
        channel = Channel.objects.get()
        assert "k-very-secret" not in str(channel.config)
        page = admin_client.get(f"/alerts/channels/{channel.pk}/").content.decode()
        assert "k-very-secret" not in page and "stored — leave empty to keep" in page
        # An edit leaving the secret empty (the name and the path change) keeps it.
        response = admin_client.post(f"/alerts/channels/{channel.pk}/", {
            **WEBHOOK, "name": "chat 2", "webhook_url": http.url + "/v2", "webhook_secret": ""})
        assert response.status_code == 302
        assert "Test to “chat 2”: sent" in send_test(admin_client, channel)
        sent = http.wait(1)[0]
        assert sent.headers["X-Hapanel-Signature"] == signature("k-very-secret", sent.body.encode())


@pytest.mark.parametrize("new_url", ["http://localhost:{port}/hook", "https://127.0.0.1:{port}/hook",
                                     "http://127.0.0.1:{other}/hook"])
def test_a_new_destination_needs_the_secret_again(admin_client, new_url):
    port = free_port()
    admin_client.post("/alerts/channels/new/", {**WEBHOOK, "name": "chat", "webhook_url": f"http://127.0.0.1:{port}/hook",
                                                "webhook_secret": "k-very-secret"})
    channel = Channel.objects.get()
    stored = dict(channel.config)
    url = new_url.format(port=port, other=port + 1)
    response = admin_client.post(f"/alerts/channels/{channel.pk}/", {**WEBHOOK, "name": "chat", "webhook_url": url})
    assert response.status_code == 200
    assert "enter the secret again" in response.context["form"].errors["webhook_secret"][0]
    channel.refresh_from_db()
    assert channel.config == stored, "nothing changed"
    admin_client.post(f"/alerts/channels/{channel.pk}/", {**WEBHOOK, "name": "chat", "webhook_url": url,
                                                          "webhook_secret": "another-secret"})
    channel.refresh_from_db()
    assert channel.config["url"] == url and channel.transport_config()["secret"] == "another-secret"


def test_snmp_v3_keys_are_encrypted_write_only_and_tied_to_the_receiver(admin_client):
    v3 = {"kind": "snmp", "enabled": "on", "name": "traps", "snmp_version": "3", "snmp_host": "127.0.0.1",
          "snmp_port": "162", "snmp_user": "hapanel", "snmp_engine_id": "8000000001020304",
          "snmp_auth_protocol": "SHA", "snmp_priv_protocol": "AES"}
    assert admin_client.post("/alerts/channels/new/", {**v3, "snmp_auth_key": "auth-key-1",
                                                       "snmp_priv_key": "priv-key-1"}).status_code == 302
    channel = Channel.objects.get()
    assert "auth-key-1" not in str(channel.config) and "priv-key-1" not in str(channel.config)
    page = admin_client.get(f"/alerts/channels/{channel.pk}/").content.decode()
    assert "auth-key-1" not in page and "priv-key-1" not in page and page.count("stored — leave empty to keep") == 2
    assert admin_client.post(f"/alerts/channels/{channel.pk}/", v3).status_code == 302  # kept
    channel.refresh_from_db()
    assert channel.transport_config()["auth_key"] == "auth-key-1"
    moved = admin_client.post(f"/alerts/channels/{channel.pk}/", {**v3, "snmp_host": "traps.example"})
    assert set(moved.context["form"].errors) == {"snmp_auth_key", "snmp_priv_key"}


def test_plaintext_secrets_of_existing_channels_are_encrypted_by_the_migration():
    hook = Channel.objects.create(kind="webhook", name="old", config={"url": "https://hooks.example/x",
                                                                      "secret": "plain-secret"})
    traps = Channel.objects.create(kind="snmp", name="old-traps", config={
        "version": "3", "host": "127.0.0.1", "port": 162, "user": "u", "auth_key": "plain-auth",
        "priv_key": "plain-priv"})
    mail = Channel.objects.create(kind="email", name="mail", config={"recipients": ["ops@example.com"]})
    importlib.import_module("alerts.migrations.0002_encrypt_channel_secrets").encrypt_secrets(apps, None)
    for channel in (hook, traps, mail):
        channel.refresh_from_db()
    assert "plain" not in str(hook.config) + str(traps.config)
    assert hook.transport_config() == {"url": "https://hooks.example/x", "secret": "plain-secret"}
    assert (traps.transport_config()["auth_key"], traps.transport_config()["priv_key"]) == ("plain-auth",
                                                                                            "plain-priv")
    assert mail.config == {"recipients": ["ops@example.com"]}


# ---- URLs masked everywhere -----------------------------------------------------------------------------------


def test_webhook_urls_are_masked_in_lists_errors_and_the_pair_page(admin_client, viewer_client):
    port = free_port()  # nobody listens: connection refused
    channel = _channel("webhook", url=f"http://127.0.0.1:{port}/services/T0/B1?token=xoxb-123")
    pair = Pair.objects.create(name="vault-1")
    channel.routes.create(event="ha-failed")
    [nid] = delivery.notifications_for([flip(pair).pk])
    assert delivery.deliver(nid)[0] == delivery.RETRY
    n = Notification.objects.get(pk=nid)
    for error in (n.last_error, Attempt.objects.get(notification=n).error):
        assert error == f"webhook http://127.0.0.1:{port}/…: connection refused"
    for client, url in ((admin_client, "/alerts/channels/"), (viewer_client, f"/pairs/{pair.pk}/"),
                        (viewer_client, "/alerts/")):
        page = client.get(url).content.decode()
        assert f"http://127.0.0.1:{port}/…" in page and "xoxb-123" not in page and "/services/" not in page


# ---- email whatever a pair's name holds ------------------------------------------------------------------------


def test_a_line_break_in_a_pair_name_cannot_add_email_headers(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django swaps in locmem
    with SmtpReceiver() as smtp:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        channel = _channel("email", recipients=["ops@example.com"])
        channel.routes.create(event="ha-failed")
        pair = Pair.objects.create(name="vault\r\nBcc: thief@example.com\u2028X-Evil: 1")
        [nid] = delivery.notifications_for([flip(pair).pk])
        assert delivery.deliver(nid)[0] == delivery.SENT
        assert Notification.objects.get(pk=nid).attempts == 1
        [mail] = smtp.wait(1)
        assert mail.headers["rcpt_tos"] == ["ops@example.com"]
        assert "Bcc" not in mail.headers and "X-Evil" not in mail.headers
        assert mail.headers["Subject"].startswith("[hapanel] vault Bcc: thief@example.com X-Evil: 1:")
