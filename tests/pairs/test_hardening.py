"""The pair forms against a careless admin and a malicious one: PEM texts as editors save them, secrets that
stay with the server they were stored for, names that cannot forge lines, and ids that are not numbers."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.test import override_settings

from monitor.models import Node, Pair
from monitor.probe.target import NodeTarget, tls_context
from tests.factories import cert_and_key, pair_data

NEW = "/pairs/new/"
BOM = "\ufeff"


def errors(response, role: str | None, field: str) -> list[str]:
    editor = response.context["editor"]
    form = editor.form if role is None else editor.nodes[role]
    return form.errors.get(field, [])


def saved(client, data: dict) -> Pair:
    response = client.post(NEW, data)
    assert response.status_code == 302, [f.errors for f in response.context["editor"].nodes.values()]
    return Pair.objects.get(name=data["name"])


# ---- PEM texts as editors save them ----------------------------------------------------------------------------


def test_a_ca_with_a_byte_order_mark_and_notes_is_stored_as_plain_pem_the_monitor_can_use(admin_client):
    ca, _ = cert_and_key("bom-ca", ca=True)
    pasted = BOM + "Notre autorité de certification (copiée depuis l'intranet)\r\n" + ca.replace("\n", "\r\n") + "Fin."
    pair = saved(admin_client, pair_data(primary={"ca_cert": pasted, "tls_mode": "verify-ca"}))
    stored = pair.node("primary").ca_cert
    assert stored == ca.strip() and stored.isascii()
    tls_context(NodeTarget(role="primary", host="h", port=1, user="u", tls_mode="verify-ca", ca_pem=stored))


def test_non_ascii_inside_the_pem_block_is_refused_with_a_field_message(admin_client):
    ca, _ = cert_and_key("mangled")
    lines = ca.splitlines()
    lines[2] = "é" + lines[2][1:]
    response = admin_client.post(NEW, pair_data(primary={"ca_cert": "\n".join(lines)}))
    assert response.status_code == 200
    assert any("not base64" in e for e in errors(response, "primary", "ca_cert"))
    assert not Pair.objects.exists()


@pytest.mark.parametrize("field", ["ca_cert", "client_cert"])
def test_a_private_key_in_a_certificate_field_is_refused_never_stored_nor_shown_back(admin_client, field):
    cert, key = cert_and_key("client")
    response = admin_client.post(NEW, pair_data(primary={field: cert + key, "client_key": key}))
    assert response.status_code == 200
    assert any(e.startswith("This is a private key, not a certificate. It was not saved")
               for e in errors(response, "primary", field))
    body = "".join(key.splitlines()[1:-1])
    page = "".join(response.content.decode().split())
    assert body[:40] not in page  # the posted key is not rendered back into the textarea
    assert not Pair.objects.exists()


def test_a_five_megabyte_paste_gets_a_field_error(admin_client):
    response = admin_client.post(NEW, pair_data(primary={"ca_cert": "A" * (5 * 1024 * 1024)}))
    assert response.status_code == 200
    assert any("longer than 64 kB" in e for e in errors(response, "primary", "ca_cert"))


def test_a_five_megabyte_upload_gets_a_field_error(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("ca.pem", b"A" * (5 * 1024 * 1024))
    response = admin_client.post(NEW, {**pair_data(), "primary-ca_cert_file": upload})
    assert any("longer than 64 kB" in e for e in errors(response, "primary", "ca_cert"))


def test_a_client_certificate_and_key_are_checked_with_the_monitors_tls_code(admin_client):
    cert, key = cert_and_key("client")
    pasted_key = BOM + "key for the monitor:\n" + key
    pair = saved(admin_client, pair_data(primary={"client_cert": BOM + cert, "client_key": pasted_key}))
    node = pair.node("primary")
    assert node.client_cert == cert.strip() and node.get_client_key() == key.strip()


def _weak_rsa_cert_and_key() -> tuple[str, str]:
    """A client certificate with a 1024-bit RSA key: well-formed, and refused by OpenSSL's security level 2."""
    key = rsa.generate_private_key(65537, 1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "weak-client")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def test_a_client_certificate_the_monitors_tls_library_refuses_gets_a_field_message(admin_client):
    cert, key = _weak_rsa_cert_and_key()
    response = admin_client.post(NEW, pair_data(primary={"client_cert": cert, "client_key": key}))
    assert response.status_code == 200
    assert any("The monitor's TLS library cannot use this" in e and "KEY_TOO_SMALL" in e
               for e in errors(response, "primary", "client_cert"))
    assert not Pair.objects.exists()


# ---- a stored secret goes only where it was stored for -------------------------------------------------------


