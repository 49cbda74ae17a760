"""``TlsTransport``: SIP over TLS (RFC 3261 §26.3.1, RFC 5922) on asyncio + :mod:`ssl`.

The connection pool, framing, queueing and reconnection are :class:`~sipfsm.aio.TcpTransport`'s
(this is a subclass, with the RFC 5626 keep-alives of
:class:`~sipfsm.aio.keepalive.KeepAliveTcpTransport`); what TLS adds is here:

* the server's certificate chain is verified, always, against the system store or ``ca_file``;
* the server's identity is checked the RFC 5922 way (:func:`sip_domain_identities`,
  :func:`identity_matches`): the SIP domain the client means to reach (``server_name``: the
  registrar's or the outbound proxy's domain) against the certificate's subjectAltName URI
  (``sip:domain``) entries, or its DNS entries when it has no such URI -- exact,
  case-insensitive, no wildcards, no suffixes; the Common Name only when there is no
  subjectAltName at all.  When that domain is an IP literal
  (``tls:192.0.2.1:5061`` without a registrar domain), the subjectAltName IP entries;
* a client certificate is offered when ``cert_file`` / ``key_file`` are given;
* a failed verification or a wrong identity is a :class:`~sipfsm.errors.CertificateError`
  (reported to the receiver like any transport error, and to ``on_certificate_error``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sipfsm.aio._net import WILDCARDS, bare_host, is_ip_literal
from sipfsm.aio.keepalive import KeepAliveTcpTransport, _KeepAliveConnection
from sipfsm.aio.tcp import _Connection
from sipfsm.errors import CertificateError, ConfigError, TransportError
from sipfsm.ports import Receiver, Target

__all__ = [
    "TlsSettings",
    "TlsTransport",
    "client_context",
    "identity_matches",
    "server_context",
    "sip_domain_identities",
]

_log = logging.getLogger("sipfsm.aio")

SPEC_IDENTITIES = "RFC5922-7.1-DOMAIN-IDENTITIES"
SPEC_COMPARE = "RFC5922-7.2-COMPARE-IDENTITIES"
SPEC_CLIENT = "RFC5922-7.3-CLIENT-CHECKS-SERVER"
SPEC_VERIFY = "RFC5922-7.3-VALIDATE-CHAIN"

PeerCertificate = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """How the client authenticates the server and itself.

    ``server_name``: the SIP domain to authenticate (RFC 5922 §7.3); None: each target's host.
    ``ca_file``: PEM bundle of trusted CAs; None: the system store."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    server_name: str | None = None

    def __post_init__(self) -> None:
        for name in ("ca_file", "cert_file", "key_file"):
            value = getattr(self, name)
            if value is not None and not Path(value).is_file():
                raise ConfigError(f"TLS {name.replace('_', ' ')} {value} is not a readable file")
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError("a client certificate needs both --cert and --key")


def client_context(settings: TlsSettings) -> ssl.SSLContext:
    """An ``SSLContext`` that verifies the server's chain (TLS 1.2 or later); the identity is
    checked by :func:`identity_matches` after the handshake, not by OpenSSL's hostname rules
    (which accept wildcards and use the Common Name even when subjectAltName exists)."""
    try:
        context = ssl.create_default_context(
            ssl.Purpose.SERVER_AUTH,
            cafile=str(settings.ca_file) if settings.ca_file is not None else None,
        )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_REQUIRED
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if settings.cert_file is not None and settings.key_file is not None:
            context.load_cert_chain(str(settings.cert_file), str(settings.key_file))
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"cannot load TLS files: {exc}") from None
    return context


def server_context(
    cert_file: Path | str,
    key_file: Path | str,
    *,
    ca_file: Path | str | None = None,
    require_client_certificate: bool = False,
) -> ssl.SSLContext:
    """An ``SSLContext`` for a TLS server (the embedded registrar, tests)."""
    try:
        context = ssl.create_default_context(
            ssl.Purpose.CLIENT_AUTH, cafile=str(ca_file) if ca_file is not None else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(cert_file), str(key_file))
        context.verify_mode = (ssl.CERT_REQUIRED if require_client_certificate
                               else ssl.CERT_OPTIONAL if ca_file is not None else ssl.CERT_NONE)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"cannot load TLS server files: {exc}") from None
    return context


# -- RFC 5922 §7: identities ---------------------------------------------------------------------


def _alt_names(cert: PeerCertificate) -> list[tuple[str, str]]:
    return [(str(kind), str(value)) for kind, value in cert.get("subjectAltName", ())]


