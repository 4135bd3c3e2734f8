"""The pair form's validation rules, each with the message an admin sees, through the real views."""

from __future__ import annotations

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.models import Node, Pair
from pairs.models import PairChange
from tests.factories import cert_and_key, pair_data

NEW = "/pairs/new/"


def post_new(client, data: dict):
    return client.post(NEW, data)


def shows(response, message: str) -> bool:
    return escape(message) in response.content.decode()


def field_errors(response, role: str | None, field: str) -> list[str]:
    editor = response.context["editor"]
    form = editor.form if role is None else editor.nodes[role]
    return form.errors.get(field, [])


@pytest.mark.parametrize("host, message", [
    ("db_1.example.com", "“db_1” is not a valid host name part"),
    ("-db.example.com", "“-db” is not a valid host name part"),
    ("db..example.com", "A host name cannot have empty parts"),
    ("db one", "A host name cannot contain spaces."),
    ("999.1.1.1", "This looks like an IP address but is not a valid one."),
    ("a" * 64 + ".example.com", "is not a valid host name part"),
    ("", "This field is required."),
])
def test_bad_hosts_are_refused_on_their_field(admin_client, host, message):
    response = post_new(admin_client, pair_data(primary={"host": host}))
    assert response.status_code == 200
    assert any(message in e for e in field_errors(response, "primary", "host"))
    assert shows(response, message)
    assert not Pair.objects.exists()


@pytest.mark.parametrize("host", ["db1", "db1.example.com.", "10.0.0.1", "::1", "fe80::1", "xn--bcher-kva.example"])
def test_good_hosts_are_accepted(admin_client, host):
    response = post_new(admin_client, pair_data(primary={"host": host}))
    assert response.status_code == 302, response.context and response.context["editor"].primary.errors
    assert Pair.objects.get(name="alpha").node("primary").host == host


@pytest.mark.parametrize("port, message", [
    ("0", "Ensure this value is greater than or equal to 1."),
    ("65536", "Ensure this value is less than or equal to 65535."),
    ("http", "Enter a whole number."),
])
def test_ports_outside_1_65535_are_refused(admin_client, port, message):
    response = post_new(admin_client, pair_data(secondary={"port": port}))
    assert field_errors(response, "secondary", "port") == [message]
    assert shows(response, message)


@pytest.mark.parametrize("secondary", [{"host": "DB1.example.com"}, {"host": "db1.example.com."}])
def test_secondary_cannot_be_the_primary(admin_client, secondary):
    response = post_new(admin_client, pair_data(secondary=secondary))
    message = "The secondary cannot be the primary's own address (db1.example.com:3306): enter the other node."
    assert field_errors(response, "secondary", "host") == [message]
    assert shows(response, message)


def test_same_host_other_port_is_fine(admin_client):
    response = post_new(admin_client, pair_data(secondary={"host": "db1.example.com", "port": "3307"}))
    assert response.status_code == 302


def test_ipv6_spellings_of_one_address_are_the_same_endpoint(admin_client):
    response = post_new(admin_client, pair_data(primary={"host": "::1"}, secondary={"host": "0:0:0:0:0:0:0:1"}))
    assert "The secondary cannot be the primary's own address" in field_errors(response, "secondary", "host")[0]


def test_pair_names_are_unique_whatever_the_case(admin_client):
    assert post_new(admin_client, pair_data("Vault")).status_code == 302
    response = post_new(admin_client, pair_data("vault"))
    message = "A pair named “vault” already exists: choose another name."
    assert field_errors(response, None, "name") == [message]
    assert shows(response, message)


@pytest.mark.parametrize("field, value, message", [
    ("poll_interval", "0.4", "Ensure this value is greater than or equal to 0.5."),
    ("poll_interval", "301", "Ensure this value is less than or equal to 300."),
    ("debounce", "0", "Ensure this value is greater than or equal to 1."),
    ("debounce", "11", "Ensure this value is less than or equal to 10."),
    ("lag_warning", "0.05", "Ensure this value is greater than or equal to 0.1."),
    ("lag_warning", "3601", "Ensure this value is less than or equal to 3600."),
])
def test_intervals_within_bounds(admin_client, field, value, message):
    response = post_new(admin_client, pair_data(**{field: value}))
    assert field_errors(response, None, field) == [message]
    assert shows(response, message)


