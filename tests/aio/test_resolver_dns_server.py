"""DnsResolver with dnspython's real asynchronous resolver against a tiny DNS server on
127.0.0.1 (built with dnspython's message API)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, cast

import dns.asyncresolver
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from sipfsm.aio import DnsResolver, ResolveError
from sipfsm.ports import Target

from .support import ScriptedRandom, run

ZONE: Mapping[tuple[str, str], Sequence[str]] = {
    ("example.test", "NAPTR"): [
        '10 10 "s" "SIP+D2U" "" _sip._udp.example.test.',
        '10 20 "s" "SIP+D2T" "" _sip._tcp.example.test.',
    ],
    ("_sip._udp.example.test", "SRV"): [
        "1 0 5060 b.example.test.",
        "0 0 5062 a.example.test.",
    ],
    ("_sip._tcp.example.test", "SRV"): ["0 0 5060 a.example.test."],
    ("a.example.test", "A"): ["127.0.0.2"],
    ("a.example.test", "AAAA"): ["::1"],
    ("b.example.test", "A"): ["127.0.0.3"],
    ("plain.test", "A"): ["127.0.0.4"],
}
GARBLED = "garbled.test"


class DnsServer(asyncio.DatagramProtocol):
    def __init__(self, zone: Mapping[tuple[str, str], Sequence[str]]) -> None:
        self.zone = zone
        self.names = {name for name, _ in zone}
        self.questions: list[tuple[str, str]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        assert self.transport is not None
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.questions.append((name, rdtype))
        if name == GARBLED:
            self.transport.sendto(data[:2] + b"\x81\x80\xff\xff", addr)
            return
        response = dns.message.make_response(query)
        records = self.zone.get((name, rdtype))
        if records:
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, "IN", rdtype, list(records))
            )
        elif name not in self.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(response.to_wire(), addr)


async def serve(
    timeout: float = 2.0,
) -> tuple[asyncio.DatagramTransport, DnsServer, DnsResolver]:
    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(
        lambda: DnsServer(ZONE), local_addr=("127.0.0.1", 0)
    )
    backend = dns.asyncresolver.Resolver(configure=False)
    backend.nameservers = ["127.0.0.1"]
    backend.port = transport.get_extra_info("sockname")[1]
    resolver = DnsResolver(backend=backend, random=ScriptedRandom(), timeout=timeout)
    return transport, server, resolver


@pytest.mark.requirement("RFC3263-4.1-NAPTR-QUERY-RESOLVER")
@pytest.mark.requirement("RFC3263-4.2-SRV-USAGE-RULES-RESOLVER")
def test_naptr_srv_a_aaaa_through_a_real_dns_exchange() -> None:
    async def scenario() -> tuple[list[Target], list[tuple[str, str]]]:
        transport, server, resolver = await serve()
        try:
            return await resolver.resolve_targets("example.test"), server.questions
        finally:
            transport.close()

    targets, questions = run(scenario())
    assert targets == [
        Target("UDP", "127.0.0.2", 5062),
        Target("UDP", "::1", 5062),
        Target("UDP", "127.0.0.3", 5060),
        Target("TCP", "127.0.0.2", 5060),
        Target("TCP", "::1", 5060),
    ]
    assert questions[0] == ("example.test", "NAPTR")


@pytest.mark.requirement("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def test_no_naptr_no_srv_then_a_through_a_real_dns_exchange() -> None:
    async def scenario() -> list[Target]:
        transport, _, resolver = await serve()
        try:
            return await resolver.resolve_targets("plain.test")
        finally:
            transport.close()

    assert run(scenario()) == [Target("UDP", "127.0.0.4", 5060)]


def test_nxdomain_and_garbled_answers_are_resolve_errors() -> None:
    async def scenario() -> list[Exception]:
        transport, _, resolver = await serve(timeout=0.3)
        errors: list[Exception] = []
        try:
            for name in ("missing.test", GARBLED):
                try:
                    await resolver.resolve_targets(name, port=5060)
                except ResolveError as exc:
                    errors.append(exc)
        finally:
            transport.close()
        return errors

    errors = run(scenario(), timeout=10)
    assert len(errors) == 2
