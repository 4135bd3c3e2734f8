"""Where and how the monitor connects to one node: address, credentials, TLS, timeouts, heartbeat row.

Plain data and the TLS context, without PyMySQL: the pages build targets too (test connection, the
emergency reader) and a web process imports no database driver until it connects.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass

TLS_MODES = ("verify-identity", "verify-ca", "required", "off")


@dataclass(frozen=True)
class NodeTarget:
    role: str
    host: str
    port: int
    user: str
    password: str = ""
    tls_mode: str = "verify-identity"
    ca_pem: str = ""
    client_cert_pem: str = ""
    client_key_pem: str = ""
    timeout: float = 0.3  # read and write (one round trip each), well under the poll interval
    connect_timeout: float = 0.5  # TCP connect; the greeting and TLS handshake reads use `timeout`
    heartbeat_schema: str = "hapanel_monitor"
    write_heartbeat: bool = True  # the node is a source in the pair's topology
    heartbeat_key: str = ""  # the heartbeat row's key; one row per monitor instance, pair and node

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        """The heartbeat row's key: this node as this monitor knows it."""
        return self.heartbeat_key or self.address


def tls_context(target: NodeTarget) -> ssl.SSLContext | None:
    """Built once per probe: PyMySQL would build (and not verify) a new one on every connect."""
    if target.tls_mode == "off":
        return None
    if not (target.ca_pem.isascii() and target.client_cert_pem.isascii() and target.client_key_pem.isascii()):
        # ssl raises TypeError for non-ASCII cadata (a byte-order mark is enough): say which setting is at fault.
        raise ValueError("a stored certificate or key holds non-ASCII characters: save the node's PEM texts again")
    ctx = ssl.create_default_context(cadata=target.ca_pem or None) if target.ca_pem else (
        ssl.create_default_context())
    if target.tls_mode == "required":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif target.tls_mode == "verify-ca":
        ctx.check_hostname = False
    if target.client_cert_pem:
        # load_cert_chain wants files: write them once, readable by us only, and remove them.
        with tempfile.TemporaryDirectory() as folder:
            cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
            with open(os.open(cert, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(target.client_cert_pem)
            with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(target.client_key_pem or target.client_cert_pem)
            ctx.load_cert_chain(cert, key)
    return ctx
