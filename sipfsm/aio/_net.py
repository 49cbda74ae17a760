"""Address helpers shared by the asyncio transports and the resolver."""

from __future__ import annotations

import ipaddress
import socket

from sipfsm.ports import HostPort

__all__ = [
    "WILDCARDS",
    "bare_host",
    "default_port",
    "is_ip_literal",
    "route_source",
    "unmapped",
]

WILDCARDS = frozenset({"", "0.0.0.0", "::"})
_MAPPED_PREFIX = "::ffff:"


def bare_host(host: str) -> str:
    """``[2001:db8::1]`` -> ``2001:db8::1``; anything else unchanged."""
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1]
    return host


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(bare_host(host).split("%", 1)[0])
    except ValueError:
        return False
    return True


def unmapped(host: str) -> str:
    """An IPv4-mapped IPv6 address (what a dual-stack socket reports) as plain IPv4."""
    if host.lower().startswith(_MAPPED_PREFIX) and "." in host:
        return host[len(_MAPPED_PREFIX) :]
    return host


def default_port(transport: str) -> int:
    """RFC 3261 §19.1.2: 5061 for TLS, 5060 otherwise."""
    return 5061 if transport.upper() == "TLS" else 5060


def route_source(target: HostPort) -> str | None:
    """The source address the kernel would pick to reach ``target`` (an IP literal), found by
    connecting a throwaway UDP socket (no packet is sent); None when there is no route."""
    host = unmapped(bare_host(target.host))
    if not is_ip_literal(host):
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((host, target.port or 9))
            return str(probe.getsockname()[0])
    except OSError:
        return None