@pytest.fixture
def listener():
    """A TCP server that would receive the monitor's login: an attacker's, asking for mysql_clear_password."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    sock.setblocking(False)
    yield sock
    sock.close()


def _nobody_connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.mark.parametrize("change", [
    {"host": "127.0.0.1"}, {"tls_mode": "off"}, {"tls_mode": "verify-ca", "ca_cert": cert_and_key(ca=True)[0]},
])
def test_test_connection_and_save_ask_for_the_password_again_after_an_endpoint_change(admin_client, listener,
                                                                                      change):
    pair = saved(admin_client, pair_data(primary={"tls_mode": "required"}))
    port = str(listener.getsockname()[1])
    moved = pair_data(primary={"monitor_password": "", "port": port, **change}, secondary={"monitor_password": ""},
                      pair_id=str(pair.pk))
    response = admin_client.post("/pairs/test-connection/", moved)
    assert response.status_code == 200
    assert any("type the monitor password again" in e for e in errors(response, "primary", "monitor_password"))
    assert _nobody_connected(listener)
    response = admin_client.post(f"/pairs/{pair.pk}/edit/", moved)
    assert any("type the monitor password again" in e for e in errors(response, "primary", "monitor_password"))
    assert pair.node("primary").port == 3306


def test_an_unchanged_endpoint_keeps_the_stored_password(admin_client):
    pair = saved(admin_client, pair_data())
    again = pair_data(primary={"monitor_password": ""}, secondary={"monitor_password": ""}, poll_interval="3")
    assert admin_client.post(f"/pairs/{pair.pk}/edit/", again).status_code == 302
    assert Node.objects.get(pair=pair, role="primary").get_password() == "secret-primary"


# ---- names and ids ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alpha\r\nFailed: beta", "bell\x07", "evil\u202egpj.exe", "tab\there", "a\u2028b",
                                  "iso\u2066late"])
def test_pair_names_with_line_breaks_controls_or_direction_overrides_are_refused(admin_client, name):
    response = admin_client.post(NEW, pair_data(name=name))
    assert response.status_code == 200
    assert any("cannot contain line breaks" in e for e in errors(response, None, "name"))


def test_pair_id_that_is_not_an_ascii_number_is_a_400(admin_client):
    assert admin_client.post("/pairs/test-connection/", pair_data(pair_id="²")).status_code == 400


# ---- the setup assistant -----------------------------------------------------------------------------------------


OPTIONS = {"flavour": "mariadb", "tls_dir": "/etc/mysql/tls", "primary_server_id": "1", "secondary_server_id": "2",
           "monitor_from": "%", "vault_schema": "vault", "emergency_from": "%"}


def test_the_assistant_takes_every_monitor_user_the_pair_form_takes(admin_client):
    pair = saved(admin_client, pair_data(primary={"monitor_user": "mon-user"}, secondary={"monitor_user": "mon-user"}))
    response = admin_client.post(f"/pairs/{pair.pk}/setup/", OPTIONS)
    assert response.status_code == 200
    assert "CREATE USER IF NOT EXISTS &#x27;mon-user&#x27;@&#x27;%&#x27;" in response.content.decode()


def test_the_monitor_user_refuses_what_the_assistant_could_not_write(admin_client):
    response = admin_client.post(NEW, pair_data(primary={"monitor_user": "mon\nuser"}))
    assert errors(response, "primary", "monitor_user")


@override_settings(HEARTBEAT_SCHEMA="hb_panel2")
def test_the_assistant_uses_the_configured_heartbeat_schema(admin_client):
    pair = saved(admin_client, pair_data())
    page = admin_client.post(f"/pairs/{pair.pk}/setup/", OPTIONS).content.decode()
    assert "CREATE DATABASE IF NOT EXISTS `hb_panel2`" in page and "`hapanel_monitor`" not in page


def test_generating_the_setup_leaves_the_stored_password_alone(admin_client):
    pair = saved(admin_client, pair_data())
    form = admin_client.get(f"/pairs/{pair.pk}/setup/").context["form"]
    assert "store_monitor_password" not in form.fields  # storing is Verify's step, once the password works
    response = admin_client.post(f"/pairs/{pair.pk}/setup/", {**OPTIONS, "store_monitor_password": "on"})
    assert response.status_code == 200
    assert Node.objects.get(pair=pair, role="primary").get_password() == "secret-primary"


def test_the_assistants_account_sql_creates_exactly_the_user_named_in_the_form(healthy):
    from pairs.setup_sql import MARIADB, Passwords, Server, SetupInput, accounts

    user = "mon-user.o'brien\\x"
    setup = SetupInput(flavour=MARIADB, topology="one-way", primary=Server("primary", "db1", 3306),
                       secondary=Server("secondary", "db2", 3306, server_id=2), monitor_user=user,
                       monitor_from="127.0.0.9", heartbeat_schema="hb_quoting")
    statements = [s for s in accounts(setup, setup.primary, Passwords.generate()) if user[:8] in s]
    try:
        healthy.sql("primary", "SET sql_log_bin = 0", *statements)
        found = healthy.sql("primary", "SELECT User FROM mysql.user WHERE Host = '127.0.0.9'")
        assert [row["User"] for row in found] == [user]
    finally:
        healthy.sql("primary", "SET sql_log_bin = 0", "DROP USER IF EXISTS 'mon-user.o''brien\\\\x'@'127.0.0.9'")


def test_test_connection_is_no_port_scanner(admin_client, flush_redis, settings):
    """Any host and port can be typed into the form: an admin gets a few tests a minute, then a 429."""
    settings.CHECKS_PER_MINUTE = 2
    answers = [admin_client.post("/pairs/test-connection/", {"name": "p"}).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def test_a_replica_that_names_its_source_by_address_is_matched_to_the_node_entered_by_name():
    """The node entered as `localhost` is the source a replica knows as 127.0.0.1: no "Known as" needed."""
    from pairs.checks import Direction, NodeCheck, endpoints, names_peer, problems

    peers = endpoints("localhost", 3306, "")
    assert "127.0.0.1:3306" in peers and names_peer("127.0.0.1", 3306, peers)
    assert not names_peer("127.0.0.1", 3307, peers)
    check = NodeCheck(role="secondary", address="db2:3306", replication=[
        Direction(source="10.9.9.9:3306", io="Yes", sql="Yes", from_peer=False)])
    [(step, text)] = problems(check, replicates=True)
    assert step == "replication" and "replicates from 10.9.9.9:3306" in text and "Known as" in text
