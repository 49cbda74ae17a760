"""Shared helpers for the asyncio adapter tests.  They live in the package (the conformance
checks use them too): sipfsm.conformance.aio_support and sipfsm.conformance.dns_support."""

from __future__ import annotations

from sipfsm.conformance.aio_support import (
    TIMEOUT,
    RecordingReceiver,
    ScriptedRandom,
    TcpRegistrar,
    UdpResponder,
    closed_tcp_port,
    closed_udp_port,
    has_ipv6,
    ok,
    read_message,
    register,
    run,
    udp_responder,
)
from sipfsm.conformance.dns_support import (
    DOMAIN,
    EXAMPLE_NAPTR,
    SRV_ZONE,
    DnsServer,
    FakeDns,
    dns_error,
    locate,
    rdata,
    resolver,
    serve_dns,
)

__all__ = [
    "DOMAIN",
    "EXAMPLE_NAPTR",
    "SRV_ZONE",
    "TIMEOUT",
    "DnsServer",
    "FakeDns",
    "RecordingReceiver",
    "ScriptedRandom",
    "TcpRegistrar",
    "UdpResponder",
    "closed_tcp_port",
    "closed_udp_port",
    "dns_error",
    "has_ipv6",
    "locate",
    "ok",
    "rdata",
    "read_message",
    "register",
    "resolver",
    "run",
    "serve_dns",
    "udp_responder",
]