def _common_names(cert: PeerCertificate) -> list[str]:
    names: list[str] = []
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                names.append(str(value))
    return names


def _sip_uri_domain(uri: str) -> str | None:
    """The host of a ``sip:`` URI identity with no user part, else None (RFC 5922 §7.1)."""
    scheme, colon, rest = uri.partition(":")
    if not colon or scheme.lower() != "sip" or "@" in rest:
        return None
    host = rest.split(";", 1)[0].split("?", 1)[0]
    if host.startswith("["):
        return host[1:].split("]", 1)[0] or None
    return host.split(":", 1)[0] or None


def sip_domain_identities(cert: PeerCertificate) -> tuple[str, ...]:
    """RFC 5922 §7.1: the SIP domain identities of a certificate (as ``getpeercert()`` returns
    it): each subjectAltName ``sip:`` URI without a user part gives its host; the dNSName
    entries are identities only when no such URI is there ("if and only if no other identity
    is found that matches the 'sip' URI type"); only when there is no subjectAltName at all,
    the Common Name."""
    alt = _alt_names(cert)
    if not alt:
        return tuple(_common_names(cert))
    uri_identities = [domain for kind, value in alt
                      if kind == "URI" and (domain := _sip_uri_domain(value)) is not None]
    if uri_identities:
        return tuple(uri_identities)
    return tuple(value for kind, value in alt if kind == "DNS")


def _normal(name: str) -> str:
    return bare_host(name.strip()).rstrip(".").lower()


def identity_matches(identities: Iterable[str], domain: str) -> bool:
    """RFC 5922 §7.2: ``domain`` equals one identity, case-insensitively, as a whole: no suffix
    matching and no wildcard expansion (``*.example.com`` matches only ``*.example.com``)."""
    wanted = _normal(domain)
    return bool(wanted) and any(_normal(identity) == wanted for identity in identities)


def ip_identity_matches(cert: PeerCertificate, address: str) -> bool:
    """An IP-literal target against the certificate's subjectAltName iPAddress entries."""
    try:
        wanted = ipaddress.ip_address(bare_host(address))
    except ValueError:
        return False
    for kind, value in _alt_names(cert):
        if kind == "IP Address":
            try:
                if ipaddress.ip_address(value.strip()) == wanted:
                    return True
            except ValueError:
                continue
    return False


def check_server_identity(cert: PeerCertificate | None, expected: str) -> None:
    """Raise :class:`CertificateError` unless ``cert`` authenticates ``expected``."""
    if not cert:
        raise CertificateError(
            f"TLS server for {expected} sent no certificate", spec_id=SPEC_CLIENT)
    if is_ip_literal(expected):
        if ip_identity_matches(cert, expected):
            return
        raise CertificateError(
            f"TLS certificate does not name IP address {bare_host(expected)} "
            f"(it names {_describe(cert)})", spec_id=SPEC_CLIENT)
    identities = sip_domain_identities(cert)
    if identity_matches(identities, expected):
        return
    raise CertificateError(
        f"TLS certificate is not for {_normal(expected)} (it names {_describe(cert)})",
        spec_id=SPEC_COMPARE)


def _describe(cert: PeerCertificate) -> str:
    alt = _alt_names(cert)
    names = [f"{kind}:{value}" for kind, value in alt] or [
        f"CN={cn}" for cn in _common_names(cert)]
    return ", ".join(names) or "nothing"


# -- the transport --------------------------------------------------------------------------------


class _TlsConnection(_KeepAliveConnection):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        owner = cast(TlsTransport, self.owner)
        if self.outgoing and self.target is not None:
            expected = owner.expected_identity(self.target)
            try:
                check_server_identity(transport.get_extra_info("peercert"), expected)
            except CertificateError as error:
                self.transport = cast(asyncio.Transport, transport)
                owner._certificate_failed(self, error)
                return
        super().connection_made(transport)


