"""PEM certificates and keys as an admin pastes them: parse, describe, check expiry and key match.

No Django. Every function raises `PemError` with a sentence an admin can act on.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

WARN_DAYS = 30
# A CA bundle of a few dozen certificates fits; a pasted log file or disk image does not.
MAX_CHARS = 64 * 1024
_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")


class PemError(ValueError):
    pass


@dataclass(frozen=True)
class CertInfo:
    subject: str
    not_after: dt.datetime

    def days_left(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).total_seconds() / 86400

    def describe(self) -> str:
        return f"{self.subject}, valid until {self.not_after:%Y-%m-%d}"


def blocks(text: str, labels: tuple[str, ...]) -> tuple[str, bool]:
    """(the PEM blocks of `text` whose label ends with one of `labels`, re-wrapped; whether the text changed
    beyond its line breaks). A byte-order mark, notes before or after, and blocks of other kinds are dropped: the TLS
    library the monitor polls with takes ASCII PEM only, and an editor's BOM made every poll fail."""
    if len(text) > MAX_CHARS:
        raise PemError(f"This text is longer than {MAX_CHARS // 1024} kB: PEM certificates and keys are a few kB.")
    text = text.replace("\r\n", "\n").replace("\ufeff", "")
    kept = []
    for match in _BLOCK.finditer(text):
        label, body = match.group(1), match.group(2)
        if not label.endswith(labels):
            continue
        if ":" in body and body.isascii():  # RFC 1421 headers (an encrypted key): kept as they are
            kept.append(f"-----BEGIN {label}-----{body}-----END {label}-----")
            continue
        if not _BASE64.match(body):
            raise PemError(f"The {label} block holds characters that are not base64: paste it as the file has it.")
        data = "".join(body.split())
        lines = [data[i:i + 64] for i in range(0, len(data), 64)]
        kept.append("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]))
    if not kept:
        return "", bool(text.strip())
    normalised = "\n".join(kept)
    return normalised, " ".join(normalised.split()) != " ".join(text.split())


def has_private_key(text: str) -> bool:
    return "PRIVATE KEY-----" in text


def _text(pem: str | bytes) -> bytes:
    data = pem.encode("utf-8", "replace") if isinstance(pem, str) else bytes(pem)
    return data.strip()


def certificates(pem: str | bytes) -> list[x509.Certificate]:
    data = _text(pem)
    if b"-----BEGIN" not in data:
        raise PemError("This is not PEM text: it should start with -----BEGIN CERTIFICATE-----.")
    if b"PRIVATE KEY-----" in data and b"CERTIFICATE-----" not in data:
        raise PemError("This is a private key, not a certificate.")
    try:
        found = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise PemError(f"This certificate does not parse ({_reason(exc)}).") from exc
    if not found:
        raise PemError("No certificate found in this PEM text.")
    return found


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:120] or type(exc).__name__


def info(cert: x509.Certificate) -> CertInfo:
    try:
        subject = cert.subject.rfc4514_string() or "(no subject)"
    except ValueError:
        subject = "(unreadable subject)"
    return CertInfo(subject=subject, not_after=cert.not_valid_after_utc)


def check_certificates(pem: str | bytes, now: dt.datetime | None = None) -> tuple[list[CertInfo], list[str]]:
    """(infos, warnings) of every certificate in `pem`; raises PemError for junk or an expired one."""
    infos = [info(c) for c in certificates(pem)]
    warnings = []
    for item in infos:
        days = item.days_left(now)
        if days < 0:
            raise PemError(f"This certificate expired on {item.not_after:%Y-%m-%d} ({item.subject}).")
        if days < WARN_DAYS:
            warnings.append(f"This certificate expires in {int(days)} days, on {item.not_after:%Y-%m-%d} "
                            f"({item.subject}): renew it soon.")
    return infos, warnings


def private_key(pem: str | bytes):
    data = _text(pem)
    if b"PRIVATE KEY-----" not in data:
        raise PemError("This is not a PEM private key: it should start with -----BEGIN ... PRIVATE KEY-----.")
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # encrypted key
        raise PemError("This private key is protected by a passphrase: paste it unencrypted.") from exc
    except Exception as exc:  # noqa: BLE001 (the backend raises odd types for odd input)
        raise PemError(f"This private key does not parse ({_reason(exc)}).") from exc


def _public_bytes(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def check_key_matches(cert_pem: str | bytes, key_pem: str | bytes) -> None:
    key = private_key(key_pem)
    cert = certificates(cert_pem)[0]
    if _public_bytes(key.public_key()) != _public_bytes(cert.public_key()):
        raise PemError("This key does not belong to the client certificate (their public keys differ).")


def summary(pem: str) -> str:
    """One line for the change log: what the PEM holds, never its body."""
    if not pem:
        return ""
    try:
        return "; ".join(i.describe() for i in map(info, certificates(pem)))
    except PemError:
        return "(unparseable PEM)"
