"""From a stored node to what the probe connects to: addresses, credentials, TLS, timeouts, heartbeat key."""

from __future__ import annotations

from django.conf import settings

from monitor.models import Node, Pair
from monitor.probe.target import NodeTarget


def probe_timeouts(interval: float) -> tuple[float, float]:
    """(read, connect) timeouts: a hung node must cost little of the interval, a WAN round trip must fit."""
    return max(0.2, min(1.0, interval * 0.3)), max(0.3, min(2.0, interval * 0.5))


def target_for(node: Node, pair: Pair) -> NodeTarget:
    is_source = node.role == Node.PRIMARY or pair.topology == Pair.BIDIRECTIONAL
    read_timeout, connect_timeout = probe_timeouts(pair.poll_interval)
    return NodeTarget(
        role=node.role, host=node.host, port=node.port, user=node.monitor_user, password=node.get_password(),
        tls_mode=node.tls_mode, ca_pem=node.ca_cert, client_cert_pem=node.client_cert,
        client_key_pem=node.get_client_key() if node.client_key_enc else "",
        timeout=read_timeout, connect_timeout=connect_timeout,
        heartbeat_schema=settings.HEARTBEAT_SCHEMA,
        write_heartbeat=is_source, heartbeat_key=f"{settings.HAPANEL_INSTANCE}:{pair.pk}:{node.role}",
    )