class TlsTransport(KeepAliveTcpTransport):
    """The ``Transport`` port over TLS.  Create with ``await TlsTransport.open(receiver, ...)``.

    ``settings`` (client role): verification and identity (see the module docstring).
    ``server_ssl``: an SSLContext to accept TLS connections with (a server; ``listen=True``).
    ``on_certificate_error(target, error)``: called once per certificate failure."""

    _connection_class = _TlsConnection

    def __init__(self, receiver: Receiver, **options: Any) -> None:
        settings: TlsSettings = options.pop("settings", None) or TlsSettings()
        self.settings = settings
        self._client_ssl: ssl.SSLContext | None = options.pop("client_ssl", None)
        self._server_ssl: ssl.SSLContext | None = options.pop("server_ssl", None)
        self.on_certificate_error: Callable[[Target, CertificateError], None] | None = (
            options.pop("on_certificate_error", None))
        self.certificate_errors: list[CertificateError] = []
        super().__init__(receiver, **options)

    @classmethod
    async def open(  # type: ignore[override]
        cls,
        receiver: Receiver,
        *,
        settings: TlsSettings | None = None,
        server_ssl: ssl.SSLContext | None = None,
        local_host: str = "0.0.0.0",
        local_port: int = 0,
        listen: bool = False,
        connect_timeout: float = 10.0,
        answer_pings: bool = False,
        on_pong: Callable[[Target], None] | None = None,
        on_flow_closed: Callable[[Target], None] | None = None,
        on_certificate_error: Callable[[Target, CertificateError], None] | None = None,
        trace: Any = None,
    ) -> TlsTransport:
        """A TLS transport; ``listen=True`` needs ``server_ssl``.  A client normally does not
        listen: its responses come back on the connection it opened (RFC 3261 §18.2.2)."""
        settings = settings or TlsSettings()
        self = cls(
            receiver, settings=settings, client_ssl=client_context(settings),
            server_ssl=server_ssl, local_host=local_host, connect_timeout=connect_timeout,
            answer_pings=answer_pings, on_pong=on_pong, on_flow_closed=on_flow_closed,
            on_certificate_error=on_certificate_error, trace=trace,
        )
        if listen:
            if server_ssl is None:
                raise ConfigError("a listening TLS transport needs a server certificate")
            await self._start_listening(local_port)
        return self

    @property
    def name(self) -> str:
        return "TLS"

    def expected_identity(self, target: Target) -> str:
        """RFC 5922 §7.3: the domain the client meant to reach, else the target's host."""
        return self.settings.server_name or target.host

    # -- internals ----------------------------------------------------------------------------

    async def _start_listening(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        host = self._local_host or "0.0.0.0"
        try:
            self._server = await loop.create_server(
                lambda: self._connection_class(self, None), host, port, reuse_address=True,
                ssl=self._server_ssl,
            )
        except OSError as exc:
            raise TransportError(f"cannot listen on TLS {self._local_host}:{port}: {exc}") from exc
        self._listen_port = int(self._server.sockets[0].getsockname()[1])

    async def _open_connection(self, connection: _Connection, key: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        local_addr: Any = None
        if self._local_host not in WILDCARDS:
            local_addr = (self._local_host, 0)
        target = connection.target
        assert target is not None
        expected = self.expected_identity(target)
        # SNI carries the domain (RFC 6066 §3 forbids literal addresses there).
        sni = None if is_ip_literal(expected) else _normal(expected)
        context = self._client_ssl or client_context(self.settings)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await loop.create_connection(
                    lambda: connection, key[0], key[1], local_addr=local_addr, ssl=context,
                    server_hostname=sni or "", ssl_handshake_timeout=self._connect_timeout,
                )
        except TimeoutError as exc:
            connection.fail(f"TLS connect to {target} timed out", exc)
        except ssl.SSLCertVerificationError as exc:
            why = exc.verify_message or exc.reason or str(exc)
            error = CertificateError(
                f"TLS certificate of {target} not trusted: {why}", spec_id=SPEC_VERIFY)
            self._certificate_failed(connection, error)
        except ssl.SSLError as exc:
            connection.fail(f"TLS handshake with {target} failed: {exc.reason or exc}", exc)
        except OSError as exc:
            connection.fail(f"TLS connect to {target} failed: {exc}", exc)

    def _certificate_failed(self, connection: _Connection, error: CertificateError) -> None:
        self.certificate_errors.append(error)
        connection.fail(error.message, error)

    def _report(self, connection: _Connection, message: str, cause: BaseException | None) -> None:
        if not isinstance(cause, CertificateError):
            super()._report(connection, message, cause)
            return
        if self._closed or connection.target is None:
            return
        target = connection.target
        if self.on_certificate_error is not None:
            try:
                self.on_certificate_error(target, cause)
            except Exception:
                _log.exception("on_certificate_error failed for %s", target)
        try:
            self._receiver.transport_error(target, cause)
        except Exception:
            _log.exception("receiver failed on a transport error for %s", target)

