"""One transport per channel kind: `send(message)` returns or raises `TransportError`."""

from __future__ import annotations

import http.client
import socket
import ssl
from importlib import import_module
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from alerts.message import Message
    from alerts.models import Channel


class TransportError(Exception):
    """A failed delivery. `permanent`: retrying cannot help (a bad address, HTTP 4xx)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


def failure_class(exc: BaseException) -> str:
    """What kind of network failure this was, in the panel's words. Never the exception's text: that may quote
    the target's own answer or the full URL, neither of which belongs in a log or on a page."""
    if isinstance(exc, socket.gaierror | UnicodeError):  # UnicodeError: a name the IDNA codec refuses (a..b)
        return "DNS: the host name does not resolve"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS: the certificate is not trusted"
    if isinstance(exc, ssl.SSLError):
        return "TLS: the handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionError | http.client.HTTPException):
        return "the connection was closed or the answer was not HTTP"
    if isinstance(exc, OSError):
        return f"network error (errno {exc.errno})" if exc.errno else "network error"
    return f"failed ({type(exc).__name__})"


def mask_url(url: str) -> str:
    """A URL as anyone may see it: scheme, host and port; its path and query (often a token) hidden."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "…"
    if not parts.scheme or not host:
        return "…"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}/…"


class Transport:
    def __init__(self, config: dict, timeout: float) -> None:
        self.config = config
        self.timeout = timeout

    def send(self, message: Message) -> None:
        raise NotImplementedError


def for_channel(channel: Channel) -> Transport:
    from django.conf import settings

    module = import_module(f"{__name__}.{channel.kind}")
    return module.TRANSPORT(channel.transport_config(), settings.ALERTS_TIMEOUT)
