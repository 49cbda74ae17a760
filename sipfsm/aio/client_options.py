"""Command-line options for TLS and RFC 5626 outbound (``sipfsm register / unregister / query``),
kept apart from :mod:`sipfsm.cli` so that the CLI registers them with two lines.

``--transport tls`` / ``--registrar tls:HOST:PORT`` pick TLS; ``--ca-file`` replaces the system
trust store; ``--cert`` / ``--key`` offer a client certificate; ``--tls-server-name`` overrides
the SIP domain the server must prove (RFC 5922 §7.3: by default the outbound proxy's domain, else
the registrar URI's, else the AOR's).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sipfsm.aio.tls import TlsSettings
from sipfsm.errors import ConfigError
from sipfsm.message import SipUri

__all__ = ["add_tls_arguments", "tls_settings_from", "uses_tls"]


def add_tls_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("TLS (RFC 5922)")
    group.add_argument("--ca-file", metavar="PEM",
                       help="trusted CA certificates (default: the system store)")
    group.add_argument("--cert", metavar="PEM", help="client certificate to offer")
    group.add_argument("--key", metavar="PEM", help="private key of --cert")
    group.add_argument("--tls-server-name", metavar="DOMAIN",
                       help="the SIP domain the server's certificate must name (default: the "
                            "outbound proxy's, else the registrar's domain)")


def uses_tls(transport: str | None, proxy: SipUri | None) -> bool:
    if (transport or "").upper() == "TLS":
        return True
    return proxy is not None and (proxy.params.get("transport") or "").lower() == "tls"


def tls_settings_from(
    args: argparse.Namespace,
    *,
    aor: SipUri,
    registrar_uri: SipUri | None,
    outbound_proxy: SipUri | None,
) -> TlsSettings:
    """The TLS settings the options ask for (validated: files must exist)."""
    server_name = getattr(args, "tls_server_name", None)
    if server_name is not None and not server_name.strip():
        raise ConfigError("--tls-server-name must not be empty")
    if server_name is None:
        hop = outbound_proxy or registrar_uri
        server_name = hop.host if hop is not None else aor.host

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    return TlsSettings(
        ca_file=path(getattr(args, "ca_file", None)),
        cert_file=path(getattr(args, "cert", None)),
        key_file=path(getattr(args, "key", None)),
        server_name=server_name.strip(),
    )
