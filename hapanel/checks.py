"""System checks: settings that would only fail when they are needed (a poll, an emergency) fail at start."""

from __future__ import annotations

import ipaddress
import re

from django.conf import settings
from django.core.checks import Error, register

# The rule of monitor/server_sql.is_identifier: the project layer imports none of the apps.
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


@register
def required_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    if not settings.DEVELOPMENT and not settings.VAULT_KEY:
        errors.append(Error(
            "HAPANEL_VAULT_KEY is not set: emergency access could not decrypt a single secret.",
            hint="Generate one with `python3 -c 'import os,base64; print(\"k1:\" + "
                 "base64.b64encode(os.urandom(32)).decode())'` (docs/configuration.md).",
            id="hapanel.E001"))
    if not _IDENTIFIER.match(settings.HEARTBEAT_SCHEMA):
        errors.append(Error(
            f"HAPANEL_HEARTBEAT_SCHEMA {settings.HEARTBEAT_SCHEMA!r} is not a plain schema name.",
            hint="Letters, digits, _ and $ only, at most 64 characters.", id="hapanel.E002"))
    for entry in settings.TRUSTED_PROXIES:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            errors.append(Error(f"HAPANEL_TRUSTED_PROXIES: {entry!r} is not an address or a network.",
                                hint="Comma-separated addresses or networks, e.g. 10.0.0.2,192.168.1.0/24.",
                                id="hapanel.E003"))
    return errors