def test_known_as_spaces_are_removed_and_said(admin_client):
    response = admin_client.post(NEW, pair_data(primary={"known_as": " db1 , db1.example.com,  10.0.0.1 ,"}),
                                 follow=True)
    assert Pair.objects.get().node("primary").known_as == "db1,db1.example.com,10.0.0.1"
    said = [str(m) for m in response.context["messages"]]
    assert any("Spaces removed, as the guide requires" in m and "“db1,db1.example.com,10.0.0.1”" in m for m in said)


def test_known_as_entries_are_host_names(admin_client):
    response = post_new(admin_client, pair_data(secondary={"known_as": "db2,db 2,bad_name"}))
    errors = field_errors(response, "secondary", "known_as")
    assert errors == ["“db 2”: A host name cannot contain spaces.",
                      "“bad_name”: “bad_name” is not a valid host name part: letters, digits and hyphens only, "
                      "1 to 63 characters, not starting or ending with a hyphen."]


def test_monitor_password_is_required_on_create(admin_client):
    response = post_new(admin_client, pair_data(primary={"monitor_password": ""}))
    assert field_errors(response, "primary", "monitor_password") == ["Enter the monitor account's password."]


def test_password_is_write_only_and_blank_keeps_it(admin_client):
    post_new(admin_client, pair_data())
    pair = Pair.objects.get()
    page = admin_client.get(f"/pairs/{pair.pk}/edit/").content.decode()
    assert "secret-primary" not in page and "write-only: leave blank to keep the stored password" in page
    data = pair_data(primary={"monitor_password": ""}, secondary={"monitor_password": "new-one"})
    assert admin_client.post(f"/pairs/{pair.pk}/edit/", data).status_code == 302
    assert pair.node("primary").get_password() == "secret-primary"
    assert Pair.objects.get().node("secondary").get_password() == "new-one"


def test_tls_off_is_allowed_with_a_warning(admin_client):
    response = admin_client.post(NEW, pair_data(primary={"tls_mode": "off"}), follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("TLS is off: the monitor's password and every reading cross the network") for m in said)
    assert Pair.objects.get().node("primary").tls_mode == Node.TLS_OFF


@pytest.mark.parametrize("pem, message", [
    ("hello", "This is not PEM text: it should start with -----BEGIN CERTIFICATE-----."),
    ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "This certificate does not parse"),
    (cert_and_key()[1], "This is a private key, not a certificate."),
    (cert_and_key(days=-2)[0], "This certificate expired on"),
])
def test_ca_certificate_must_parse_and_be_valid(admin_client, pem, message):
    response = post_new(admin_client, pair_data(primary={"ca_cert": pem}))
    assert any(e.startswith(message) for e in field_errors(response, "primary", "ca_cert"))
    assert shows(response, message)


def test_certificate_expiry_is_shown_and_warned_within_30_days(admin_client):
    soon, _ = cert_and_key("soon-ca", days=10, ca=True)
    response = post_new(admin_client, pair_data(primary={"ca_cert": soon}, topology="one-way"))
    assert response.status_code == 302
    said = [str(m) for m in admin_client.get(response.url).context["messages"]]
    assert any("expires in 9 days" in m or "expires in 10 days" in m for m in said), said
    page = admin_client.get(f"/pairs/{Pair.objects.get().pk}/edit/").content.decode()
    assert "CN=soon-ca, valid until" in page


def test_ca_certificate_by_upload(admin_client):
    ca, _ = cert_and_key("uploaded-ca", ca=True)
    data = pair_data()
    data["secondary-ca_cert_file"] = SimpleUploadedFile("ca.pem", ca.encode(), "application/x-pem-file")
    assert admin_client.post(NEW, data).status_code == 302
    assert Pair.objects.get().node("secondary").ca_cert.strip() == ca.strip()


def test_client_certificate_needs_its_matching_key(admin_client):
    cert, key = cert_and_key("client")
    _, other_key = cert_and_key("other")
    response = post_new(admin_client, pair_data(primary={"client_cert": cert}))
    assert field_errors(response, "primary", "client_key") == ["A client certificate needs its private key."]
    response = post_new(admin_client, pair_data(primary={"client_key": key}))
    assert field_errors(response, "primary", "client_cert") == ["A client key needs its client certificate."]
    response = post_new(admin_client, pair_data(primary={"client_cert": cert, "client_key": other_key}))
    message = "This key does not belong to the client certificate (their public keys differ)."
    assert field_errors(response, "primary", "client_key") == [message]
    assert shows(response, message)
    response = post_new(admin_client, pair_data(primary={"client_cert": cert, "client_key": "junk"}))
    assert field_errors(response, "primary", "client_key")[0].startswith("This is not a PEM private key")


