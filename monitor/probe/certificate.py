"""A node's TLS certificate as the panel's handshake with it is shown: subject, issuer, not-after. No Django.

From the checkup's own TLS connection when it logs in. When that login fails on the certificate itself (an expired
one fails verification), or the panel connects without TLS, from a handshake that stops right after TLS is up:
the greeting, the client's request for TLS, the handshake, then close. It sends no credentials, so it needs no
verification to be safe; the server may log it as an aborted, unauthenticated connection. (A server's
Ssl_server_not_after does not help there: MariaDB reports it only on a connection that uses TLS.)
"""

from __future__ import annotations

import socket
import ssl
import struct

from cryptography import x509

from monitor.probe.target import NodeTarget
from monitor.risks.checkup import CertificateSeen

_CLIENT_PROTOCOL_41, _CLIENT_SSL, _CLIENT_SECURE_CONNECTION = 0x200, 0x800, 0x8000
_MAX_GREETING = 1 << 16


def from_der(der: bytes, where: str) -> CertificateSeen | None:
    """None when the DER cannot be parsed: the rules then read the server's Ssl_server_not_after instead."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    return CertificateSeen(where=where, not_after=cert.not_valid_after_utc.timestamp(),
                           subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string())


def of_connection(conn: object, address: str) -> CertificateSeen | None:
    """The certificate of a logged-in PyMySQL connection; None when it does not use TLS."""
    sock = getattr(conn, "_sock", None)  # PyMySQL keeps the wrapped socket there and nowhere public
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    return from_der(der, f"the panel's TLS handshake with {address}") if der else None


def _read_packet(sock: socket.socket) -> bytes:
    head = _exactly(sock, 4)
    length = int.from_bytes(head[:3], "little")
    if length > _MAX_GREETING:
        raise ValueError(f"a greeting of {length} bytes is no MySQL greeting")
    return _exactly(sock, length)


def _exactly(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("the server closed the connection during the greeting")
        out += chunk
    return out


def _capabilities(greeting: bytes) -> int:
    """The lower capability flags of a protocol 10 greeting (after the version, thread id and salt)."""
    if not greeting or greeting[0] != 10:
        raise ValueError("not a protocol 10 greeting (the server refused the connection, or is no MySQL)")
    end = greeting.index(b"\0", 1)
    return struct.unpack_from("<H", greeting, end + 1 + 4 + 8 + 1)[0]


def fetch(target: NodeTarget, timeout: float, why: str) -> CertificateSeen | None:
    """The certificate the node presents, unverified, without logging in; None when it cannot be had. `why` says
    why the panel's own connection did not show it."""
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout) as raw:
            if not _capabilities(_read_packet(raw)) & _CLIENT_SSL:
                return None  # the server has no TLS at all
            flags = _CLIENT_PROTOCOL_41 | _CLIENT_SSL | _CLIENT_SECURE_CONNECTION
            body = struct.pack("<IIB23s", flags, 1 << 24, 45, b"")
            raw.sendall(len(body).to_bytes(3, "little") + b"\x01" + body)
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # only to read what is shown: nothing secret crosses this connection
            with ctx.wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ValueError, struct.error):
        return None
    if not der:
        return None
    return from_der(der, f"a TLS handshake with {target.address} that only reads it ({why})")

