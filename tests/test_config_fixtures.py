"""Shared helpers of the tests of pairs: personas, form data, certificates. No tests here."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import User
from django.test import Client

from hapanel.roles import ADMIN, VIEWER, add_to_role


def make_user(name: str, role: str | None) -> User:
    user = User.objects.create_user(name, password="pw-" + name)
    if role:
        add_to_role(user, role)
    return user


@pytest.fixture
def admin_user(db) -> User:
    return make_user("alice", ADMIN)


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def viewer_client(db) -> Client:
    client = Client()
    client.force_login(make_user("victor", VIEWER))
    return client


def node_data(role: str, host: str, port: int = 3306, **extra: str) -> dict:
    data = {"host": host, "port": str(port), "known_as": "", "monitor_user": "hapanel_monitor",
            "monitor_password": "secret-" + role, "tls_mode": "required", "ca_cert": "", "client_cert": "",
            "client_key": ""}
    data.update(extra)
    return {f"{role}-{k}": v for k, v in data.items()}


def pair_data(name: str = "alpha", primary: dict | None = None, secondary: dict | None = None, **extra) -> dict:
    data = {"name": name, "topology": "bidirectional", "poll_interval": "1", "debounce": "1", "lag_warning": "5"}
    data.update(node_data("primary", **{"host": "db1.example.com", **(primary or {})}))
    data.update(node_data("secondary", **{"host": "db2.example.com", **(secondary or {})}))
    data.update({k: str(v) for k, v in extra.items()})
    return data


def _pem_key(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def cert_and_key(cn: str = "hapanel-test", days: float = 365, ca: bool = False) -> tuple[str, str]:
    """A self-signed certificate valid for `days` from now (negative: already expired) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=400)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode(), _pem_key(key)
