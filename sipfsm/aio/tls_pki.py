"""A throwaway public-key infrastructure for tests and ``sipfsm demo --tls``: one CA and
certificates it signs, written as PEM files into a directory.

Uses the ``cryptography`` package (the ``tls`` extra: ``pip install 'sipfsm[tls]'``), imported
only when a certificate is made.  The keys are EC P-256, the certificates valid for one day;
nothing here is fit for production.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipfsm.errors import ConfigError

__all__ = ["Issued", "TestPki", "make_pki", "throwaway_tls"]


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its key, as PEM files."""

    cert_file: Path
    key_file: Path


@dataclass(frozen=True, slots=True)
class TestPki:
    """The CA certificate (``ca_file``: what a peer trusts) and what it issued."""

    __test__ = False  # not a pytest class

    directory: Path
    ca_file: Path
    ca_key_file: Path

    def issue(
        self,
        name: str,
        *,
        dns: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
        uris: tuple[str, ...] = (),
        common_name: str | None = None,
    ) -> Issued:
        """A certificate signed by this CA for ``dns`` names, ``ips`` and ``uris`` (RFC 5922
        §4: ``sip:example.com`` URI identities) in subjectAltName; none of them: no
        subjectAltName at all (the identity is then only the Common Name)."""
        return _issue(self, name, dns=dns, ips=ips, uris=uris, common_name=common_name)


def _modules() -> tuple[Any, Any, Any, Any]:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError:
        raise ConfigError(
            "making certificates needs the 'cryptography' package (pip install 'sipfsm[tls]')"
        ) from None
    return x509, hashes, serialization, ec


def _write_key(path: Path, key: Any, serialization: Any) -> None:
    path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    path.chmod(0o600)


def make_pki(directory: str | Path, *, ca_name: str = "sipfsm test CA") -> TestPki:
    """A new CA (key and self-signed certificate) in ``directory``."""
    x509, hashes, serialization, ec = _modules()
    from cryptography.x509.oid import NameOID

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    ca_file = folder / "ca.pem"
    ca_key_file = folder / "ca.key"
    ca_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(ca_key_file, key, serialization)
    return TestPki(folder, ca_file, ca_key_file)


def _issue(
    pki: TestPki,
    name: str,
    *,
    dns: tuple[str, ...],
    ips: tuple[str, ...],
    uris: tuple[str, ...],
    common_name: str | None,
) -> Issued:
    x509, hashes, serialization, ec = _modules()
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert = x509.load_pem_x509_certificate(pki.ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key_file.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                   ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
            critical=False,
        )
    )
    alt: list[Any] = [x509.DNSName(d) for d in dns]
    alt += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    alt += [x509.UniformResourceIdentifier(u) for u in uris]
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    cert_file = pki.directory / f"{safe}.pem"
    key_file = pki.directory / f"{safe}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_file, key, serialization)
    return Issued(cert_file, key_file)


def throwaway_tls(directory: str | Path, domain: str) -> tuple[Any, Any]:
    """A CA and a server certificate for ``domain`` (and the loopback addresses) in
    ``directory``: the server's ``SSLContext`` and the client's
    :class:`~sipfsm.aio.tls.TlsSettings` that trust it (``sipfsm demo --tls``)."""
    from sipfsm.aio.tls import TlsSettings, server_context

    pki = make_pki(directory, ca_name=f"sipfsm throwaway CA for {domain}")
    issued = pki.issue(domain, dns=(domain,), uris=(f"sip:{domain}",),
                       ips=("127.0.0.1", "::1"))
    return (server_context(issued.cert_file, issued.key_file),
            TlsSettings(ca_file=pki.ca_file, server_name=domain))
