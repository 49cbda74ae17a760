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
from typing import Any

from sipfsm.aio.tls import TlsSettings
from sipfsm.errors import ConfigError
from sipfsm.message import SipUri

__all__ = [
    "add_outbound_arguments",
    "add_tls_arguments",
    "machine_identity",
    "outbound_options_from",
    "tls_settings_from",
    "uses_tls",
]


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


def add_outbound_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("RFC 5626 outbound")
    group.add_argument("--outbound", action="store_true",
                       help="register with +sip.instance and reg-id over one flow per edge "
                            "proxy, keep the flows alive (CRLF / STUN) and recover them")
    group.add_argument("--instance-id", metavar="URN",
                       help="the instance id (urn:uuid:...; default: derived from the AOR and "
                            "this machine, stable across runs)")
    group.add_argument("--edge", action="append", default=[], metavar="URI",
                       help="an edge proxy, e.g. sip:192.0.2.1:5061;transport=tls (repeatable: "
                            "one flow each; default: --outbound-proxy, else --registrar)")
    group.add_argument("--keepalive", type=float, default=None, metavar="SECONDS",
                       help="keep-alive period when the registrar sends no Flow-Timer "
                            "(default: RFC 5626's 95-120 s on TCP/TLS, 24-29 s on UDP)")


def machine_identity() -> str:
    """Something stable for this machine (``/etc/machine-id``, else the host name)."""
    import socket

    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeError):
            continue
        if text:
            return text
    return socket.gethostname()


def outbound_options_from(args: argparse.Namespace, *, aor: SipUri, registrar: Any,
                          outbound_proxy: SipUri | None) -> Any:
    """The ``--outbound`` options as :class:`~sipfsm.aio.outbound.OutboundOptions`."""
    from sipfsm.aio.outbound import OutboundOptions, edge_target
    from sipfsm.app import parse_sip_uri
    from sipfsm.outbound.registration import instance_urn, validate_instance

    if args.keepalive is not None and not 0 < args.keepalive <= 3600:
        raise ConfigError(f"--keepalive {args.keepalive}: give 0 < SECONDS <= 3600")
    instance = (validate_instance(args.instance_id) if args.instance_id
                else instance_urn(f"{aor}|{machine_identity()}"))
    edges = [parse_sip_uri(text, "--edge") for text in args.edge]
    if not edges and outbound_proxy is not None:
        edges = [outbound_proxy]
    if not edges and registrar is not None:
        host = f"[{registrar.host}]" if ":" in registrar.host else registrar.host
        edges = [parse_sip_uri(
            f"sip:{host}:{registrar.port};transport={registrar.transport.lower()};lr",
            "--registrar")]
    if not edges:
        raise ConfigError("--outbound needs --edge, --outbound-proxy or --registrar")
    for edge in edges:
        edge_target(edge)  # validated now: a ConfigError names the bad one
    return OutboundOptions(instance_id=instance, edges=tuple(edges), keepalive=args.keepalive)
