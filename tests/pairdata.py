"""Pairs as the monitor would have recorded them, written straight to the app database (tests, bench).

The health JSON comes from the real `evaluate` over plausible readings, so the pages see what they would
see in production, without a MariaDB behind each pair.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.utils import timezone

from monitor.evaluate import evaluate
from monitor.models import Node, Pair
from monitor.probe.pair import reading_dict
from monitor.readings import Channel, Heartbeat, NodeReading, PairReadings, Reach


def _node(role: str, port: int, peer_port: int) -> NodeReading:
    chan = Channel(source_host="10.0.0.1", source_port=peer_port, io_running="Yes", sql_running="Yes",
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


def user(role: str | None, username: str | None = None, password: str = "correct-horse-battery"):
    """A login with `role` ("viewer", "admin") or none (None): the personas of the view tests."""
    from django.contrib.auth.models import User

    from hapanel.roles import add_to_role

    u = User.objects.create_user(username or f"{role or 'norole'}-user", password=password)
    if role:
        add_to_role(u, role)
    return u
