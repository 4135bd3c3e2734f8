"""The change log of pairs: snapshot before and after, diff with secrets masked, one PairChange row."""

from __future__ import annotations

import hashlib

from monitor.models import Node, Pair
from pairs import pem
from pairs.models import PairChange

MASK = "••••"
PAIR_FIELDS = ["name", "topology", "poll_interval", "debounce", "lag_warning", "paused"]
NODE_FIELDS = ["host", "port", "known_as", "monitor_user", "tls_mode"]
SECRETS = {"monitor_password", "client_key"}


def _fingerprint(secret: str) -> str:
    # Compared between two snapshots in memory only; never stored (the diff stores MASK).
    return hashlib.sha256(secret.encode()).hexdigest() if secret else ""


def snapshot(pair: Pair | None) -> dict:
    """The pair's settings as flat {"primary.host": value}; secrets as fingerprints, PEM as a summary."""
    if pair is None or pair.pk is None:
        return {}
    # From the database: a validated ModelForm has already copied the new values onto `pair`.
    out: dict = Pair.all_objects.filter(pk=pair.pk).values(*PAIR_FIELDS).first() or {}
    for node in Node.objects.filter(pair=pair):
        for name in NODE_FIELDS:
            out[f"{node.role}.{name}"] = getattr(node, name)
        out[f"{node.role}.ca_cert"] = pem.summary(node.ca_cert)
        out[f"{node.role}.client_cert"] = pem.summary(node.client_cert)
        out[f"{node.role}.monitor_password"] = _fingerprint(node.get_password() if node.monitor_password_enc else "")
        out[f"{node.role}.client_key"] = _fingerprint(node.get_client_key() if node.client_key_enc else "")
    return out


def _shown(key: str, value):
    if key.rsplit(".", 1)[-1] in SECRETS:
        return MASK if value else ""
    return value


def _blank(value) -> bool:
    return value is None or value == ""


def diff(before: dict, after: dict) -> dict:
    keys = list(dict.fromkeys([*before, *after]))
    return {key: {"old": _shown(key, before.get(key)), "new": _shown(key, after.get(key))}
            for key in keys
            if before.get(key) != after.get(key) and not (_blank(before.get(key)) and _blank(after.get(key)))}


def log_change(pair: Pair, user, action: str, changes: dict | None = None, note: str = "") -> PairChange:
    return PairChange.objects.create(
        pair=pair if pair.pk else None, pair_name=pair.name, user=user if user and user.pk else None,
        username=getattr(user, "username", "") or "", action=action, changes=changes or {}, note=note[:300],
    )


def label(key: str) -> str:
    """'primary.monitor_password' → 'Primary monitor password'."""
    role, _, name = key.rpartition(".")
    text = name.replace("_", " ")
    return f"{role.capitalize()} {text}" if role else text.capitalize()


def changes_for_pair(pair: Pair, limit: int = 20) -> list[PairChange]:
    """The newest changes of a pair, each with `.rows` = [(label, old, new)] for the template."""
    changes = list(PairChange.objects.filter(pair=pair).select_related("user")[:limit])
    for change in changes:
        change.rows = [(label(k), v.get("old"), v.get("new")) for k, v in change.changes.items()]
    return changes
