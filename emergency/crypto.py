"""Vault secrets at rest: AES-256-GCM under a key id, so keys can be rotated.

A stored secret is `v1:<key id>:<base64(nonce || ciphertext+tag)>`. HAPANEL_VAULT_KEY lists
"id:base64key" entries; the first encrypts, every listed one decrypts (old keys stay for reading).
"""

from __future__ import annotations

import base64
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

AAD = b"hapanel-vault-secret"


@lru_cache(maxsize=4)
def _keys(spec: str, secret_key: str, development: bool) -> tuple[str, dict[str, AESGCM]]:
    if not spec:
        if not development:
            raise ImproperlyConfigured(
                "HAPANEL_VAULT_KEY is not set: generate one with "
                "`python -c 'import os,base64; print(\"k1:\" + base64.b64encode(os.urandom(32)).decode())'`"
            )
        spec = "dev:" + base64.b64encode(hashlib.sha256(b"vault:" + secret_key.encode()).digest()).decode()
    ring: dict[str, AESGCM] = {}
    for entry in spec.split(","):
        kid, _, b64 = entry.strip().partition(":")
        raw = base64.b64decode(b64)
        if not kid or len(raw) != 32:
            raise ImproperlyConfigured("HAPANEL_VAULT_KEY entries must be `key-id:base64 of 32 bytes`")
        ring[kid] = AESGCM(raw)
    return spec.split(",")[0].partition(":")[0].strip(), ring


def _ring() -> tuple[str, dict[str, AESGCM]]:
    return _keys(settings.VAULT_KEY, settings.SECRET_KEY, settings.DEVELOPMENT)


def encrypt(plain: str) -> str:
    kid, ring = _ring()
    nonce = os.urandom(12)
    return f"v1:{kid}:" + base64.b64encode(nonce + ring[kid].encrypt(nonce, plain.encode(), AAD)).decode()


def decrypt(stored: str) -> str:
    version, kid, b64 = (stored.split(":", 2) + ["", ""])[:3]
    _, ring = _ring()
    if version != "v1" or kid not in ring:
        raise ValueError(f"secret encrypted under key {kid!r}, which HAPANEL_VAULT_KEY does not list")
    raw = base64.b64decode(b64)
    try:
        return ring[kid].decrypt(raw[:12], raw[12:], AAD).decode()
    except InvalidTag as exc:
        raise ValueError(f"secret does not decrypt under key {kid!r}: wrong key or damaged value") from exc
