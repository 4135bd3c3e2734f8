"""Host names, ports and `slave_hosts` lists as the guide wants them. No Django."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
# Characters that reorder the text shown around them (the "Trojan source" overrides, isolates and marks).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
MONITOR_USER_MAX = 80  # Node.monitor_user; MariaDB takes 80 characters, MySQL 32


def _hidden_character(value: str) -> str:
    """The first character of `value` that is a control character, a line break or a bidirectional
    control, as U+XXXX; '' when there is none. Such characters forge lines in logs and alerts, or make a
    name read differently from what it is."""
    for ch in value:
        if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return f"U+{ord(ch):04X}"
    return ""


def name_problem(value: str) -> str:
    """Why `value` cannot name a pair; '' when it can."""
    hidden = _hidden_character(value)
    if hidden:
        return (f"A pair name cannot contain line breaks, control characters or text direction controls "
                f"(found {hidden}).")
    return ""


def monitor_user_problem(value: str) -> str:
    """Why `value` cannot be the monitor's MySQL account name; '' when it can. The setup assistant quotes
    every account name, so anything else the servers accept is fine here."""
    if not value:
        return "Enter the monitor account's user name."
    if len(value) > MONITOR_USER_MAX:
        return f"A MySQL user name is at most {MONITOR_USER_MAX} characters long."
    hidden = _hidden_character(value)
    if hidden:
        return f"A user name cannot contain control characters or text direction controls (found {hidden})."
    return ""


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def host_problem(value: str) -> str:
    """Why `value` is neither an RFC 1123 host name nor an IPv4/IPv6 address; '' when it is fine."""
    if not value:
        return "Enter a host name or an IP address."
    if any(ch.isspace() for ch in value):
        return "A host name cannot contain spaces."
    if is_ip(value):
        return ""
    name = value[:-1] if value.endswith(".") else value
    if len(name) > 253:
        return "A host name is at most 253 characters long."
    labels = name.split(".")
    bad = next((label for label in labels if not _LABEL.match(label)), None)
    if bad is not None:
        shown = bad if len(bad) <= 40 else bad[:40] + "…"
        return (f"“{shown}” is not a valid host name part: letters, digits and hyphens only, "
                "1 to 63 characters, not starting or ending with a hyphen.") if bad else \
            "A host name cannot have empty parts (two dots in a row, or a leading dot)."
    if labels[-1].isdigit():
        return "This looks like an IP address but is not a valid one."
    return ""


def canonical_host(value: str) -> str:
    """For comparing endpoints: lower case, one spelling per IP address."""
    value = value.strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def normalise_known_as(value: str) -> tuple[str, list[str]]:
    """('db1,db2', problems): entries trimmed, empty ones dropped; problems name each bad entry."""
    entries = [part.strip() for part in value.split(",")]
    entries = [e for e in entries if e]
    problems = []
    for entry in entries:
        problem = host_problem(entry)
        if problem:
            problems.append(f"“{entry[:60]}”: {problem}")
    seen: dict[str, None] = dict.fromkeys(entries)
    return ",".join(seen), problems
