"""Registers a sandbox pair in the panel, so the demo and the tests watch something real."""

from __future__ import annotations

from django.db import transaction

from devtools.sandbox import SandboxPair
from devtools.sandbox.pair import MONITOR_USER
from monitor.models import Node, Pair


@transaction.atomic
def register(sandbox: SandboxPair, name: str = "sandbox", **pair_fields: object) -> Pair:
    pair, _ = Pair.objects.update_or_create(
        name=name, defaults={"topology": Pair.BIDIRECTIONAL, **pair_fields}
    )
    ca = sandbox.ca_file.read_text()
    for spec in sandbox.nodes():
        node, _ = Node.objects.get_or_create(pair=pair, role=spec.role, defaults={"host": spec.monitor_ip})
        node.host, node.port = spec.monitor_ip, spec.port
        node.known_as = spec.repl_ip
        node.monitor_user = MONITOR_USER
        node.set_password(sandbox.monitor_password)
        node.tls_mode = Node.TLS_VERIFY_IDENTITY
        node.ca_cert = ca
        node.save()
    return pair
