"""The address of the client behind the panel's reverse proxies, for lockouts and audit lines.

X-Forwarded-For is only believed as far as it was written by a proxy listed in HAPANEL_TRUSTED_PROXIES: it
is read from the right (each proxy appends the address it saw), and the first address that is not one of
the trusted proxies is the client. Anything left of that was written by the client and may be forged.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def trusted(address: str, proxies: tuple[str, ...] | None = None) -> bool:
    parsed = _parse(address)
    networks = _networks(tuple(settings.TRUSTED_PROXIES if proxies is None else proxies))
    return parsed is not None and any(parsed in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or what trusted proxies say in X-Forwarded-For."""
    address = request.META.get("REMOTE_ADDR", "")
    if not trusted(address):
        return address
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if _parse(hop) is None:
            return address  # a hop that is no address: the last proxy's own word is all that is certain
        address = str(_parse(hop))
        if not trusted(address):
            return address
    return address
