"""One transport per channel kind: `send(message)` returns or raises `TransportError`."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alerts.message import Message
    from alerts.models import Channel


class TransportError(Exception):
    """A failed delivery. `permanent`: retrying cannot help (a bad address, HTTP 4xx)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Transport:
    def __init__(self, config: dict, timeout: float) -> None:
        self.config = config
        self.timeout = timeout

    def send(self, message: Message) -> None:
        raise NotImplementedError


def for_channel(channel: Channel) -> Transport:
    from django.conf import settings

    module = import_module(f"{__name__}.{channel.kind}")
    return module.TRANSPORT(channel.config, settings.ALERTS_TIMEOUT)
