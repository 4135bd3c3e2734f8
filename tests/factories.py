"""Builders of test data, in one place: users, pairs as recorded, pair form data, certificates, transitions.

Plain functions (the personas as fixtures are in tests/conftest.py, built with `make_user`):

- `make_user(name, role)`: a login with a role of hapanel.roles (or none), password "pw-<name>".
- `readings(kind)`, `recorded(name, kind)`, `save(pair)`, `make_pairs(n)`: pairs as the monitor would have
  recorded them, written straight to the app database. The health JSON comes from the real `evaluate` over
  plausible readings, so the pages see what they would see in production, without a MariaDB behind each pair.
- `flip(pair)`: a Transition row, as the monitor records a flip of the HA status.
- `pair_data(...)`, `node_data(...)`: the pair form's POST data; `cert_and_key()`: a self-signed certificate.
- `node_target(sandbox, role)`: what the probe needs to reach one node of the sandbox pair.
- `ADMIN_URLS`: every URL of pairs that only an admin may use.

bench/pages.py also uses `make_pairs`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth.models import User
from django.utils import timezone

from hapanel.roles import add_to_role
from monitor.evaluate import evaluate
from monitor.models import Node, Pair, Transition
from monitor.probe.pair import reading_dict
from monitor.probe.target import NodeTarget
from monitor.readings import Heartbeat, NodeReading, PairReadings, Reach, ReplicationChannel

# ---- users ------------------------------------------------------------------------------------------------------


def make_user(name: str, role: str | None, password: str | None = None) -> User:
    """A login with `role` ("admin", "viewer": hapanel.roles) or none; its password is "pw-<name>" unless given."""
    user = User.objects.create_user(name, password=password or "pw-" + name)
    if role:
        add_to_role(user, role)
    return user


# ---- pairs as recorded ------------------------------------------------------------------------------------------


def _node(role: str, port: int, peer_port: int) -> NodeReading:
    chan = ReplicationChannel(source_host="10.0.0.1", source_port=peer_port, io_running="Yes", sql_running="Yes",
                   io_state="Waiting for master to send event", sql_state="Slave has read all relay log",
                   seconds_behind=0, gtid_io_pos="1-1-30,2-2-45", ssl_verify=True, ssl_allowed=True,
                   connect_retry=1, heartbeat_period=1.0)
    return NodeReading(role=role, address=f"10.0.0.1:{port}", version="10.11.19-MariaDB-log", flavour="mariadb",
                       server_id=1 if role == "primary" else 2, read_only=False, slave_net_timeout=60,
                       gtid_position="1-1-30,2-2-45", channels=(chan,), heartbeat_written=True,
                       peer_heartbeat=Heartbeat(age=0.02, caught_up=True), tls_cipher="TLS_AES_256_GCM_SHA384",
                       latency_ms=1.2)


def readings(kind: str = "alive") -> PairReadings:
    """`alive`, `primary-down` (HA Failed) or `apply-error` (replication Failed)."""
    primary, secondary = _node("primary", 3306, 3306), _node("secondary", 3306, 3306)
    if kind == "primary-down":
        primary = NodeReading(role="primary", address="10.0.0.1:3306", reach=Reach.REFUSED, errno=2003,
                              error="Can't connect to MySQL server (111 Connection refused)")
        chan = replace(secondary.channels[0], io_running="Connecting", last_io_errno=2003,
                       last_io_error="error reconnecting to master: Connection refused")
        secondary = replace(secondary, channels=(chan,), peer_heartbeat=Heartbeat(age=12.0))
    elif kind == "apply-error":
        chan = replace(secondary.channels[0], sql_running="No", last_sql_errno=1062,
                       last_sql_error="Duplicate entry '7' for key 'PRIMARY' on query INSERT INTO vault ...")
        secondary = replace(secondary, channels=(chan,))
    return PairReadings(name="p", topology="bidirectional", primary=primary, secondary=secondary)


def recorded(name: str, kind: str = "alive", checked: dt.datetime | None = None, since_ago: float = 3600,
             **fields: object) -> Pair:
    """An unsaved Pair holding what `record` would have written after a poll of `kind` readings."""
    now = timezone.now()
    r = readings(kind)
    health = evaluate(r)
    return Pair(
        name=name, ha_status=str(health.ha.status), ha_cause=health.ha.cause,
        ha_since=now - dt.timedelta(seconds=since_ago), repl_status=str(health.replication.status),
        repl_cause=health.replication.cause, repl_since=now - dt.timedelta(seconds=since_ago),
        health=health.to_dict(), **Pair.health_columns(health.to_dict()),
        readings={"primary": reading_dict(r.primary), "secondary": reading_dict(r.secondary)},
        lag=health.lag, last_checked=checked or now, **fields,
    )


def save(pair: Pair) -> Pair:
    """Saves a `recorded` pair with its two nodes."""
    pair.save()
    for role in ("primary", "secondary"):
        Node.objects.create(pair=pair, role=role, host=f"{pair.name}-{role}.example", port=3306)
    return pair


def make_pairs(n: int, failed_every: int = 50, prefix: str = "pair", **fields: object) -> list[Pair]:
    """n pairs with nodes, every `failed_every`-th one failed (alternating HA and replication failures)."""
    pairs = []
    for i in range(n):
        kind = "alive" if i % failed_every else ("primary-down" if i // failed_every % 2 == 0 else "apply-error")
        pairs.append(recorded(f"{prefix}-{i:04d}", kind, **fields))
    pairs = Pair.objects.bulk_create(pairs)
    Node.objects.bulk_create([Node(pair=p, role=role, host=f"db{p.pk}-{role}.example", port=3306)
                              for p in pairs for role in ("primary", "secondary")])
    return pairs



def flip(pair: Pair, old: str = "Alive", new: str = "Failed", paused: bool = False) -> Transition:
    """An HA flip of `pair`, recorded now, with a cause, a summary and evidence as the monitor writes them."""
    return Transition.objects.create(
        pair=pair, kind=Transition.HA, old_status=old, new_status=new, cause="link-cut" if new == "Failed" else "ok",
        summary="the secondary's IO thread lost the primary", evidence={"io_running": "Connecting", "errno": 2003},
        detected_at=timezone.now(), paused=paused)


# ---- the pair form ----------------------------------------------------------------------------------------------

# Every URL of pairs that only an admin may use (a viewer gets 403, an anonymous user the login page).
ADMIN_URLS = [
    ("get", "/pairs/new/"), ("post", "/pairs/new/"), ("post", "/pairs/test-connection/"),
    ("get", "/pairs/{id}/edit/"), ("post", "/pairs/{id}/edit/"), ("get", "/pairs/{id}/delete/"),
    ("post", "/pairs/{id}/delete/"), ("post", "/pairs/{id}/pause/"), ("post", "/pairs/{id}/resume/"),
    ("get", "/pairs/{id}/setup/"), ("post", "/pairs/{id}/setup/"), ("get", "/pairs/{id}/setup.zip"),
    ("get", "/pairs/{id}/verify/"), ("post", "/pairs/{id}/verify/"), ("post", "/pairs/{id}/store-password/"),
]


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


# ---- the sandbox pair -------------------------------------------------------------------------------------------


def node_target(sandbox, role: str = "secondary", **over) -> NodeTarget:
    """How the probe reaches one node of the sandbox pair (a devtools.sandbox.SandboxPair), as its monitor."""
    spec = sandbox.node(role)
    fields = dict(role=role, host="127.0.0.1", port=spec.port, user="hapanel_monitor",
                  password=sandbox.monitor_password, tls_mode="verify-identity", ca_pem=sandbox.ca_file.read_text())
    fields.update(over)
    return NodeTarget(**fields)