def test_client_key_is_stored_encrypted_and_never_shown(admin_client):
    cert, key = cert_and_key("client")
    assert post_new(admin_client, pair_data(primary={"client_cert": cert, "client_key": key})).status_code == 302
    node = Pair.objects.get().node("primary")
    assert node.get_client_key() == key.strip() and key.strip() not in node.client_key_enc
    page = admin_client.get(f"/pairs/{node.pair_id}/edit/").content.decode()
    assert "PRIVATE KEY" not in page and "A client key is stored." in page
    # Editing without re-entering the key keeps it, and it still matches the certificate.
    data = pair_data(primary={"client_cert": cert, "monitor_password": ""}, secondary={"monitor_password": ""})
    assert admin_client.post(f"/pairs/{node.pair_id}/edit/", data).status_code == 302


def test_changes_are_recorded_with_secrets_masked(admin_client, admin):
    post_new(admin_client, pair_data())
    pair = Pair.objects.get()
    data = pair_data(primary={"monitor_password": "rotated", "port": "3310"}, secondary={"monitor_password": ""})
    admin_client.post(f"/pairs/{pair.pk}/edit/", data)
    change = PairChange.objects.filter(pair=pair, action="edited").get()
    assert change.user == admin and change.username == "alice"
    assert change.changes == {"primary.port": {"old": 3306, "new": 3310},
                              "primary.monitor_password": {"old": "••••", "new": "••••"}}
    unchanged_secrets = {"primary": {"monitor_password": "", "port": "3310"}, "secondary": {"monitor_password": ""}}
    admin_client.post(f"/pairs/{pair.pk}/edit/", pair_data("beta", poll_interval="2.5", **unchanged_secrets))
    renamed = PairChange.objects.filter(pair=pair, action="edited").first()
    assert renamed.changes == {"name": {"old": "alpha", "new": "beta"}, "poll_interval": {"old": 1.0, "new": 2.5}}
    created = PairChange.objects.get(pair=pair, action="created")
    assert created.changes["secondary.monitor_password"] == {"old": "", "new": "••••"}
    assert "secret" not in str(created.changes) and "rotated" not in str(change.changes)


# ---- fuzz: whatever is posted, the answer is a page, never a server error ------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
_hostish = st.one_of(_text, st.from_regex(r"[a-z0-9.\-:_ ]{0,70}", fullmatch=True), st.ip_addresses().map(str))
_portish = st.one_of(st.integers(-10, 70000).map(str), _text)
_pem_junk = st.one_of(
    _text,
    st.binary(max_size=300).map(lambda b: "-----BEGIN CERTIFICATE-----\n" + b.hex() + "\n-----END CERTIFICATE-----"),
    st.binary(max_size=300).map(lambda b: "-----BEGIN PRIVATE KEY-----\n" + b.hex() + "\n-----END PRIVATE KEY-----"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=_hostish, port=_portish, known_as=_text, ca=_pem_junk, cert=_pem_junk, key=_pem_junk)
def test_fuzzed_form_input_never_raises(admin_client, host, port, known_as, ca, cert, key):
    data = pair_data(f"fuzz-{uuid.uuid4().hex[:8]}", primary={"host": host, "port": port, "known_as": known_as},
                     secondary={"ca_cert": ca, "client_cert": cert, "client_key": key})
    response = admin_client.post(NEW, data)
    assert response.status_code in (200, 302)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=2000), name=st.sampled_from(["ca_cert_file", "client_cert_file", "client_key_file"]))
def test_fuzzed_pem_uploads_never_raise(admin_client, blob, name):
    # Loopback ports where nothing listens: the test connection answers at once, nothing leaves the host.
    data = pair_data(f"fuzz-{uuid.uuid4().hex[:8]}", primary={"host": "127.0.0.1", "port": "1"},
                     secondary={"host": "127.0.0.1", "port": "2"})
    data[f"primary-{name}"] = SimpleUploadedFile("x.pem", blob)
    assert admin_client.post(NEW, data).status_code in (200, 302)
    assert admin_client.post("/pairs/test-connection/", data).status_code == 200
