"""A throwaway CA and server certificate for the sandbox, so replication runs over verified TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )


def make_ca(common_name: str = "hapanel sandbox CA") -> tuple[bytes, bytes]:
    """Returns (certificate PEM, key PEM) of a self-signed CA valid for ten years."""
    key = _key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def make_server_cert(
    ca_pem: bytes, ca_key_pem: bytes, ips: list[str], names: list[str], days: float = 3650
) -> tuple[bytes, bytes]:
    """Returns (certificate PEM, key PEM) signed by the CA, with a SAN for every IP and name."""
    ca = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    key = _key()
    now = dt.datetime.now(dt.UTC)
    san = [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips] + [x509.DNSName(n) for n in names]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else ips[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, now + dt.timedelta(days=days)) - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


def write_pki(folder: Path, ips: list[str], names: list[str]) -> dict[str, Path]:
    """Writes ca.pem, server-cert.pem and server-key.pem into folder; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_pem, ca_key = make_ca()
    cert, key = make_server_cert(ca_pem, ca_key, ips, names)
    paths = {"ca": folder / "ca.pem", "cert": folder / "server-cert.pem", "key": folder / "server-key.pem"}
    paths["ca"].write_bytes(ca_pem)
    (folder / "ca-key.pem").write_bytes(ca_key)
    paths["cert"].write_bytes(cert)
    paths["key"].write_bytes(key)
    return paths


def reissue_server_cert(folder: Path, days: float) -> None:
    """Replaces folder's server-cert.pem and server-key.pem with a certificate from its CA, for the same names and
    addresses, valid `days` from now (a past date when negative): a certificate about to expire, or expired."""
    current = x509.load_pem_x509_certificate((folder / "server-cert.pem").read_bytes())
    san = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    cert, key = make_server_cert((folder / "ca.pem").read_bytes(), (folder / "ca-key.pem").read_bytes(), ips,
                                 san.get_values_for_type(x509.DNSName), days=days)
    (folder / "server-cert.pem").write_bytes(cert)
    (folder / "server-key.pem").write_bytes(key)
